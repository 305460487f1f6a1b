"""The lifecycle stages and their written definitions (shared by marketing and sales).

They map onto the demand waterfall: inquiry (new) -> MQL -> SAL (sales accepted) -> SQL ->
opportunity -> won; nurture, disqualified and lost sit beside it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    NEW = "new", _("New")
    MQL = "mql", _("MQL")
    SAL = "sal", _("Sales accepted")
    SQL = "sql", _("SQL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    WON = "won", _("Customer (won)")
    LOST = "lost", _("Lost")
    NURTURE = "nurture", _("Nurture")
    DISQUALIFIED = "disqualified", _("Disqualified")


DEFINITIONS = {
    Stage.NEW: _("Showed interest (an inquiry): captured, not yet qualified."),
    Stage.MQL: _("Marketing qualified: in the target and scored at or above the MQL "
                 "threshold; marketing hands it to sales."),
    Stage.SAL: _("Sales accepted the hand-off and will contact the lead."),
    Stage.SQL: _("Sales confirmed the interest (BANT met): ready for a sales process "
                 "(contact request, demo, meeting)."),
    Stage.OPPORTUNITY: _("A deal is being worked."),
    Stage.WON: _("Bought: a customer."),
    Stage.LOST: _("The deal was lost."),
    Stage.NURTURE: _("Not ready to buy yet (not a bad lead): marketing keeps nurturing it."),
    Stage.DISQUALIFIED: _("Irrelevant: no budget, product not adapted, or contact data "
                          "incorrect. A reason is recorded."),
}

# Stages a score may move a lead out of automatically; later stages are owned by people.
AUTOMATIC_FROM = (Stage.NEW, Stage.NURTURE)
CLOSED = (Stage.WON, Stage.LOST, Stage.DISQUALIFIED)
