from django.tasks import task


@task
def refresh_segments_task() -> int:
    """Wake a worker up: it re-evaluates the leads queued as possibly changed (claimed:
    safe on N workers), as its periodic tick does."""
    from leadflow.segments.services import refresh_due

    return refresh_due()
