from django.tasks import task

from leadflow.scoring import jobs


@task
def run_rescore_task(job_id: int) -> str:
    """Wake a worker for a queued re-score (jobs.run claims it: delivered twice, it runs
    once; lost, the periodic tick runs it)."""
    return jobs.run(job_id)
