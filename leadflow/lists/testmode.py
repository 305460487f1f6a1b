"""Test mode for campaigns: a campaign in test mode sends its emails only to the leads on
its test list; every other lead's email is recorded skipped (`not_test`) when its step
runs, so the walk goes on and the report counts it, and nothing reaches a real lead.
(One-off sends in test mode simply queue their test list's members: lists.broadcasts.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.lists.services import on_list

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

def held_back(test_mode: bool, test_list_id: int | None, lead_id: int) -> bool:
    """Whether test mode keeps this lead's email back (test mode on, lead not on the test
    list; with no test list, everyone's is kept back)."""
    return test_mode and lead_id not in on_list(test_list_id, [lead_id])


def skip_outside_test_list(lead: Lead, template: EmailTemplate, *, dedupe_key: str,
                           campaign_id: int | None) -> EmailMessage:
    """The message under `dedupe_key`, recorded skipped (`not_test`, on the lead's
    timeline) unless one exists already (then it is returned as it is)."""
    from leadflow.emails.services import send_template

    return send_template(lead, template, dedupe_key=dedupe_key, campaign_id=campaign_id,
                         skip=EmailMessage.Skip.NOT_TEST)
