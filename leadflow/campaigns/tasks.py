from django.tasks import task

from leadflow.campaigns import services


@task
def run_due_enrollments_task() -> int:
    """Advance every due campaign step (claimed atomically: safe on N workers)."""
    return services.run_due_enrollments()
