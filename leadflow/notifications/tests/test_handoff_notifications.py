"""A hand-off tells sales at once, in this order: assignment (if nobody owns the lead), an
in-app notification for the owner (or the lead's team), an email through the outbox."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role, Team
from leadflow.emails import outbox
from leadflow.emails.models import EmailMessage
from leadflow.leads.models import Lead
from leadflow.lifecycle.models import StageThreshold
from leadflow.notifications.models import Notification
from leadflow.routing.models import RoutingRule
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def mql_at_15(db):
    return StageThreshold.objects.create(stage="mql", min_score=15)


def test_an_unowned_lead_is_assigned_then_its_owner_notified_then_emailed(
        make_lead, make_user, score_rules, mql_at_15, smtp_server):
    team = Team.objects.create(name="France")
    RoutingRule.objects.create(name="FR", team=team, countries=["FR"])
    lead = make_lead("ana@example.com", country="FR")
    Lead.objects.filter(pk=lead.pk).update(owner=None)
    rep = make_user("rita", Role.SALES_REP, team=team, email="rita@example.com")

    record_event("demo_requested", lead=lead)

    lead.refresh_from_db()
    assert (lead.stage, lead.owner) == ("mql", rep)
    order = list(lead.events.filter(type__in=["handed_off", "assigned"])
                 .order_by("id").values_list("type", flat=True))
    assert order == ["handed_off", "assigned"]
    note = Notification.objects.get(user=rep)
    assert (note.kind, note.lead, note.read_at) == ("handoff", lead, None)
    assert note.payload["reasons"][0]["reason"] == "score 20 reached the MQL threshold (15)"

    message = EmailMessage.objects.get(to_email="rita@example.com")
    assert message.status == EmailMessage.Status.QUEUED  # nothing sent inside the request
    outbox.send_due()
    [mail] = smtp_server.messages
    assert mail["To"] == "rita@example.com"
    assert "handed off" in mail["Subject"]
    assert f"/leads/{lead.pk}/" in mail.get_payload()


def test_an_owned_lead_tells_its_owner_only(make_lead, make_user, score_rules, mql_at_15):
    team = Team.objects.create(name="France")
    owner = make_user("rita", team=team, email="rita@example.com")
    make_user("sam", team=team, email="sam@example.com")
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=owner, team=team)

    record_event("demo_requested", lead=lead)
    record_event("demo_requested", lead=lead)  # still MQL: no second hand-off

    assert list(Notification.objects.values_list("user__username", flat=True)) == ["rita"]


def test_an_unassigned_lead_of_a_team_without_reps_tells_the_team(make_lead, make_user,
                                                                   score_rules, mql_at_15):
    team = Team.objects.create(name="France")
    RoutingRule.objects.create(name="FR", team=team, countries=["FR"])
    manager = make_user("max", Role.SALES_MANAGER, team=team, email="max@example.com")
    lead = make_lead("ana@example.com", country="FR")

    record_event("demo_requested", lead=lead)

    lead.refresh_from_db()
    assert (lead.owner, lead.team) == (None, team)
    assert Notification.objects.get().user == manager


def test_the_notifications_page_and_api_mark_read(make_lead, make_user, api_for,
                                                  score_rules, mql_at_15):
    rep = make_user("rita", email="rita@example.com")
    other = make_user("sam")
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    record_event("demo_requested", lead=lead)
    note = Notification.objects.get(user=rep)

    client = Client()
    client.force_login(rep)
    page = client.get("/notifications/").content.decode()
    assert "ana@example.com" in page or str(lead) in page
    assert "score 20 reached the MQL threshold (15)" in page

    r = api_for(rep).get("/notifications")
    assert [n["id"] for n in r.json()] == [note.pk]
    assert api_for(other).post(f"/notifications/{note.pk}/read").status_code == 404
    r = api_for(rep).post(f"/notifications/{note.pk}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert api_for(rep).get("/notifications", unread="true").json() == []

    with_read = client.get("/notifications/").content.decode()
    assert "Mark read" not in with_read
