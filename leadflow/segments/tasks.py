from django.tasks import task


@task
def refresh_segments_task() -> int:
    """Wake a worker up: it re-evaluates the leads queued as possibly changed (claimed:
    safe on N workers), as its periodic tick does."""
    from leadflow.segments.services import refresh_due

    return refresh_due()


@task
def build_segments_task() -> int:
    """Wake a worker up: it rebuilds the segments waiting for it (claimed: delivered
    twice, each builds once; lost, the periodic tick builds them)."""
    from leadflow.segments.builds import run_due

    return run_due()
