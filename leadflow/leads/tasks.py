from django.tasks import task

from leadflow.leads import dedupe


@task
def refresh_duplicates_task(lead_ids: list[int] | None = None) -> int:
    """Suggest likely duplicates for these leads (ids; deleted ones are skipped), or for
    all leads when none are given. Safe to run twice: known pairs are not repeated."""
    if lead_ids is None:
        return dedupe.refresh_all()
    return dedupe.refresh_for(lead_ids)
