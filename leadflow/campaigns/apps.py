from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CampaignsConfig(AppConfig):
    name = "leadflow.campaigns"
    label = "campaigns"
    verbose_name = gettext_lazy("Campaigns")

    def ready(self) -> None:
        # Hooks of leads, which stands below campaigns (docs/architecture.md, "Layers").
        from leadflow.campaigns import services, steps
        from leadflow.campaigns.erasure import forget_in_enrollment_errors
        from leadflow.leads import signals
        from leadflow.leads.privacy import register_store

        register_store(forget_in_enrollment_errors)
        steps.register_builtins()
        _register_reasons()

        from leadflow.campaigns.entry import on_segment_changed
        from leadflow.segments.signals import membership_changed

        membership_changed.connect(on_segment_changed, dispatch_uid="campaigns.segments")
        signals.merging.connect(services.on_merging, dispatch_uid="campaigns.merging")
        signals.merge_undone.connect(services.on_merge_undone,
                                     dispatch_uid="campaigns.merge_undone")


def _register_reasons() -> None:
    """The reasons services.py writes when an enrollment ends, in the reader's words."""
    from django.utils.translation import gettext as _

    from leadflow.leads.labels import register_reason
    from leadflow.tracking.events import label

    register_reason(r"completed", lambda m: _("all steps completed"))
    register_reason(r"left the segment", lambda m: _("left the segment"))
    register_reason(r"entered again", lambda m: _("entered the campaign again"))
    register_reason(r"step removed", lambda m: _("its step was removed"))
    register_reason(r"lead deleted", lambda m: _("lead deleted"))
    register_reason(r"campaign stopped", lambda m: _("campaign stopped"))
    register_reason(r"merged into another lead", lambda m: _("merged into another lead"))
    register_reason(r"goal reached: (.+)",
                    lambda m: _("goal reached: %(goal)s") % {"goal": label(m[1])})
    register_reason(r"step (\d+): (.*)", lambda m: _("step %(position)s: %(error)s") % {
        "position": m[1], "error": m[2]})
