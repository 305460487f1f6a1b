"""Campaign runs: enrol on the entry event, send, wait, send again, leave at the goal."""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import pytest
from django.db import connection, connections

from leadflow.campaigns.engine import LEASE, advance, claim_due, run_due_enrollments
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.campaigns.services import enroll
from leadflow.core import clock
from leadflow.core.errors import Conflict
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.leads.models import Lead
from leadflow.tracking.services import NewEvent, record_event, record_events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
TWO_DAYS = timedelta(days=2)


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


@dataclass
class Nurture:
    campaign: Campaign
    welcome: EmailTemplate
    reminder: EmailTemplate


@pytest.fixture
def nurture(db) -> Nurture:
    """Welcome email, wait two days, reminder email, +5 points; leaves when won."""
    welcome = EmailTemplate.objects.create(name="Welcome", subject="Welcome {{ lead.first_name }}",
                                           body_text="Welcome!")
    reminder = EmailTemplate.objects.create(name="Reminder", subject="Still interested?",
                                            body_text="Here is more.")
    campaign = Campaign.objects.create(name="Nurture", entry_event_type="newsletter_signup",
                                       goal_event_type="won")
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL, template=welcome),
        Step(campaign=campaign, position=2, kind=Step.Kind.WAIT,
             wait_seconds=int(TWO_DAYS.total_seconds())),
        Step(campaign=campaign, position=3, kind=Step.Kind.SEND_EMAIL, template=reminder),
        Step(campaign=campaign, position=4, kind=Step.Kind.ADD_POINTS, points=5),
    ])
    return Nurture(campaign, welcome, reminder)


@pytest.fixture
def lead(make_lead):
    return make_lead("mickael@example.com", first_name="Mickaël")


def _signup(lead: Lead) -> None:
    record_event("newsletter_signup", lead=lead)


def run() -> int:
    """What workers do on their ticks: advance due steps and send the emails they queue,
    until nothing is left; returns how many times an enrollment was advanced (a send step
    takes two: it queues its email, then goes on once the email is sent)."""
    total = 0
    while True:
        advanced, sent = run_due_enrollments(), send_due()
        total += advanced
        if not (advanced or sent):
            return total


def _subjects(mailbox) -> list[str]:
    return [str(make_header(decode_header(m["Subject"]))) for m in mailbox.messages]


def test_a_lead_entering_on_the_entry_event_is_enrolled_once(nurture, lead):
    _signup(lead)
    _signup(lead)

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.campaign, enrollment.status) == (nurture.campaign, "active")
    assert (enrollment.next_position, enrollment.next_run_at) == (1, T0)
    entered = lead.events.get(type="campaign_entered")
    assert entered.properties["campaign_id"] == nurture.campaign.pk


def test_other_events_and_switched_off_campaigns_enrol_nobody(nurture, lead):
    record_event("page_view", lead=lead)
    Campaign.objects.filter(pk=nurture.campaign.pk).update(active=False)
    _signup(lead)
    assert not Enrollment.objects.exists()


def test_a_lead_may_be_in_several_campaigns_at_once(nurture, lead):
    other = Campaign.objects.create(name="Product news", entry_event_type="newsletter_signup")
    _signup(lead)
    assert set(Enrollment.objects.filter(lead=lead).values_list("campaign", flat=True)) == {
        nurture.campaign.pk, other.pk}


def test_enrolling_an_active_lead_again_by_hand_is_a_conflict(nurture, lead):
    enroll(lead.pk, nurture.campaign)
    with pytest.raises(Conflict):
        enroll(lead.pk, nurture.campaign)
    assert enroll(lead.pk, nurture.campaign, only_if_new=True) is None
    assert Enrollment.objects.count() == 1


def test_the_run_sends_the_first_email_and_stops_at_the_wait(smtp_server, nurture, lead):
    _signup(lead)

    assert run() == 2

    assert _subjects(smtp_server) == ["Welcome Mickaël"]
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.next_position) == ("active", 2)  # at the wait
    assert enrollment.next_run_at == T0 + TWO_DAYS
    message = EmailMessage.objects.get()
    assert (message.campaign, message.status) == (nurture.campaign, "sent")
    assert message.dedupe_key == f"enrollment:{enrollment.pk}:step:1"


def test_nothing_is_sent_before_the_wait_is_over(smtp_server, nurture, lead):
    _signup(lead)
    run()
    clock.advance(TWO_DAYS - timedelta(seconds=1))

    assert run() == 0
    assert _subjects(smtp_server) == ["Welcome Mickaël"]


def test_after_the_wait_the_next_email_goes_and_the_walk_completes(smtp_server, nurture, lead):
    _signup(lead)
    run()
    clock.advance(TWO_DAYS)

    assert run() == 2

    assert _subjects(smtp_server) == ["Welcome Mickaël", "Still interested?"]
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.exit_reason) == ("completed", "completed")
    assert (enrollment.next_run_at, enrollment.left_at) == (None, T0 + TWO_DAYS)
    lead.refresh_from_db()
    assert lead.score == 5  # the add-points step
    left = lead.events.get(type="campaign_left")
    assert left.properties["status"] == "completed"


@pytest.mark.parametrize("spec", [{"kind": "delay", "days": 2}, {"kind": "delay", "hours": 48},
                                  {"kind": "delay", "seconds": 172800}])
def test_a_wait_given_in_any_unit_waits_that_long(smtp_server, nurture, lead, spec):
    Step.objects.filter(campaign=nurture.campaign, position=2).update(
        wait_seconds=0, config={"wait": spec})
    _signup(lead)
    run()
    clock.advance(TWO_DAYS - timedelta(seconds=1))
    assert run() == 0
    assert _subjects(smtp_server) == ["Welcome Mickaël"]
    clock.advance(timedelta(seconds=1))
    run()
    assert _subjects(smtp_server) == ["Welcome Mickaël", "Still interested?"]


def test_running_again_sends_nothing_twice(smtp_server, nurture, lead):
    _signup(lead)
    run()
    run()
    clock.advance(TWO_DAYS)
    run()
    run()
    clock.advance(TWO_DAYS)

    assert run() == 0
    assert len(smtp_server.messages) == 2
    assert EmailMessage.objects.count() == 2
    lead.refresh_from_db()
    assert lead.score == 5


def test_a_step_run_twice_after_a_crash_has_its_effect_once(smtp_server, nurture, lead):
    _signup(lead)
    run()
    clock.advance(TWO_DAYS)
    enrollment = Enrollment.objects.get(lead=lead)
    # A worker died after the reminder and the points, before it saved its position.
    advance(enrollment.pk)
    Enrollment.objects.filter(pk=enrollment.pk).update(status="active", next_position=3,
                                                       next_run_at=clock.now())

    run()

    assert _subjects(smtp_server) == ["Welcome Mickaël", "Still interested?"]
    lead.refresh_from_db()
    assert lead.score == 5


def test_the_goal_event_makes_the_lead_leave_at_once(smtp_server, nurture, lead):
    _signup(lead)
    run()

    record_event("won", lead=lead)

    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.exit_reason) == ("converted", "goal reached: won")
    assert enrollment.next_run_at is None
    clock.advance(TWO_DAYS)
    assert run() == 0
    assert _subjects(smtp_server) == ["Welcome Mickaël"]


def test_within_one_batch_the_later_of_entry_and_goal_counts(nurture, make_lead):
    left = make_lead("left@example.com")
    stays = make_lead("stays@example.com")
    record_events([NewEvent("newsletter_signup", lead_id=left.pk),
                   NewEvent("won", lead_id=left.pk),
                   NewEvent("won", lead_id=stays.pk),
                   NewEvent("newsletter_signup", lead_id=stays.pk)])
    assert not Enrollment.objects.filter(lead=left, status="active").exists()
    assert Enrollment.objects.filter(lead=stays, status="active").count() == 1


def test_a_lead_who_completed_may_enter_again(smtp_server, nurture, lead):
    _signup(lead)
    run()
    clock.advance(TWO_DAYS)
    run()

    _signup(lead)

    assert Enrollment.objects.filter(lead=lead, status="active").count() == 1
    assert Enrollment.objects.filter(lead=lead).count() == 2


def test_a_deleted_lead_is_tolerated(smtp_server, nurture, lead, make_lead):
    other = make_lead("other@example.com")
    _signup(lead)
    _signup(other)
    claimed = claim_due()
    Lead.objects.filter(pk=lead.pk).delete()

    for enrollment_id in claimed.ids:
        advance(enrollment_id)  # the deleted lead's enrollment is gone: nothing to do
    send_due()

    assert _subjects(smtp_server) == ["Welcome"]
    assert smtp_server.messages[0]["X-Envelope-To"] == "other@example.com"


def test_a_paused_campaign_holds_its_leads_until_it_starts_again(smtp_server, nurture, lead):
    _signup(lead)
    Campaign.objects.filter(pk=nurture.campaign.pk).update(active=False)

    assert run() == 0
    assert smtp_server.messages == []
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.next_position) == ("active", 1)

    Campaign.objects.filter(pk=nurture.campaign.pk).update(active=True)
    run()
    assert _subjects(smtp_server) == ["Welcome Mickaël"]


def test_an_archived_campaign_lets_its_leads_go(smtp_server, nurture, lead):
    _signup(lead)
    Campaign.objects.filter(pk=nurture.campaign.pk).update(active=True, archived=True)

    assert run() == 1

    assert smtp_server.messages == []
    enrollment = Enrollment.objects.get(lead=lead)
    assert (enrollment.status, enrollment.exit_reason) == ("exited", "campaign stopped")


def test_claim_due_never_hands_the_same_enrollment_to_two_claimers(nurture, lead):
    _signup(lead)
    enrollment = Enrollment.objects.get(lead=lead)

    assert claim_due().ids == [enrollment.pk]
    assert claim_due().ids == []
    clock.advance(LEASE - timedelta(seconds=1))
    assert claim_due().ids == []
    # The first claimer died: once its lease runs out, another worker takes the work.
    clock.advance(timedelta(seconds=1))
    assert claim_due().ids == [enrollment.pk]


def test_claim_due_respects_its_limit(nurture, make_lead):
    for i in range(5):
        _signup(make_lead(f"l{i}@example.com"))
    first, second = claim_due(limit=3).ids, claim_due(limit=3).ids
    assert (len(first), len(second)) == (3, 2)
    assert not set(first) & set(second)


def test_the_commit_kicks_a_worker_that_sends_the_first_email(
        smtp_server, nurture, lead, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _signup(lead)
        assert smtp_server.messages == []  # nothing is sent before the commit

    assert callbacks  # the enrollment's kick, then the outbox's
    assert _subjects(smtp_server) == ["Welcome Mickaël"]
    assert Enrollment.objects.get(lead=lead).next_position == 2  # at the wait


def test_without_a_commit_the_work_waits_for_the_periodic_run(smtp_server, nurture, lead):
    _signup(lead)  # the test's transaction never commits: no kick
    assert smtp_server.messages == []
    run()
    assert _subjects(smtp_server) == ["Welcome Mickaël"]


@pytest.mark.django_db(transaction=True)
def test_a_real_commit_runs_the_kicked_task(smtp_server, nurture, make_lead):
    lead = make_lead("mickael@example.com", first_name="Mickaël")
    record_event("newsletter_signup", lead=lead)  # commits: the immediate task runs
    assert _subjects(smtp_server) == ["Welcome Mickaël"]
    assert Enrollment.objects.get(lead=lead).next_position == 2  # at the wait


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_share_an_enrollment(nurture, make_lead):
    if connection.vendor != "postgresql":
        pytest.skip("claimers racing on separate connections need PostgreSQL's row locks")
    Enrollment.objects.bulk_create([
        Enrollment(campaign=nurture.campaign, lead=make_lead(f"l{i}@example.com"),
                   entered_at=T0, next_run_at=T0) for i in range(60)])
    start = threading.Barrier(4)
    claimed: list[list[int]] = []

    def claimer():
        try:
            start.wait()
            mine = []
            while claim := claim_due(limit=3):
                mine.extend(claim.ids)
            claimed.append(mine)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    every = [pk for mine in claimed for pk in mine]
    assert len(claimed) == 4
    assert sorted(every) == sorted(Enrollment.objects.values_list("pk", flat=True))


def test_a_goal_reached_by_a_step_of_the_walk_stops_the_walk_there(make_lead):
    """The goal takes the lead out at once, also when the campaign's own step causes it:
    the steps after it in the same batch do not run."""
    campaign = Campaign.objects.create(
        name="To SQL", entry_event_type="newsletter_signup", goal_event_type="stage_changed",
        goal_conditions=[{"field": "to", "op": "equals", "value": "sql"}])
    Step.objects.bulk_create([
        Step(campaign=campaign, position=1, kind=Step.Kind.CHANGE_STAGE,
             config={"stage": "sql"}),
        Step(campaign=campaign, position=2, kind=Step.Kind.ADD_POINTS, points=10)])
    lead = make_lead("romain@example.com")
    _signup(lead)

    run()

    enrollment = Enrollment.objects.get(lead=lead, campaign=campaign)
    assert (enrollment.status, enrollment.next_run_at) == ("converted", None)
    assert not lead.events.filter(type="campaign_points").exists()
