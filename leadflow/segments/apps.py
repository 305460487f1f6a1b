from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class SegmentsConfig(AppConfig):
    name = "leadflow.segments"
    label = "segments"
    verbose_name = gettext_lazy("Segments")

    def ready(self) -> None:
        # Hooks of the apps below segments (docs/architecture.md, "Layers").
        from leadflow.leads import signals as leads_signals
        from leadflow.leads.privacy import register_store
        from leadflow.lists import signals as lists_signals
        from leadflow.scoring.signals import scores_rebuilt
        from leadflow.segments import hooks
        from leadflow.segments.erasure import forget_memberships

        register_store(forget_memberships)
        leads_signals.merging.connect(hooks.on_merging, dispatch_uid="segments.merging")
        leads_signals.merge_undone.connect(hooks.on_merge_undone,
                                           dispatch_uid="segments.merge_undone")
        leads_signals.fields_changed.connect(hooks.on_fields_changed,
                                             dispatch_uid="segments.fields_changed")
        scores_rebuilt.connect(hooks.on_scores_rebuilt, dispatch_uid="segments.scores")
        lists_signals.members_changed.connect(hooks.on_list_changed,
                                              dispatch_uid="segments.lists")
        _register_reasons()


def _register_reasons() -> None:
    """The reasons membership history stores (in English), in the reader's words."""
    from django.utils.translation import gettext as _

    from leadflow.leads.labels import register_reason

    register_reason(r"filter", lambda m: _("matches the filter"))
    register_reason(r"no longer matches", lambda m: _("no longer matches the filter"))
    register_reason(r"rebuild", lambda m: _("segment rebuilt"))
    register_reason(r"time window expired", lambda m: _("time window expired"))
    register_reason(r"added by (.+)", lambda m: _("added by %(who)s") % {"who": m[1]})
    register_reason(r"removed by (.+)", lambda m: _("removed by %(who)s") % {"who": m[1]})
    register_reason(r"merged into another lead", lambda m: _("merged into another lead"))
