from django.tasks import task

from leadflow.core import periodic


@task
def run_due_enrollments_task() -> int:
    """Wake a worker up: it advances every due campaign step (claimed atomically: safe on
    N workers), and sends the emails they queue, as its periodic tick does."""
    return periodic.tick()
