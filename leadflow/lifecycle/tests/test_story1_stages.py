"""Story 1's stage part (PRODUCT.md, seed 004): Mickaël signs up (+5), opens an email
(+10: 15 points, MQL at the threshold), requests a demo (straight to SQL by the event
rule); his assigned rep is told at once, in the app and by email."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role, Team
from leadflow.core import clock
from leadflow.emails.models import EmailMessage
from leadflow.lifecycle.models import Handoff, StageChange, StageThreshold
from leadflow.notifications.models import Notification
from leadflow.routing.models import RoutingRule
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def test_mickael_goes_from_mql_to_sql_and_his_rep_is_told_at_once(make_lead, make_user,
                                                                   score_rules):
    StageThreshold.objects.create(stage="mql", min_score=15)
    StageThreshold.objects.create(kind="event", stage="sql", event_type="demo_requested",
                                  from_stages=["lead", "mql", "hmql", "sal", "nurture"])
    team = Team.objects.create(name="France")
    RoutingRule.objects.create(name="FR", team=team, countries=["FR"])
    rep = make_user("rita", Role.SALES_REP, team=team, email="rita@example.com")

    mickael = make_lead("mickael@example.com", country="FR")
    record_event("newsletter_signup", lead=mickael)
    mickael.refresh_from_db()
    assert (mickael.score, mickael.stage) == (5, "lead")

    clock.advance(timedelta(days=7))
    record_event("email_opened", lead=mickael)
    mickael.refresh_from_db()
    assert (mickael.score, mickael.stage, mickael.owner) == (15, "mql", rep)
    note = Notification.objects.get(user=rep, lead=mickael)
    assert EmailMessage.objects.filter(to_email="rita@example.com").count() == 1

    clock.advance(timedelta(days=14))
    record_event("demo_requested", lead=mickael)
    mickael.refresh_from_db()
    assert (mickael.score, mickael.stage) == (35, "sql")
    assert [(c.from_stage, c.to_stage, c.cause) for c in StageChange.objects.filter(
        lead=mickael).order_by("changed_at")] == [("lead", "mql", "score"),
                                                   ("mql", "sql", "event")]
    # One hand-off, on reaching MQL; the jump to SQL does not tell the rep twice.
    assert Handoff.objects.filter(lead=mickael).count() == 1
    assert Notification.objects.filter(lead=mickael).count() == 1
    assert note.payload["reasons"][0]["reason"] == "score 15 reached the MQL threshold (15)"
