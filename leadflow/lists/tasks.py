from django.tasks import task

from leadflow.core import periodic


@task
def run_due_broadcasts_task() -> int:
    """Wake a worker up: it queues every due one-off send (claimed: safe on N workers)
    and sends the outbox, as its periodic tick does."""
    return periodic.tick()
