"""Bounces and complaints: DSNs by SMTP (`leadflow bounces`) and HTTP, ARF complaints, a
provider's webhook (Postmark's payload through anymail), soft bounces retried then
suppressed, forged addresses refused, erasure."""

import base64
import json
import smtplib
import socket
from datetime import timedelta

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.emails import bounce_listener, outbox, verp
from leadflow.emails.models import Bounce, EmailMessage, EmailTemplate, Suppression
from leadflow.emails.services import send_template
from leadflow.emails.suppression import address_hash, is_suppressed
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event

ANA = "ana@acme.example"


def dsn(to: str, *, recipient: str = ANA, action: str = "failed", status: str = "5.1.1",
        diagnostic: str = "smtp; 550 5.1.1 <ana@acme.example>: Recipient address rejected",
        message_id: str = "<orig@leadflow>", dsn_id: str = "<dsn-1@mx.acme.example>") -> bytes:
    """A delivery status notification as Postfix writes one."""
    return f"""From: MAILER-DAEMON@mx.acme.example (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: {dsn_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="B0UND"

--B0UND
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--B0UND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example
Arrival-Date: Mon,  4 May 2026 09:00:00 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mail.acme.example
Diagnostic-Code: {diagnostic}

--B0UND
Content-Type: text/rfc822-headers

From: Leadflow <marketing@localhost>
To: {recipient}
Subject: Welcome
Message-ID: {message_id}

--B0UND--
""".replace("\n", "\r\n").encode()


def arf(*, mail_from: str = "", recipient: str = ANA, message_id: str = "<orig@leadflow>",
        feedback_type: str = "abuse") -> bytes:
    """A complaint report (RFC 5965) as a mailbox provider's feedback loop sends one."""
    return f"""From: fbl@isp.example
To: fbl-reports@leadflow.example
Subject: FW: Welcome
Message-ID: <arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="A"

--A
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--A
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <{mail_from}>
Original-Rcpt-To: <{recipient}>
Arrival-Date: Mon, 04 May 2026 09:00:00 +0000

--A
Content-Type: message/rfc822

From: Leadflow <marketing@localhost>
To: {recipient}
Subject: Welcome
Message-ID: {message_id}

Hello.

--A--
""".replace("\n", "\r\n").encode()


@pytest.fixture
def sent(smtp_server, make_lead):
    """A marketing email sent to Ana, who consented; returns the message."""
    from leadflow.leads.services import record_consent

    lead = make_lead(ANA, first_name="Ana")
    record_consent(lead, granted=True, method="form")
    template = EmailTemplate.objects.create(name="Welcome", subject="Welcome",
                                            body_text="Hello.")
    message = send_template(lead, template, dedupe_key="welcome:ana")
    outbox.send_due()
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT, message.error
    return message


def _verp(message: EmailMessage) -> str:
    return verp.return_path(message.pk, "leadflow.example")


def _events(lead_id: int, type: str) -> list[Event]:
    return list(Event.objects.filter(lead_id=lead_id, type=type))


def assert_hard_bounced(message: EmailMessage, via: str) -> None:
    message.refresh_from_db()
    lead = Lead.objects.get(pk=message.lead_id)
    assert message.bounced_at is not None
    assert Suppression.objects.get(address_hash=address_hash(ANA)).reason == "hard_bounce"
    assert "email_bounced" in lead.quality_flags and lead.contact_data_incorrect
    [event] = _events(lead.pk, "email_bounced")
    assert (event.properties["kind"], event.properties["status"]) == ("hard", "5.1.1")
    assert event.properties["message_id"] == message.pk
    bounce = Bounce.objects.get()
    assert (bounce.via, bounce.kind, bounce.address, bounce.message_id) == (
        via, "hard", ANA, message.pk)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener():
    port = _free_port()
    controller = bounce_listener.start("127.0.0.1", port)
    try:
        yield port
    finally:
        controller.stop()


# -- SMTP: `leadflow bounces` ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dsn_received_over_smtp_suppresses_flags_the_lead_and_records_the_bounce(
        listener, sent):
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        client.sendmail("", [_verp(sent)], dsn(_verp(sent)))

    assert_hard_bounced(sent, "smtp")
    assert not is_suppressed("someone.else@acme.example")


@pytest.mark.django_db(transaction=True)
def test_the_listener_refuses_forged_and_foreign_recipients(listener, sent):
    good = _verp(sent)
    forged = good.replace(f"+{sent.pk}-", f"+{sent.pk + 1}-")  # another id, same signature
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        client.ehlo()
        for address in (forged, "postmaster@leadflow.example", ANA):
            client.mail("")
            code, answer = client.rcpt(address)
            assert code == 550, (address, answer)
            client.rset()
    assert not Bounce.objects.exists() and not Suppression.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_auto_reply_to_a_verp_address_is_accepted_and_changes_nothing(listener, sent):
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        client.sendmail("", [_verp(sent)], b"Subject: Out of office\r\n\r\nBack Monday.\r\n")
    assert not Bounce.objects.exists() and not Suppression.objects.exists()


def test_the_bounces_command_reads_its_listen_address_loudly():
    from leadflow.config import ConfigError, Env

    assert Env({}).host_port("LEADFLOW_BOUNCE_LISTEN", "127.0.0.1:2525") == ("127.0.0.1", 2525)
    assert Env({"X": "[::1]:25"}).host_port("X", "") == ("::1", 25)
    for bad in ("2525", "host:", "host:99999", "host:²"):
        with pytest.raises(ConfigError, match="X must be host:port"):
            Env({"X": bad}).host_port("X", "")


# -- HTTP: POST /api/v1/emails/bounces -----------------------------------------------------


def _post(api, raw: bytes):
    return api.client.post("/api/v1/emails/bounces", raw, content_type="message/rfc822",
                           **api.auth)


@pytest.mark.django_db
def test_a_dsn_posted_to_the_api_is_matched_by_its_verp_address(api, sent):
    r = _post(api, dsn(_verp(sent)))

    assert r.status_code == 200, r.content
    assert r.json() == {"report_type": "delivery-status", "matched": True, "results": [
        {"address": ANA, "kind": "hard", "status": "5.1.1", "message_id": sent.pk,
         "effect": "suppressed"}]}
    assert_hard_bounced(sent, "http")


@pytest.mark.django_db
def test_a_dsn_without_verp_is_matched_by_the_returned_message_id(api, sent):
    r = _post(api, dsn("bounces@leadflow.example", message_id=sent.message_id))

    assert r.status_code == 200, r.content
    assert_hard_bounced(sent, "http")


@pytest.mark.django_db
def test_the_same_report_twice_counts_once(api, sent):
    _post(api, dsn(_verp(sent)))
    again = _post(api, dsn(_verp(sent)))

    assert again.json()["results"][0]["effect"] == "duplicate"
    assert Bounce.objects.count() == 1 and len(_events(sent.lead_id, "email_bounced")) == 1


@pytest.mark.django_db
def test_an_arf_complaint_suppresses_withdraws_consent_and_is_on_the_timeline(api, sent):
    r = _post(api, arf(mail_from=_verp(sent)))

    assert r.status_code == 200, r.content
    assert r.json()["results"] == [{"address": ANA, "kind": "complaint", "status": "",
                                    "message_id": sent.pk, "effect": "suppressed"}]
    lead = Lead.objects.get(pk=sent.lead_id)
    assert (lead.do_not_email, lead.marketing_consent) == (True, False)
    assert lead.consents.order_by("-pk").first().method == "spam complaint"
    assert Suppression.objects.get(address_hash=address_hash(ANA)).reason == "complaint"
    assert len(_events(lead.pk, "email_complained")) == 1


@pytest.mark.django_db
def test_a_not_spam_feedback_report_changes_nothing(api, sent):
    r = _post(api, arf(mail_from=_verp(sent), feedback_type="not-spam"))

    assert r.status_code == 200 and r.json()["results"] == []
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_an_unmatched_report_is_recorded_without_effect_and_said_so(api, sent):
    r = _post(api, dsn("nobody@leadflow.example", recipient="zed@acme.example",
                       message_id="<unknown@elsewhere>"))

    assert r.status_code == 200, r.content
    assert r.json()["matched"] is False
    assert r.json()["results"][0]["effect"] == "unmatched"
    assert Bounce.objects.get().message_id is None
    assert not Suppression.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [
    b"", b"Subject: hi\r\n\r\nhello", b"\x00\xff garbage",
    dsn("x@y").replace(b"delivery-status", b"disposition-notification")])
def test_what_is_not_a_report_is_a_422_naming_the_body(api, raw):
    r = _post(api, raw)

    assert r.status_code == 422, r.content
    assert r.json()["field"] == "body" and r.json()["message"]


@pytest.mark.django_db
def test_a_sales_rep_may_not_post_bounces(api_for, make_user, sent):
    rep = api_for(make_user("rita", Role.SALES_REP))

    r = _post(rep, dsn(_verp(sent)))

    assert r.status_code == 403
    assert not Bounce.objects.exists()


# -- A provider's webhook through anymail (Postmark's payload) -----------------------------


def _postmark(client: Client, sent: EmailMessage, *, auth: str, type: str = "HardBounce",
              details: str = "smtp;550 5.1.1 The email account does not exist.",
              event_id: int = 4323372036854775807, metadata: dict | None = None):
    payload = {"RecordType": "Bounce", "ID": event_id, "Type": type, "TypeCode": 1,
               "Name": "Hard bounce", "Tag": "", "MessageID": "883953f4-6105-42a2-a16a",
               "Metadata": {"leadflow_message_id": str(sent.pk)} if metadata is None
               else metadata,
               "ServerID": 23, "MessageStream": "outbound",
               "Description": "The server was unable to deliver your message.",
               "Details": details, "Email": ANA, "From": "marketing@localhost",
               "BouncedAt": "2026-05-04T09:00:00.9070259Z", "DumpAvailable": True,
               "Inactive": True, "CanActivate": True, "Subject": "Welcome"}
    return client.post("/anymail/postmark/tracking/", json.dumps(payload),
                       content_type="application/json",
                       HTTP_AUTHORIZATION="Basic " + base64.b64encode(auth.encode()).decode())


@pytest.mark.django_db
def test_a_providers_hard_bounce_webhook_has_the_same_effects(settings, client, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}

    r = _postmark(client, sent, auth="hook:s3cret")

    assert r.status_code == 200, r.content
    assert_hard_bounced(sent, "provider")


@pytest.mark.django_db
def test_a_providers_event_without_our_metadata_names_the_last_message_sent_to_it(
        settings, client, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}

    _postmark(client, sent, auth="hook:s3cret", metadata={})

    assert_hard_bounced(sent, "provider")


@pytest.mark.django_db
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning")
def test_provider_webhooks_need_the_secret(settings, client, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    assert _postmark(client, sent, auth="hook:wrong").status_code == 400
    settings.ANYMAIL = {}  # anymail would take anyone's post: the events are ignored
    assert _postmark(client, sent, auth="anyone:at-all").status_code == 200
    assert not Bounce.objects.exists() and not Suppression.objects.exists()


# -- Soft bounces ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_soft_bounces_retry_with_backoff_then_suppress_at_the_limit(settings, api, sent,
                                                                    smtp_server):
    settings.LEADFLOW_SOFT_BOUNCE_LIMIT = 3
    for n in (1, 2):
        r = _post(api, dsn(_verp(sent), status="4.2.2", dsn_id=f"<soft-{n}@mx>",
                           diagnostic="smtp; 452 4.2.2 Mailbox full"))
        assert r.json()["results"][0]["effect"] == "retry"
        sent.refresh_from_db()
        assert sent.status == EmailMessage.Status.QUEUED and sent.due_at > clock.now()
        assert outbox.send_due() == 0  # not before the backoff
        clock.advance(timedelta(hours=1))
        assert outbox.send_due() == 1
        assert not is_suppressed(ANA)

    copies = smtp_server.to(ANA)
    assert len(copies) == 3 and len({m["Message-ID"] for m in copies}) == 1
    r = _post(api, dsn(_verp(sent), status="4.2.2", dsn_id="<soft-3@mx>"))

    assert r.json()["results"][0]["effect"] == "suppressed"
    assert Suppression.objects.get(address_hash=address_hash(ANA)).reason == "soft_bounces"
    sent.refresh_from_db()
    assert sent.status == EmailMessage.Status.SENT  # not sent again to a suppressed address
    assert [e.properties["kind"] for e in _events(sent.lead_id, "email_bounced")] == ["soft"] * 3


@pytest.mark.django_db
def test_a_delivery_between_soft_bounces_starts_the_count_again(settings, api, sent):
    settings.LEADFLOW_SOFT_BOUNCE_LIMIT = 2
    _post(api, dsn(_verp(sent), status="4.2.2", dsn_id="<soft-1@mx>"))
    clock.advance(timedelta(minutes=1))
    EmailMessage.objects.filter(pk=sent.pk).update(opened_at=clock.now())  # it did arrive
    clock.advance(timedelta(minutes=1))

    r = _post(api, dsn(_verp(sent), status="4.2.2", dsn_id="<soft-2@mx>"))

    assert r.json()["results"][0]["effect"] != "suppressed"
    assert not is_suppressed(ANA)


@pytest.mark.django_db
def test_a_delayed_report_is_recorded_but_neither_retried_nor_counted(settings, api, sent):
    settings.LEADFLOW_SOFT_BOUNCE_LIMIT = 1
    r = _post(api, dsn(_verp(sent), action="delayed", status="4.4.7"))

    assert r.json()["results"][0]["effect"] == "recorded"
    assert Bounce.objects.get().delayed and not is_suppressed(ANA)
    sent.refresh_from_db()
    assert sent.status == EmailMessage.Status.SENT


@pytest.mark.django_db
def test_a_providers_soft_bounce_is_retried(settings, client, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}

    _postmark(client, sent, auth="hook:s3cret", type="SoftBounce",
              details="smtp;452 4.2.2 Mailbox full")

    sent.refresh_from_db()
    assert Bounce.objects.get().kind == "soft" and sent.status == EmailMessage.Status.QUEUED
    assert not is_suppressed(ANA)


# -- Erasure ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_erasure_wipes_addresses_and_diagnostics_of_bounce_records(api, sent):
    _post(api, dsn(_verp(sent)))
    _post(api, dsn("nobody@leadflow.example", message_id="<lost@elsewhere>",
                   dsn_id="<dsn-2@mx>"))  # unmatched, the same person
    assert Bounce.objects.filter(address=ANA).count() == 2

    assert api.post(f"/leads/{sent.lead_id}/erase").status_code == 200

    assert list(Bounce.objects.values_list("address", "diagnostic", "address_hash")) == [
        ("", "", address_hash(ANA))] * 2
    assert is_suppressed(ANA)  # still never mailed again
