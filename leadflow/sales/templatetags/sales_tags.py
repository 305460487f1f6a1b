"""The rep's cards on the lead page (`{% sales_cards lead %}`): the page is leads', which
stands below sales, so the cards are rendered here: logging a touch, the lead's tasks and
its opportunities."""

from __future__ import annotations

from typing import Any

from django import template

from leadflow.accounts.permissions import may_close_deals
from leadflow.accounts.services import assignable_owners
from leadflow.core import clock
from leadflow.sales import followups, services
from leadflow.sales.models import Opportunity
from leadflow.tracking.events import CALL_OUTCOMES

register = template.Library()


@register.inclusion_tag("sales/_cards.html", takes_context=True)
def sales_cards(context: dict[str, Any], lead: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "request": context["request"], "csrf_token": context.get("csrf_token"),
        "lead": lead, "now": clock.now(),
        "outcomes": list(CALL_OUTCOMES.items()),
        "tasks": list(followups.tasks_of(lead)[:50]),
        "assignees": assignable_owners(user),
        "opportunities": services.opportunities(lead),
        "open_stage": Opportunity.Stage.OPEN,
        "may_close": may_close_deals(user),
    }
