"""Every score explains itself: per score group, which rules and which events gave which
points and when, and the decay with the period it covers; on the lead page and in the API
(`GET /api/v1/leads/{id}/score`), within the reader's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import translation

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.leads.models import Category
from leadflow.routing.services import assign_lead
from leadflow.scoring.decay import apply_decay
from leadflow.scoring.explain import explain
from leadflow.scoring.models import ScoreGroup, ScoreRule
from leadflow.scoring.services import add_points
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _at(days: float) -> datetime:
    return START + timedelta(days=days)


@pytest.fixture
def romain(make_lead, score_rules, make_user):
    """Signs up, opens an email, goes quiet for three months, is given points by hand."""
    group = ScoreGroup.objects.get(is_primary=True)
    group.inactivity_days, group.inactivity_points = 90, -10
    group.save()
    rep = make_user("rita")
    with clock.travel(_at(0)):
        lead = make_lead("romain@example.com", first_name="Romain")
        assign_lead(lead, rep, reason="test")
        record_event("newsletter_signup", lead=lead)
    with clock.travel(_at(2)):
        record_event("email_opened", lead=lead)
    with clock.travel(_at(100)):
        apply_decay()
    with clock.travel(_at(101)):
        add_points(lead, 3, "Met at the trade show")
    lead.refresh_from_db()
    return lead


def test_the_explanation_lists_rules_events_times_and_decay_newest_first(romain):
    score = explain(romain)
    assert [g.slug for g in score.groups] == ["score"]
    primary = score.primary
    assert (primary.total, primary.engagement, primary.interest) == (5 + 10 - 10 + 3,
                                                                     5 + 10 - 10 + 3, 0)
    lines = [(line.kind, line.label, line.event_type, line.points, line.occurred_at)
             for line in primary.lines]
    assert lines == [
        ("points", "Points given", "points_adjusted", 3, _at(101)),
        ("inactivity", "Inactivity", "", -10, _at(92)),
        ("rule", "At least one email opened", "email_opened", 10, _at(2)),
        ("rule", "Newsletter sign-up", "newsletter_signup", 5, _at(0)),
    ]
    given, quiet, opened, _signup = primary.lines
    assert given.detail == "Met at the trade show"
    assert (quiet.period_start, quiet.period_end) == (_at(2), _at(92))
    assert quiet.detail == "No activity for 90 days"
    assert (opened.event_label, opened.event_at) == ("Opened an email", _at(2))
    assert opened.category_label == "Engagement (what they do)"


def test_a_renamed_rule_shows_its_current_name_and_a_deleted_one_its_last(romain):
    opened = ScoreRule.objects.get(event_type="email_opened")
    opened.name = "Opened a newsletter"
    opened.save()
    ScoreRule.objects.filter(event_type="newsletter_signup").delete()
    labels = [line.label for line in explain(romain).primary.lines if line.kind == "rule"]
    assert labels == ["Opened a newsletter", "Newsletter sign-up"]


def test_each_score_group_explains_itself_apart(romain):
    other = ScoreGroup.objects.create(name="Product B", slug="product-b",
                                      inactivity_days=30, inactivity_points=-3)
    with clock.travel(_at(200)):
        apply_decay()
    score = explain(romain)
    assert [g.slug for g in score.groups] == ["score", "product-b"]
    b = score.groups[1]
    assert (b.total, b.engagement) == (-3, -3)
    assert [(line.kind, line.points, line.period_start) for line in b.lines] == [
        ("inactivity", -3, _at(2))]
    assert explain(romain, other).groups == [b]


def test_the_explanation_is_in_french_for_a_french_reader(romain):
    with translation.override("fr"):
        quiet = next(line for line in explain(romain).primary.lines
                     if line.kind == "inactivity")
    assert quiet.label == "Inactivité"
    assert quiet.detail == "Aucune activité pendant 90 jours"


def test_the_lead_page_shows_why_with_the_decay_period(client, romain):
    client.force_login(romain.owner)
    body = client.get(reverse("leads:detail", args=[romain.pk])).content.decode()
    why = body[body.index("Why this score"):body.index('id="timeline-title"')]
    order = [why.index(text) for text in ("Points given", "Inactivity", "No activity for 90 days",
                                          "At least one email opened", "Opened an email",
                                          "Newsletter sign-up")]
    assert order == sorted(order)
    assert "Met at the trade show" in why
    assert f'datetime="{_at(92).isoformat()}"' in why


def test_the_lead_page_has_one_section_per_group_when_there_are_several(client, romain):
    ScoreGroup.objects.create(name="Product B", slug="product-b", inactivity_days=30,
                              inactivity_points=-3)
    with clock.travel(_at(200)):
        apply_decay()
    client.force_login(romain.owner)
    body = client.get(reverse("leads:detail", args=[romain.pk])).content.decode()
    assert 'data-group="score"' in body and 'data-group="product-b"' in body
    assert "<h4>Product B" in body


def test_the_score_api_explains_each_group(api, romain):
    response = api.get(f"/leads/{romain.pk}/score")
    assert response.status_code == 200
    data = response.json()
    assert data["lead_id"] == romain.pk
    [group] = data["groups"]
    assert (group["slug"], group["is_primary"], group["total"]) == ("score", True, 8)
    assert [(line["kind"], line["label"], line["points"]) for line in group["lines"]] == [
        ("points", "Points given", 3), ("inactivity", "Inactivity", -10),
        ("rule", "At least one email opened", 10), ("rule", "Newsletter sign-up", 5)]
    quiet = group["lines"][1]
    assert quiet["period_start"].startswith("2026-01-07T09:30")
    assert quiet["period_end"].startswith("2026-04-07T09:30")
    assert group["lines"][2]["event_type"] == "email_opened"


def test_the_score_api_answers_for_one_group_and_refuses_an_unknown_one(api, romain):
    ScoreGroup.objects.create(name="Product B", slug="product-b")
    data = api.get(f"/leads/{romain.pk}/score", group="product-b").json()
    assert [g["slug"] for g in data["groups"]] == ["product-b"]
    response = api.get(f"/leads/{romain.pk}/score", group="nope")
    assert response.status_code == 422
    assert response.json()["field"] == "group"


def test_a_rep_reads_the_score_of_their_own_leads_only(api_for, make_user, romain,
                                                       make_lead):
    owner = romain.owner
    other_rep = make_user("sam", Role.SALES_REP)
    assert api_for(owner).get(f"/leads/{romain.pk}/score").status_code == 200
    response = api_for(other_rep).get(f"/leads/{romain.pk}/score")
    assert response.status_code == 404
    assert "Romain" not in response.content.decode()
    assert api_for(other_rep).get("/leads/999999/score").status_code == 404


def test_the_lead_api_dates_its_score_lines_when_the_points_were_earned(api, romain):
    lines = api.get(f"/leads/{romain.pk}").json()["score_explanation"]
    assert [(line["points"], line["at"][:16]) for line in lines] == [
        (3, "2026-04-16T09:30"), (-10, "2026-04-07T09:30"), (10, "2026-01-07T09:30"),
        (5, "2026-01-05T09:30")]


def test_interest_points_are_in_their_dimension(make_lead, score_rules):
    lead = make_lead("mickael@example.com")
    record_event("demo_requested", lead=lead)
    lead.refresh_from_db()
    primary = explain(lead).primary
    assert (primary.total, primary.interest, primary.fit) == (20, 20, 0)
    assert [(line.category, line.category_label) for line in primary.lines] == [
        (Category.INTEREST, "Interest (what they said)")]
