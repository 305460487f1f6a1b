"""The lifecycle stages and their written definitions (shared by marketing and sales).

They map onto the demand waterfall: subscriber -> lead (an inquiry) -> MQL -> HMQL -> SAL
(sales accepted) -> SQL -> opportunity -> customer; nurture, disqualified and lost sit beside it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    MQL = "mql", _("MQL")
    HMQL = "hmql", _("HMQL")
    SAL = "sal", _("Sales accepted")
    SQL = "sql", _("SQL")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    LOST = "lost", _("Lost")
    NURTURE = "nurture", _("Nurture")
    DISQUALIFIED = "disqualified", _("Disqualified")


DEFINITIONS = {
    Stage.SUBSCRIBER: _("Subscribed to content (a newsletter, a blog) and nothing more yet: "
                        "known, not yet a lead."),
    Stage.LEAD: _("Showed interest (an inquiry): captured, not yet qualified."),
    Stage.MQL: _("Marketing qualified: in the target and scored at or above the MQL "
                 "threshold; marketing hands it to sales."),
    Stage.HMQL: _("Highly marketing qualified: an MQL who consumed content close to buying "
                  "(a pricing page, a demo request, an implementation guide)."),
    Stage.SAL: _("Sales accepted the hand-off and will contact the lead."),
    Stage.SQL: _("Sales confirmed the interest (BANT met): ready for a sales process "
                 "(contact request, demo, meeting)."),
    Stage.OPPORTUNITY: _("A deal is being worked."),
    Stage.CUSTOMER: _("Bought: a customer."),
    Stage.LOST: _("The deal was lost."),
    Stage.NURTURE: _("Not ready to buy yet (not a bad lead): marketing keeps nurturing it."),
    Stage.DISQUALIFIED: _("Irrelevant: no budget, product not adapted, or contact data "
                          "incorrect. A reason is recorded."),
}

# Stages a score may move a lead out of automatically; later stages are owned by people.
AUTOMATIC_FROM = (Stage.SUBSCRIBER, Stage.LEAD, Stage.NURTURE)
CLOSED = (Stage.CUSTOMER, Stage.LOST, Stage.DISQUALIFIED)

# A deal's outcome (the `won`/`lost` events) and the stage it puts the lead in.
OUTCOME_STAGE = {"won": Stage.CUSTOMER, "lost": Stage.LOST}
# Stage names of earlier versions, still read in import files ("won" became "customer").
STAGE_ALIASES = {"new": Stage.LEAD, "won": Stage.CUSTOMER}
