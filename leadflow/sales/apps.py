from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SalesConfig(AppConfig):
    """A rep's work on a lead: logged touches, tasks and their reminders, opportunities.
    Its tables hang off the lead by foreign key, so merges move them and erasure deletes
    (tasks) or blanks (opportunities) them with the lead's other rows (leads.merge
    `_relations`); no store hook is needed."""

    name = "leadflow.sales"
    label = "sales"
    verbose_name = gettext_lazy("Sales")
