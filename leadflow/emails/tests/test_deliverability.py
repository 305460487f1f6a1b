"""Complaint and bounce rates per sending domain (30 days): the page, the API, and the
admins' alert above 0.3%, once per domain per day."""

from datetime import UTC, datetime, timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.accounts.permissions import Actor
from leadflow.core import clock
from leadflow.emails import bounces
from leadflow.emails.models import EmailMessage, SenderIdentity
from leadflow.notifications import deliverability as alerts
from leadflow.notifications.models import Notification

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time(monkeypatch):
    monkeypatch.setattr(alerts, "_last_check", None)  # a check of another test's clock
    with clock.travel(T0):
        yield


def _sent(lead, count: int, sender: SenderIdentity | None, tag: str, *,
          at: datetime | None = None) -> list[EmailMessage]:
    return EmailMessage.objects.bulk_create(
        EmailMessage(lead=lead, dedupe_key=f"{tag}:{n}", to_email=f"p{n}@{tag}.example",
                     subject="News", status="sent", sent_at=at or clock.now(), sender=sender)
        for n in range(count))


def _complaints(messages: list[EmailMessage]) -> None:
    bounces.record([bounces.Incoming(address=m.to_email, kind="complaint", key=f"c:{m.pk}",
                                     message_id=m.pk) for m in messages],
                   via="provider", actor=Actor.system())


@pytest.fixture
def mailing(make_lead):
    """1,000 sent from news.example (4 complaints: 0.4%) and 1,000 from the default sender
    (localhost, 1 complaint and 2 hard bounces: 0.1%), plus older mail that no longer counts."""
    lead = make_lead("reader@acme.example")
    news = SenderIdentity.objects.create(name="News", from_name="News",
                                         from_email="hello@News.example")
    loud = _sent(lead, 1000, news, "news")
    quiet = _sent(lead, 1000, None, "default")
    _complaints(loud[:4] + quiet[:1])
    bounces.record([bounces.Incoming(address=m.to_email, kind="hard", key=f"h:{m.pk}",
                                     message_id=m.pk) for m in quiet[1:3]],
                   via="smtp", actor=Actor.system())
    _sent(lead, 500, news, "old", at=T0 - timedelta(days=31))
    return news


def test_rates_per_sending_domain_over_30_days_in_the_api(api, mailing):
    r = api.get("/emails/deliverability")

    assert r.status_code == 200, r.content
    assert r.json() == [
        {"domain": "news.example", "sent": 1000, "hard_bounces": 0, "complaints": 4,
         "bounce_rate": 0.0, "complaint_rate": 0.004, "alert": True},
        {"domain": "localhost", "sent": 1000, "hard_bounces": 2, "complaints": 1,
         "bounce_rate": 0.002, "complaint_rate": 0.001, "alert": False}]


def test_the_page_shows_the_alert_for_the_domain_above_the_threshold(client, admin_user,
                                                                      mailing):
    client.force_login(admin_user)

    page = client.get("/emails/deliverability/").content.decode()

    assert 'data-alert="news.example"' in page and 'data-alert="localhost"' not in page
    assert "0.40%" in page and "0.10%" in page


def test_no_alert_at_or_below_the_threshold(client, admin_user, make_lead):
    lead = make_lead("reader@acme.example")
    _complaints(_sent(lead, 1000, None, "default")[:3])  # 0.3%: not above
    client.force_login(admin_user)

    assert "data-alert" not in client.get("/emails/deliverability/").content.decode()


def test_sales_may_not_see_deliverability(client, api_for, make_user):
    rep = make_user("rita", Role.SALES_REP)
    client.force_login(rep)

    assert client.get("/emails/deliverability/").status_code == 403
    assert api_for(rep).get("/emails/deliverability").status_code == 403


def test_admins_are_notified_once_per_domain_per_day(admin_user, make_user, mailing):
    other_admin = make_user("ada", Role.ADMIN)
    make_user("mia", Role.MARKETING)

    assert alerts.alert_complaint_rates() == 2
    clock.advance(timedelta(hours=2))
    assert alerts.alert_complaint_rates() == 0  # the same day
    notes = Notification.objects.filter(kind="complaint_rate")
    assert sorted(n.user_id for n in notes) == sorted([admin_user.pk, other_admin.pk])
    assert notes[0].payload == {"domain": "news.example", "sent": 1000, "complaints": 4,
                                "percent": 0.4}

    clock.advance(timedelta(days=1))
    assert alerts.alert_complaint_rates() == 2


def test_the_alert_reads_in_the_notifications_page(client, admin_user, mailing):
    alerts.alert_complaint_rates()
    client.force_login(admin_user)

    page = client.get("/notifications/").content.decode()

    assert "news.example: 0.4% of its emails reported as spam" in page
