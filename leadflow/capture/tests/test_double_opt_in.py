"""Double opt-in: a transactional confirmation email; until its link is confirmed, the
lead gets no marketing email."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from leadflow.capture.models import Form, OptInRequest
from leadflow.capture.services import awaiting_confirmation
from leadflow.capture.tests.conftest import aged_token
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template
from leadflow.leads.models import Consent, Lead

pytestmark = pytest.mark.django_db

CONSENT = "Send me the newsletter."


@pytest.fixture
def form(db):
    return Form.objects.create(name="News", slug="news", title="News", double_opt_in=True,
                               consent_text=CONSENT, consent_version="v1")


@pytest.fixture
def newsletter(db):
    return EmailTemplate.objects.create(name="Issue 1", subject="Our news",
                                        body_text="Hello {{ lead.first_name }}")


def _subscribe(form, consent="yes"):
    """Post the form, then let a worker send what it queued."""
    response = _post(form, consent)
    send_due()
    return response


def _post(form, consent="yes"):
    return Client().post("/f/news/", {"email": "ana@example.com", "first_name": "Ana",
                                      "consent": consent, "lf_token": aged_token(form.pk),
                                      "page_url": "https://www.example.com/blog"},
                         REMOTE_ADDR="203.0.113.9")


def _confirm_path(message) -> str:
    body = message.get_payload(decode=True).decode()
    return urlsplit(re.search(r"(http\S+/f/confirm/\S+)", body).group(1)).path


def test_the_form_post_only_queues_the_confirmation_a_worker_sends_it(form, smtp_server):
    r = _post(form)

    assert r.status_code == 200
    assert smtp_server.messages == []  # no SMTP inside the public request
    queued = EmailMessage.objects.get()
    assert queued.status == EmailMessage.Status.QUEUED
    send_due()
    [message] = smtp_server.to("ana@example.com")
    assert message["Message-ID"] == queued.message_id


def test_the_confirmation_email_arrives_without_unsubscribe_headers(form, smtp_server):
    r = _subscribe(form)
    assert r.status_code == 200
    assert "Please check your inbox to confirm your address." in r.content.decode()
    [message] = smtp_server.to("ana@example.com")
    assert message["Subject"] == "Please confirm your email address"
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert "/f/confirm/" in message.get_payload(decode=True).decode()
    assert EmailMessage.objects.get().template.marketing is False


def test_marketing_waits_for_the_confirmation(form, newsletter, smtp_server):
    _subscribe(form)
    lead = Lead.objects.get()
    assert awaiting_confirmation(lead)
    before = send_template(lead, newsletter, dedupe_key="issue-1:before")
    assert before.status == EmailMessage.Status.SKIPPED
    assert before.error == "awaiting double opt-in confirmation"

    [confirmation] = smtp_server.to("ana@example.com")
    path = _confirm_path(confirmation)
    page = Client().get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "<form method=\"post\">" in page.content.decode()
    assert awaiting_confirmation(lead)
    r = Client().post(path, REMOTE_ADDR="203.0.113.10")
    assert r.status_code == 200 and "Your email address is confirmed." in r.content.decode()

    assert not awaiting_confirmation(lead)
    after = send_template(lead, newsletter, dedupe_key="issue-1:after")
    send_due()
    after.refresh_from_db()
    assert after.status == EmailMessage.Status.SENT
    assert [m["Subject"] for m in smtp_server.to("ana@example.com")][-1] == "Our news"


def test_confirming_records_consent_and_an_event_once(form, smtp_server):
    _subscribe(form)
    path = _confirm_path(smtp_server.to("ana@example.com")[0])
    Client().post(path, REMOTE_ADDR="203.0.113.10")
    Client().post(path)  # again: nothing more

    lead = Lead.objects.get()
    granted = lead.consents.filter(method="double opt-in").get()
    assert (granted.action, granted.text, granted.text_version) == (
        Consent.Action.GRANTED, CONSENT, "v1")
    assert (granted.ip, granted.page_url) == ("203.0.113.10", "https://www.example.com/blog")
    assert lead.events.filter(type="optin_confirmed").count() == 1
    assert OptInRequest.objects.get().confirmed_at is not None


def test_a_bad_confirmation_link_is_404(form):
    assert Client().get("/f/confirm/nope/").status_code == 404
    assert Client().post("/f/confirm/nope/").status_code == 404


def test_without_consent_ticked_no_confirmation_is_sent(form, smtp_server):
    _subscribe(form, consent="")
    assert smtp_server.messages == []
    assert not awaiting_confirmation(Lead.objects.get())


def test_a_confirmed_lead_is_not_asked_again(form, smtp_server):
    _subscribe(form)
    Client().post(_confirm_path(smtp_server.to("ana@example.com")[0]))
    _subscribe(form)
    assert len(smtp_server.messages) == 1
    assert not awaiting_confirmation(Lead.objects.get())


def test_the_marketing_check_costs_one_query(form, django_assert_num_queries):
    _subscribe(form)
    lead = Lead.objects.get()
    with django_assert_num_queries(1):
        awaiting_confirmation(lead)
