from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoutingRule(models.Model):
    """Sends new leads matching the rule to a team; the team's reps share them round-robin.

    Rules are tried by ascending priority; empty criteria match every lead.
    """

    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    team = models.ForeignKey("accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE,
                             related_name="routing_rules")
    countries = models.JSONField(_("countries"), default=list, blank=True,
                                 help_text=_('ISO codes, e.g. ["FR", "BE"]; empty: any'))
    sources = models.JSONField(_("sources"), default=list, blank=True,
                               help_text=_("lead sources; empty: any"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    def matches(self, country: str, source: str) -> bool:
        return ((not self.countries or country in self.countries)
                and (not self.sources or source in self.sources))
