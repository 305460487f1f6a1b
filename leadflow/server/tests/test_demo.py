"""Demo data: loaded through the services, real stages and owners, idempotent."""

from __future__ import annotations

import json
import stat

import pytest

from leadflow.accounts.models import Role, Team, User
from leadflow.accounts.services import user_for_token
from leadflow.campaigns.models import Campaign
from leadflow.capture.models import Form
from leadflow.emails.models import EmailMessage
from leadflow.leads.models import Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.scoring.models import ScoreEntry, ScoreRule
from leadflow.server.demo import ensure_demo_admin, load_demo
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mail_server(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def test_demo_loads_leads_in_several_stages_with_owners():
    summary = load_demo(leads=120)

    assert summary is not None and summary.leads == Lead.objects.count() == 120
    stages = set(Lead.objects.values_list("stage", flat=True))
    assert {Stage.LEAD, Stage.MQL, Stage.NURTURE} <= stages
    assert len(stages) >= 6
    assert not Lead.objects.filter(owner__isnull=True).exists()
    enterprise = Lead.objects.filter(team__name="Enterprise")
    assert enterprise.exists()
    assert set(enterprise.values_list("country", flat=True)) <= {"FR", "BE", "CH", "DE", "LU",
                                                                 "AT", "NL"}
    assert Lead.objects.filter(team__name="SMB").exists()
    assert len(set(Lead.objects.values_list("source", flat=True))) >= 6


def test_demo_sets_up_teams_rules_campaign_and_forms():
    load_demo(leads=10)

    for team in Team.objects.all():
        assert team.members.filter(role=Role.SALES_REP).count() == 3
        assert team.members.filter(role=Role.SALES_MANAGER).count() == 1
    assert set(Team.objects.values_list("name", flat=True)) == {"Enterprise", "SMB"}
    assert User.objects.filter(role=Role.MARKETING).count() == 1
    rules = {r.event_type: (r.points, r.category, r.max_times == 1)
             for r in ScoreRule.objects.filter(conditions=[])}
    assert rules["newsletter_signup"] == (5, "engagement", False)
    assert rules["demo_requested"] == (20, "interest", False)
    # Email opens and clicks score a person's only, not a privacy proxy's or a scanner's.
    human = [{"field": "engagement", "op": "equals", "value": "human"}]
    email_rules = {r.event_type: (r.points, r.category, r.max_times == 1)
                   for r in ScoreRule.objects.filter(conditions=human)}
    assert email_rules == {"email_opened": (10, "engagement", True),
                           "email_clicked": (5, "engagement", False)}
    assert rules["unsubscribed"] == (-5, "engagement", False)
    assert StageThreshold.objects.get(stage=Stage.MQL).min_score == 15
    campaign = Campaign.objects.get(name="Welcome nurture")
    assert campaign.entry_event_type == "newsletter_signup"
    assert [(s.kind, s.wait_seconds) for s in campaign.steps.all()] == [
        ("send_email", 0), ("wait", 2 * 24 * 3600), ("send_email", 0)]
    form = Form.objects.get(slug="newsletter")
    assert form.event_type == "newsletter_signup" and form.consent_text and form.consent_version


def test_demo_timelines_are_spread_over_the_last_90_days():
    load_demo(leads=60)

    times = list(Event.objects.values_list("occurred_at", flat=True))
    assert (max(times) - min(times)).days >= 45
    # Scores come from the scoring rules, entry by entry.
    for lead in Lead.objects.all():
        assert lead.score == sum(ScoreEntry.objects.filter(lead=lead)
                                 .values_list("points", flat=True))
    assert EmailMessage.objects.filter(status=EmailMessage.Status.SENT).exists()


def test_demo_emails_of_the_past_are_not_delivered(smtp_server):
    load_demo(leads=40)

    assert EmailMessage.objects.filter(status=EmailMessage.Status.SENT).exists()
    assert smtp_server.messages == []


def test_demo_does_nothing_when_leads_exist():
    load_demo(leads=20)
    counts = (Lead.objects.count(), Event.objects.count(), User.objects.count())

    assert load_demo(leads=20) is None
    assert (Lead.objects.count(), Event.objects.count(), User.objects.count()) == counts


def test_demo_gives_the_same_data_each_time():
    load_demo(leads=25)
    first = list(Lead.objects.order_by("email").values_list("email", "stage", "score"))
    Lead.objects.all().delete()

    load_demo(leads=25)

    assert list(Lead.objects.order_by("email").values_list("email", "stage", "score")) == first


def test_demo_admin_login_and_token_are_kept_between_runs(tmp_path):
    path = tmp_path / "var" / "demo-credentials.json"
    first = ensure_demo_admin(path)
    second = ensure_demo_admin(path)

    assert second == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["password"] == first.password
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(first.password)
    assert user_for_token(first.token) == admin


def test_demo_admin_password_is_restored_when_changed(tmp_path):
    path = tmp_path / "demo-credentials.json"
    creds = ensure_demo_admin(path)
    admin = User.objects.get(username="admin")
    admin.set_password("something-else-entirely")
    admin.save()

    assert ensure_demo_admin(path) == creds
    assert User.objects.get(username="admin").check_password(creds.password)


def test_demo_leads_look_like_a_real_companys_with_a_few_problems():
    import phonenumbers

    load_demo(leads=300)

    leads = list(Lead.objects.all())
    flagged = [lead for lead in leads if lead.quality_flags]
    # A real list has a few problems (a throwaway address, a mistyped phone, a country
    # nobody knows), not a red mark on most rows.
    assert 0 < len(flagged) < 0.10 * len(leads)
    assert {flag for lead in flagged for flag in lead.quality_flags} >= {
        "disposable_email", "invalid_phone", "unknown_country"}
    phones = [lead for lead in leads if lead.phone and "invalid_phone" not in lead.quality_flags]
    assert len(phones) > len(leads) / 2
    for lead in phones:
        number = phonenumbers.parse(lead.phone)
        assert phonenumbers.is_valid_number(number), lead.phone
        if lead.country:
            assert phonenumbers.region_code_for_number(number) == lead.country, (
                lead.phone, lead.country)
    # Names fit the country: French leads have French titles, German ones German.
    assert Lead.objects.filter(country="FR", title__in=["Directrice marketing", "Gérant",
                                                         "Responsable acquisition"]).exists()
    assert not Lead.objects.filter(country="US", title="Gérant").exists()
    # Leads arrive over the whole period, some in the last week.
    created = sorted(lead.created_at for lead in leads)
    assert (created[-1] - created[0]).days >= 60
    assert sum(1 for moment in created if (created[-1] - moment).days < 7) >= 10
