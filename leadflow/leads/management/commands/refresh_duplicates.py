from django.core.management.base import BaseCommand

from leadflow.leads import dedupe


class Command(BaseCommand):
    help = "Recompute likely-duplicate suggestions over all leads (safe to run twice)."

    def handle(self, *args, **options) -> None:
        created = dedupe.refresh_all()
        self.stdout.write(f"{created} new duplicate suggestion(s).")
