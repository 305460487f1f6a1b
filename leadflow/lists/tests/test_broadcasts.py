"""One-off sends: a template to a list, now or scheduled, queued by a worker once (however
many times the job runs), cancelled before it starts, sent to the test list only in test
mode, and reported by status and skip reason."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.core.errors import Conflict, Forbidden
from leadflow.emails.models import EmailMessage, EmailTemplate, SenderIdentity
from leadflow.leads.models import Lead
from leadflow.lists import broadcasts, services
from leadflow.lists.models import Broadcast
from leadflow.tracking.models import EventType
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING)


@pytest.fixture
def news(db):
    return EmailTemplate.objects.create(name="News", subject="News for {{ lead.first_name }}",
                                        body_text="Hello.")


@pytest.fixture
def audience(marketer, make_lead):
    """A list of three leads with an address and one without."""
    leads = [make_lead(f"reader{i}@example.com") for i in range(4)]
    Lead.objects.filter(pk=leads[3].pk).update(email=None)
    lead_list = services.create_list(marketer, name="Readers")
    services.add_members(marketer, lead_list, lead_ids=[lead.pk for lead in leads])
    return lead_list, leads


def _draft(marketer, news, lead_list, **extra) -> Broadcast:
    return broadcasts.create(marketer, {"name": "May news", "template": news.pk,
                                        "list": lead_list.pk, **extra})


def _queued(broadcast) -> dict[int, EmailMessage]:
    return {m.lead_id: m for m in EmailMessage.objects.filter(broadcast=broadcast)}


def test_a_send_is_queued_once_per_member_with_an_address_however_often_the_job_runs(
        marketer, news, audience):
    lead_list, leads = audience
    sender = SenderIdentity.objects.create(name="News", from_name="Acme",
                                           from_email="news@acme.test")
    send = broadcasts.start(marketer, _draft(marketer, news, lead_list, sender=sender.pk))

    assert broadcasts.run_due() == 1
    assert broadcasts.run_due() == 0
    # A worker that died after queueing leaves its claim to run again: nothing twice.
    Broadcast.objects.filter(pk=send.pk).update(due_at=clock.now(), claimed_by="")
    assert broadcasts.run_due() == 1

    queued = _queued(send)
    assert set(queued) == {lead.pk for lead in leads[:3]}
    message = queued[leads[0].pk]
    assert (message.dedupe_key, message.status, message.lane, message.to_email,
            message.subject, message.body_text, message.due_at, message.sender_id,
            message.template_id) == (
        f"broadcast:{send.pk}:{leads[0].pk}", "queued", "marketing", "reader0@example.com",
        "", "", T0, sender.pk, news.pk)
    send.refresh_from_db()
    assert (send.status, send.queued_count, send.no_address_count, send.started_at) == (
        Broadcast.Status.SENDING, 3, 1, T0)


def test_a_scheduled_send_starts_only_when_it_is_due(marketer, news, audience):
    lead_list, _ = audience
    send = broadcasts.start(marketer, _draft(marketer, news, lead_list),
                            at=T0 + timedelta(hours=2))
    assert send.status == Broadcast.Status.SCHEDULED

    clock.advance(timedelta(hours=1, minutes=59))
    broadcasts.run_due()
    assert _queued(send) == {}

    clock.advance(timedelta(minutes=1))
    broadcasts.run_due()
    assert len(_queued(send)) == 3


def test_a_send_is_cancelled_before_it_starts_and_not_after(marketer, news, audience):
    lead_list, _ = audience
    later = broadcasts.start(marketer, _draft(marketer, news, lead_list),
                             at=T0 + timedelta(hours=1))
    now = broadcasts.start(marketer, _draft(marketer, news, lead_list))

    broadcasts.cancel(marketer, later)
    broadcasts.run_due()
    clock.advance(timedelta(hours=2))
    broadcasts.run_due()

    assert _queued(later) == {} and Broadcast.objects.get(pk=later.pk).status == "cancelled"
    assert len(_queued(now)) == 3
    with pytest.raises(Conflict):
        broadcasts.cancel(marketer, now)


def test_in_test_mode_only_the_test_lists_members_are_queued(marketer, news, audience,
                                                              make_lead):
    lead_list, leads = audience
    tester = make_lead("tester@acme.test")
    testers = services.create_list(marketer, name="Testers")
    services.add_members(marketer, testers, lead_ids=[tester.pk, leads[0].pk])

    send = broadcasts.start(marketer, _draft(marketer, news, lead_list, test_mode=True,
                                             test_list=testers.pk))
    broadcasts.run_due()

    assert set(_queued(send)) == {tester.pk, leads[0].pk}


def test_test_mode_needs_a_test_list_and_a_marketing_template(marketer, news, audience):
    lead_list, _ = audience
    from leadflow.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        _draft(marketer, news, lead_list, test_mode=True)
    assert refused.value.field == "test_list"
    news.marketing = False
    news.save()
    with pytest.raises(InvalidInput) as refused:
        _draft(marketer, news, lead_list)
    assert refused.value.field == "template"


def test_only_admins_and_marketing_send_and_a_rep_sees_no_sends(make_user, news, audience):
    lead_list, _ = audience
    rep = make_user("rita")
    with pytest.raises(Forbidden):
        _draft(rep, news, lead_list)
    client = Client()
    client.force_login(rep)
    assert client.get("/lists/sends/").status_code == 403


def test_the_report_counts_each_outcome_and_skip_reason(marketer, news, audience, make_lead):
    lead_list, leads = audience
    more = [make_lead(f"extra{i}@example.com") for i in range(3)]
    services.add_members(marketer, lead_list, lead_ids=[lead.pk for lead in more])
    send = broadcasts.start(marketer, _draft(marketer, news, lead_list))
    broadcasts.run_due()
    queued = _queued(send)
    # What the outbox makes of them: three sent (one opened and clicked, one then
    # unsubscribed), two skipped for two reasons, one failed.
    sent = [queued[leads[0].pk].pk, queued[leads[1].pk].pk, queued[leads[2].pk].pk]
    EmailMessage.objects.filter(pk__in=sent).update(status="sent", sent_at=T0, due_at=None)
    EmailMessage.objects.filter(pk=sent[0]).update(opened_at=T0, clicked_at=T0)
    EmailMessage.objects.filter(pk=queued[more[0].pk].pk).update(
        status="skipped", skip_reason=EmailMessage.Skip.NO_CONSENT, due_at=None)
    EmailMessage.objects.filter(pk=queued[more[1].pk].pk).update(
        status="skipped", skip_reason=EmailMessage.Skip.SUPPRESSED, due_at=None)
    EmailMessage.objects.filter(pk=queued[more[2].pk].pk).update(status="failed", due_at=None)
    clock.advance(timedelta(hours=1))
    record_event(EventType.UNSUBSCRIBED, lead=leads[1])
    send.refresh_from_db()

    report = broadcasts.report(send)

    assert (report.queued, report.sent, report.failed, report.opened, report.clicked,
            report.unsubscribed, report.bounced) == (0, 3, 1, 1, 1, 1, 0)
    assert report.skipped == {"no_consent": 1, "suppressed": 1, "no_address": 1}
    # Nothing waits any more: the next tick marks the send sent.
    broadcasts.run_due()
    assert Broadcast.objects.get(pk=send.pk).status == Broadcast.Status.SENT


def test_a_marketer_creates_starts_and_reads_a_send_on_its_pages(marketer, news, audience):
    lead_list, _ = audience
    client = Client()
    client.force_login(marketer)
    r = client.post("/lists/sends/new/", {"name": "June news", "template": news.pk,
                                          "list": lead_list.pk, "test_list": ""})
    send = Broadcast.objects.get(name="June news")
    assert r.status_code == 302 and send.status == "draft"

    assert client.post(f"/lists/sends/{send.pk}/start").status_code == 302
    broadcasts.run_due()

    page = client.get(f"/lists/sends/{send.pk}/").content.decode()
    assert '<dd data-count="queued">3</dd>' in page
    assert '<tr data-reason="no_address"><td>no email address</td><td class="num">1</td>' \
        in page
    assert "June news" in client.get("/lists/sends/").content.decode()


def test_the_api_creates_schedules_cancels_and_reports_a_send(marketer, news, audience,
                                                              api_for):
    lead_list, _ = audience
    api = api_for(marketer)
    r = api.post("/broadcasts", {"name": "API news", "template": news.pk,
                                 "list": lead_list.pk})
    assert r.status_code == 201, r.content
    send_id = r.json()["id"]
    assert r.json()["status"] == "draft"

    r = api.post(f"/broadcasts/{send_id}/start", {"at": "2026-05-04T12:00:00+02:00"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["scheduled_at"]) == ("scheduled",
                                                              "2026-05-04T10:00:00Z")
    assert api.post(f"/broadcasts/{send_id}/cancel").json()["status"] == "cancelled"
    assert api.post(f"/broadcasts/{send_id}/cancel").status_code == 409

    other = api.post("/broadcasts", {"name": "Now", "template": news.pk,
                                     "list": lead_list.pk}).json()["id"]
    api.post(f"/broadcasts/{other}/start", {})
    broadcasts.run_due()
    body = api.get(f"/broadcasts/{other}").json()
    assert (body["status"], body["queued_count"], body["report"]["queued"],
            body["report"]["skipped"]) == ("sending", 3, 3, {"no_address": 1})
    assert api.post("/broadcasts", {"name": "x", "template": news.pk,
                                    "list": 2**62}).status_code == 422
