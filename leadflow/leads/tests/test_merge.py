from datetime import timedelta

import pytest

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.leads.merge import merge_leads, undo_merge
from leadflow.leads.models import Consent, DuplicateSuggestion, Lead, LeadMerge
from leadflow.leads.services import record_consent, upsert_lead
from leadflow.lifecycle.models import StageChange
from leadflow.lifecycle.services import change_stage
from leadflow.scoring.models import ScoreEntry
from leadflow.tracking.models import Event
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(score_rules):
    keep, _ = upsert_lead({"email": "ana@acme.example", "first_name": "Ana",
                           "phone": "+33612345678", "source": "google"})
    other, _ = upsert_lead({"external_id": "CRM-7", "first_name": "Ana", "last_name": "Lima",
                            "title": "CTO", "phone": "+33612345678", "source": "fair",
                            "do_not_call": True})
    record_event("newsletter_signup", lead=keep)
    record_event("demo_requested", lead=other)
    change_stage(other, "mql", reason="hot")
    keep.refresh_from_db()
    other.refresh_from_db()
    return keep, other


def test_timelines_are_united(pair, admin_user):
    keep, other = pair
    types_before = sorted(Event.objects.filter(lead__in=pair).values_list("type", flat=True))
    merge_leads(keep, other, actor=admin_user)
    assert not Lead.objects.filter(pk=other.pk).exists()
    types_after = sorted(Event.objects.filter(lead=keep).exclude(type="merged")
                         .values_list("type", flat=True))
    assert types_after == types_before
    assert Event.objects.filter(lead=keep, type="merged").count() == 1
    assert StageChange.objects.filter(lead=keep, to_stage="mql").exists()


def test_best_values_are_kept(pair, admin_user):
    keep, other = pair
    Lead.objects.filter(pk=other.pk).update(first_touch_at=keep.first_touch_at
                                            - timedelta(days=3))
    other.refresh_from_db()
    merge_leads(keep, other, actor=admin_user)
    keep.refresh_from_db()
    assert keep.email == "ana@acme.example"  # non-empty wins
    assert keep.external_id == "CRM-7"
    assert (keep.last_name, keep.title) == ("Lima", "CTO")
    assert keep.source == "fair"  # the earliest first touch
    assert keep.do_not_call is True  # OR-ed
    assert keep.stage == "mql"


def test_score_is_recomputed_from_the_ledger(pair, admin_user):
    keep, other = pair
    merge_leads(keep, other, actor=admin_user)
    keep.refresh_from_db()
    assert ScoreEntry.objects.filter(lead=keep).count() == 2
    assert keep.score == 25  # newsletter +5, demo +20


def test_the_audit_records_where_values_came_from(pair, admin_user):
    keep, other = pair
    audit = merge_leads(keep, other, actor=admin_user)
    assert audit.actor == admin_user and audit.merged_lead_id == other.pk
    assert audit.sources["title"] == "merged" and audit.sources["email"] == "kept"
    assert audit.snapshot["external_id"] == "CRM-7"
    assert sorted(audit.moved["tracking.Event.lead"]) == sorted(
        Event.objects.filter(pk__in=audit.moved["tracking.Event.lead"])
        .values_list("pk", flat=True))


def test_consent_follows_the_most_recent_ledger_entry(pair, admin_user):
    keep, other = pair
    record_consent(keep, granted=True, method="form")
    later = record_consent(other, granted=False, method="unsubscribe link")
    Consent.objects.filter(pk=later.pk).update(recorded_at=clock.now() + timedelta(hours=1))
    merge_leads(keep, other, actor=admin_user)
    keep.refresh_from_db()
    assert keep.marketing_consent is False
    assert Consent.objects.filter(lead=keep).count() == 2


def test_one_active_enrollment_per_campaign_is_respected(pair, admin_user):
    keep, other = pair
    campaign = Campaign.objects.create(name="Nurture", entry_event_type="x")
    now = clock.now()
    Enrollment.objects.create(campaign=campaign, lead=keep, entered_at=now)
    Enrollment.objects.create(campaign=campaign, lead=other, entered_at=now)
    merge_leads(keep, other, actor=admin_user)
    statuses = sorted(Enrollment.objects.filter(lead=keep).values_list("status", flat=True))
    assert statuses == ["active", "exited"]


def test_merging_a_suggested_pair_from_the_ui(pair, client, admin_user):
    keep, other = pair
    suggestion = DuplicateSuggestion.objects.get()
    client.force_login(admin_user)
    r = client.post(f"/leads/duplicates/{suggestion.pk}/merge", {"keep": other.pk})
    assert r.status_code == 302 and r.url == f"/leads/{other.pk}/"
    assert not Lead.objects.filter(pk=keep.pk).exists()


def test_merge_through_the_api(pair, api):
    keep, other = pair
    suggestion = DuplicateSuggestion.objects.get()
    r = api.post(f"/leads/duplicates/{suggestion.pk}/merge", {"keep": keep.pk})
    assert r.status_code == 200, r.content
    assert r.json()["kept_id"] == keep.pk
    assert api.post(f"/leads/duplicates/{suggestion.pk}/merge",
                    {"keep": keep.pk}).status_code == 404


def test_undo_restores_the_merged_lead_and_its_rows(pair, admin_user):
    keep, other = pair
    own_events = set(Event.objects.filter(lead=other).values_list("pk", flat=True))
    keep_title = keep.title
    audit = merge_leads(keep, other, actor=admin_user)
    restored = undo_merge(audit, actor=admin_user)
    assert restored.pk == other.pk and restored.external_id == "CRM-7"
    assert set(Event.objects.filter(lead=restored).values_list("pk", flat=True)) == own_events
    keep.refresh_from_db()
    assert keep.title == keep_title and keep.external_id is None
    assert (keep.score, Lead.objects.get(pk=other.pk).score) == (5, 20)
    assert LeadMerge.objects.get().undone_at is not None
    with pytest.raises(Conflict):
        undo_merge(audit, actor=admin_user)


def test_undoing_a_merge_that_brings_back_another_reps_lead_is_refused(
        make_user, api_for, make_lead, admin_user, client):
    rep1, rep2 = make_user("rep1"), make_user("rep2")
    mine = make_lead("mine@example.com", first_name="Mine")
    theirs = make_lead("theirs@example.com", first_name="Theirs", phone="+33699887766")
    Lead.objects.filter(pk=mine.pk).update(owner=rep1)
    Lead.objects.filter(pk=theirs.pk).update(owner=rep2)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    audit = merge_leads(mine, theirs, actor=admin_user)

    r = api_for(rep1).post(f"/leads/merges/{audit.pk}/undo", {})
    assert r.status_code == 409
    assert "+33699887766" not in r.content.decode() and "theirs" not in r.content.decode()
    client.force_login(rep1)
    page = client.post(f"/leads/merges/{audit.pk}/undo")
    assert page.status_code == 409 and "+33699887766" not in page.content.decode()
    assert not Lead.objects.filter(pk=theirs.pk).exists()
    assert LeadMerge.objects.get(pk=audit.pk).undone_at is None


def test_undo_from_the_lead_page(pair, client, admin_user):
    keep, other = pair
    audit = merge_leads(keep, other, actor=admin_user)
    client.force_login(admin_user)
    assert "Undo" in client.get(f"/leads/{keep.pk}/").content.decode()
    r = client.post(f"/leads/merges/{audit.pk}/undo")
    assert r.status_code == 302
    assert Lead.objects.filter(pk=other.pk).exists()


def test_browsers_that_claimed_the_merged_lead_move_to_the_kept_one(pair, admin_user):
    from leadflow.tracking.models import Visitor

    keep, other = pair
    Visitor.objects.create(visitor_id="v-claim", claimed_lead=other, claimed_via="identify",
                           first_seen=clock.now(), last_seen=clock.now())
    audit = merge_leads(keep, other, actor=admin_user)
    assert Visitor.objects.get(visitor_id="v-claim").claimed_lead_id == keep.pk
    undo_merge(audit, actor=admin_user)
    assert Visitor.objects.get(visitor_id="v-claim").claimed_lead_id == other.pk
