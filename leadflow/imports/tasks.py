from django.tasks import task

from leadflow.imports import services


@task
def run_import_task(job_id: int) -> str:
    """Run an import job in the background: re-fetches it, tolerates its deletion, and
    does the work once even when delivered twice (services.run_job claims it)."""
    return services.run_job(job_id)
