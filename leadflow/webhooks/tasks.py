from django.tasks import task


@task
def deliver_due() -> int:
    """Wake a worker up: it sends the deliveries due (claimed: woken twice, each row is
    sent once; lost, the periodic tick sends them)."""
    from leadflow.webhooks.delivery import run_due

    return run_due()
