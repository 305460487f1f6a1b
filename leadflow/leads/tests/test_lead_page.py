"""One lead's page (/leads/<id>/) and marking its deal won or lost."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from leadflow.leads.models import Category, Lead
from leadflow.leads.services import upsert_lead
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.services import change_stage
from leadflow.routing.services import assign_lead
from leadflow.scoring.models import ScoreRule
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita", first_name="Rita", last_name="Reyes")


@pytest.fixture
def lead(rep) -> Lead:
    created, _ = upsert_lead({
        "email": "ana@acme.example", "first_name": "Ana", "last_name": "Lima",
        "phone": "+33 1 23 45 67 89", "title": "CTO", "company_name": "Acme",
        "country": "FR", "city": "Lyon", "channel": "paid_search", "source": "google",
        "medium": "cpc", "campaign": "spring-launch", "do_not_call": True}, route=False)
    assign_lead(created, rep, reason="round-robin in North")
    return created


def page(client, lead):
    return client.get(reverse("leads:detail", args=[lead.pk]))


def test_lead_page_requires_login(client, lead):
    response = page(client, lead)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_rep_gets_404_for_others_lead_page(client, lead, make_user):
    client.force_login(make_user("oscar"))
    response = page(client, lead)
    assert response.status_code == 404
    body = response.content.decode()
    assert f"No lead #{lead.pk}" in body
    assert "Ana Lima" not in body


def test_lead_page_shows_profile_and_origin(client, rep, lead):
    client.force_login(rep)
    response = page(client, lead)
    assert response.status_code == 200
    body = response.content.decode()
    for expected in ("Ana Lima", "ana@acme.example", "+33 1 23 45 67 89", "CTO", "Acme",
                     "FR", "Lyon", "Paid search", "google", "cpc", "spring-launch",
                     "First touch", "Last touch", "Do not call", "May be emailed",
                     "No marketing consent", "Rita Reyes"):
        assert expected in body, expected


def test_lead_page_shows_stage_with_its_definition(client, rep, lead):
    change_stage(lead, "sql", reason="BANT met on the call", actor=rep)
    client.force_login(rep)
    body = page(client, lead).content.decode()
    assert 'class="badge badge-lg stage-sql"' in body
    assert "Sales confirmed the interest (BANT met)" in body


def test_lead_page_shows_stage_history(client, rep, lead):
    change_stage(lead, "mql", reason="score reached the threshold")
    change_stage(lead, "sal", reason="accepted by sales", actor=rep)
    client.force_login(rep)
    body = page(client, lead).content.decode()
    history = body[body.index('<ol class="history">'):]
    history = history[:history.index("</ol>")]
    assert history.index("accepted by sales") < history.index("score reached the threshold")
    assert "Sales accepted" in history and "MQL" in history


def test_lead_page_shows_score_breakdown_and_reasons(client, rep, lead):
    ScoreRule.objects.create(name="Demo request", event_type="demo_requested", points=20,
                             category=Category.INTEREST)
    ScoreRule.objects.create(name="Newsletter sign-up", event_type="newsletter_signup",
                             points=5, category=Category.ENGAGEMENT)
    record_event("newsletter_signup", lead=lead)
    record_event("demo_requested", lead=lead)
    client.force_login(rep)
    response = page(client, lead)
    body = response.content.decode()
    assert response.context["breakdown"] == [
        {"key": "fit", "label": "Fit (who they are)", "points": 0, "width": 0},
        {"key": "engagement", "label": "Engagement (what they do)", "points": 5, "width": 25},
        {"key": "interest", "label": "Interest (what they said)", "points": 20, "width": 100},
    ]
    why = body[body.index("Why this score"):]
    assert why.index("Demo request") < why.index("Newsletter sign-up")
    assert "+20" in why and "+5" in why
    assert '<span class="score-total">25</span>' in body


def test_lead_page_shows_timeline_newest_first_with_labels(client, rep, lead):
    record_event("page_view", lead=lead, properties={"url": "https://acme.example/pricing"})
    record_event("email_sent", lead=lead, properties={"subject": "Welcome aboard"})
    record_event("webinar_attended", lead=lead, properties={"webinar": "Scoring 101"})
    client.force_login(rep)
    body = page(client, lead).content.decode()
    timeline = body[body.index('<ol class="timeline">'):]
    timeline = timeline[:timeline.index("</ol>")]
    order = [timeline.index(text) for text in (
        "Webinar attended", "Email sent", "Viewed a page", "Assigned to Rita Reyes",
        "Lead created")]
    assert order == sorted(order)
    assert "webinar: Scoring 101" in timeline
    assert "Welcome aboard" in timeline
    assert "https://acme.example/pricing" in timeline
    assert "round-robin in North" in timeline


def test_lead_page_timeline_stops_at_100_events(client, rep, lead):
    for i in range(105):
        record_event("page_view", lead=lead, properties={"url": f"/p{i}"})
    client.force_login(rep)
    response = page(client, lead)
    assert len(response.context["events"]) == 100
    assert "Showing the 100 most recent events." in response.content.decode()


def test_lead_page_query_count_is_bounded(client, rep, lead, django_assert_max_num_queries):
    ScoreRule.objects.create(name="Page view", event_type="page_view", points=1)
    for i in range(40):
        record_event("page_view", lead=lead, properties={"url": f"/p{i}"})
    for stage in ("mql", "sal", "sql"):
        change_stage(lead, stage, actor=rep)
    client.force_login(rep)
    # Issue 10 added: the score groups, whose lines are explained apart; the stage card's
    # history, pending hand-off and reasons (lifecycle); the header's unread notifications.
    # Issue 12: the segments card (memberships, history; their explanation when any).
    # Issue 13: the sales cards (the lead's tasks, its opportunities).
    with django_assert_max_num_queries(16):
        response = page(client, lead)
    assert len(response.context["score"].primary.lines) == 40


def test_mark_won_moves_stage_and_records_event(client, rep, lead):
    client.force_login(rep)
    response = client.post(reverse("lifecycle:outcome", args=[lead.pk]),
                           {"outcome": "won", "reason": "signed the annual plan"})
    assert response.status_code == 302
    assert response.url == reverse("leads:detail", args=[lead.pk])
    lead.refresh_from_db()
    assert lead.stage == "customer"
    event = Event.objects.get(lead=lead, type="won")
    assert event.actor == rep
    assert event.properties["reason"] == "signed the annual plan"
    change = StageChange.objects.get(lead=lead, to_stage="customer")
    assert change.actor == rep


def test_mark_won_shows_success_message(client, rep, lead):
    client.force_login(rep)
    response = client.post(reverse("lifecycle:outcome", args=[lead.pk]), {"outcome": "won"},
                           follow=True)
    assert "Ana Lima is marked as won." in response.content.decode()


def test_mark_lost_records_reason_in_stage_history(client, rep, lead):
    client.force_login(rep)
    client.post(reverse("lifecycle:outcome", args=[lead.pk]),
                {"outcome": "lost", "reason": "no budget this year"})
    lead.refresh_from_db()
    assert lead.stage == "lost"
    assert StageChange.objects.get(lead=lead, to_stage="lost").reason == "no budget this year"


def test_marking_the_same_outcome_twice_says_so(client, rep, lead):
    client.force_login(rep)
    url = reverse("lifecycle:outcome", args=[lead.pk])
    client.post(url, {"outcome": "won"})
    response = client.post(url, {"outcome": "won"}, follow=True)
    assert "was already marked as Customer" in response.content.decode()
    assert Event.objects.filter(lead=lead, type="won").count() == 1


def test_invalid_outcome_shows_message_with_422(client, rep, lead):
    client.force_login(rep)
    response = client.post(reverse("lifecycle:outcome", args=[lead.pk]), {"outcome": "maybe"})
    assert response.status_code == 422
    assert "Outcome must be" in response.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "lead"


def test_rep_cannot_mark_outcome_of_others_lead(client, lead, make_user):
    client.force_login(make_user("oscar"))
    response = client.post(reverse("lifecycle:outcome", args=[lead.pk]), {"outcome": "won"})
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.stage == "lead"


def test_outcome_accepts_only_post(client, rep, lead):
    client.force_login(rep)
    response = client.get(reverse("lifecycle:outcome", args=[lead.pk]))
    assert response.status_code == 405


def test_outcome_form_is_csrf_protected(rep, lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    response = client.post(reverse("lifecycle:outcome", args=[lead.pk]), {"outcome": "won"})
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "lead"


def test_lead_page_has_outcome_form_with_csrf_token(client, rep, lead):
    client.force_login(rep)
    body = page(client, lead).content.decode()
    form = body[body.index(f'action="/leads/{lead.pk}/outcome"'):]
    form = form[:form.index("</form>")]
    assert "csrfmiddlewaretoken" in form
    assert 'value="won"' in form and 'value="lost"' in form
