"""The foundation's acceptance test: Mickaël's path through all five steps, end to end,
through the REST API (real bearer tokens), the pipeline and a real SMTP server."""

import re
from email.header import decode_header, make_header

import pytest
from django.test import Client

from leadflow.accounts.models import Role, Team
from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Step
from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.lifecycle.services import history
from leadflow.routing.models import RoutingRule

pytestmark = pytest.mark.django_db

BASE_URL = "https://leads.example.com"


def _part(msg, content_type: str) -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == content_type)
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def test_mickael_goes_from_sign_up_to_won(settings, smtp_server, make_user, api_for,
                                          score_rules):
    # Set up (models and services): a team of two reps with a routing rule, the PRODUCT.md
    # score rules (fixture), MQL at 15, a one-email welcome campaign on newsletter sign-up.
    settings.BASE_URL = BASE_URL
    team = Team.objects.create(name="France")
    anne = make_user("anne", Role.SALES_REP, team=team)
    bruno = make_user("bruno", Role.SALES_REP, team=team)
    RoutingRule.objects.create(name="France", team=team, countries=["FR"])
    StageThreshold.objects.create(stage=Stage.MQL, min_score=15)
    welcome = EmailTemplate.objects.create(
        name="Welcome", subject="Welcome {{ lead.first_name }}",
        body_text="Hello {{ lead.first_name }}, here is our first newsletter.",
        body_html="<p>Hello {{ lead.first_name }}, here is our first newsletter.</p>")
    campaign = Campaign.objects.create(name="Welcome", entry_event_type="newsletter_signup",
                                       goal_event_type="won")
    Step.objects.create(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL,
                        template=welcome)
    marketing = api_for(make_user("marie", Role.MARKETING))

    # 1. Identify: the lead arrives through the API with its UTM source; round-robin.
    r = marketing.post("/leads", {"email": "mickael@example.com", "first_name": "Mickaël",
                                  "last_name": "Martin", "country": "FR",
                                  "utm_source": "linkedin", "utm_medium": "social",
                                  "utm_campaign": "spring-2026"})
    assert r.status_code == 201, r.content
    mickael = r.json()
    assert (mickael["source"], mickael["medium"], mickael["campaign"]) == (
        "linkedin", "social", "spring-2026")
    assert (mickael["owner_id"], mickael["team_id"]) == (anne.pk, team.pk)
    lead_id = mickael["id"]
    r = marketing.post("/leads", {"email": "romain@example.com", "first_name": "Romain",
                                  "country": "FR", "utm_source": "google"})
    assert r.status_code == 201, r.content
    assert r.json()["owner_id"] == bruno.pk  # the next lead goes to the other rep

    # He signed up for the newsletter on the company's own site, which records his
    # consent with its proof (the text he agreed to).
    r = marketing.post(f"/leads/{lead_id}/consents", {
        "granted": True, "text": "Send me the newsletter; I can unsubscribe at any time.",
        "text_version": "2026-04", "page_url": "https://example.com/newsletter"})
    assert r.status_code == 201, r.content
    assert r.json()["marketing_consent"] is True

    # 2. Segment and nurture: the newsletter sign-up scores +5 and enrols him.
    r = marketing.post("/events", {"events": [
        {"type": "newsletter_signup", "lead_id": lead_id, "idempotency_key": "signup-1",
         "properties": {"form": "newsletter"}}]})
    assert r.status_code == 200, r.content
    assert r.json()["created"] == 1
    lead = marketing.get(f"/leads/{lead_id}").json()
    assert (lead["score"], lead["stage"]) == (5, "lead")
    timeline = [e["type"] for e in marketing.get(f"/leads/{lead_id}/timeline").json()["items"]]
    assert "campaign_entered" in timeline

    # The due campaign work queues the welcome email, the outbox sends it through SMTP
    # with one-click unsubscribe, and the step goes on once it is sent.
    assert run_due_enrollments() == 1
    assert send_due() == 1
    assert run_due_enrollments() == 1
    [email] = smtp_server.to("mickael@example.com")
    assert str(make_header(decode_header(email["Subject"]))) == "Welcome Mickaël"
    assert re.fullmatch(rf"<{re.escape(BASE_URL)}/u/[^\s>]+>", email["List-Unsubscribe"])
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Mickaël, here is our first newsletter." in _part(email, "text/plain")
    assert run_due_enrollments() == 0  # nothing is sent twice
    assert len(smtp_server.messages) == 1

    # 3. Qualify: he opens the email (+10): 15 points, MQL, with its stage history.
    html = _part(email, "text/html")
    pixel = re.search(r'<img src="([^"]+)"', html)[1]
    r = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) "
                               "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
               ).get(pixel.removeprefix(BASE_URL))  # his mail app (none at all: a machine)
    assert (r.status_code, r["Content-Type"]) == (200, "image/gif")
    lead = marketing.get(f"/leads/{lead_id}").json()
    assert (lead["score"], lead["stage"]) == (15, "mql")
    changes = history(Lead.objects.get(pk=lead_id))
    assert [(c.from_stage, c.to_stage) for c in changes] == [(Stage.LEAD, Stage.MQL)]
    timeline = marketing.get(f"/leads/{lead_id}/timeline").json()["items"]
    stage_events = [e for e in timeline if e["type"] == "stage_changed"]
    assert [(e["properties"]["from"], e["properties"]["to"]) for e in stage_events] == [
        ("lead", "mql")]

    # He asks for a demo (+20).
    r = marketing.post("/events", {"events": [
        {"type": "demo_requested", "lead_id": lead_id, "idempotency_key": "demo-1"}]})
    assert r.json()["created"] == 1

    # 4. Convert: his rep sees him (and only her own leads), and why he is hot...
    rep = api_for(anne)
    listed = rep.get("/leads").json()
    assert [item["id"] for item in listed["items"]] == [lead_id]
    detail = rep.get(f"/leads/{lead_id}").json()
    assert detail["score"] == 35
    assert (detail["engagement_score"], detail["interest_score"]) == (15, 20)
    assert [(line["points"], line["reason"]) for line in detail["score_explanation"]] == [
        (20, "Demo request"), (10, "At least one email opened"), (5, "Newsletter sign-up")]
    assert detail["first_touch"]["source"] == "linkedin"
    assert api_for(bruno).get(f"/leads/{lead_id}").status_code == 404

    # ...and marks the deal won.
    r = rep.post(f"/leads/{lead_id}/outcome", {"outcome": "won", "reason": "signed"})
    assert r.status_code == 200, r.content
    assert r.json()["stage"] == "customer"
    assert [c.to_stage for c in history(Lead.objects.get(pk=lead_id))] == [
        Stage.CUSTOMER, Stage.MQL]
    assert campaign.enrollments.get().status == "completed"  # its one email was sent

    # 5. Analyse: the report shows his source with its conversion.
    summary = marketing.get("/reports/summary").json()
    assert (summary["total"], summary["won"], summary["conversion_rate"]) == (2, 1, 0.5)
    by_source = {row["source"]: row for row in summary["by_source"]}
    assert (by_source["linkedin"]["leads"], by_source["linkedin"]["won"],
            by_source["linkedin"]["conversion_rate"]) == (1, 1, 1.0)
    assert (by_source["google"]["won"], by_source["google"]["conversion_rate"]) == (0, 0.0)
    stages = {row["stage"]: row["leads"] for row in summary["by_stage"]}
    assert (stages["customer"], stages["lead"]) == (1, 1)

