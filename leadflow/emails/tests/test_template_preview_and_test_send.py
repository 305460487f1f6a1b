"""Preview with a real lead (desktop and mobile frames, nothing tracked or stored), and
"send a test to me": to the user's own address through the outbox and a real SMTP
server, never to the lead; within the lead scope of the user."""

import re

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.emails.models import EmailLink, EmailMessage, EmailTemplate, EmailTemplateVersion
from leadflow.emails.outbox import send_due
from leadflow.emails.starters import STARTERS

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING, email="mia@example.com")


@pytest.fixture
def browser(marketer):
    client = Client()
    client.force_login(marketer)
    return client


@pytest.fixture
def newsletter(db):
    template = EmailTemplate.objects.create(name="News", body_format="mjml",
                                            subject=STARTERS["newsletter"].subject,
                                            body_html=STARTERS["newsletter"].body())
    EmailTemplateVersion.objects.create(template=template, language="fr",
                                        subject="{{ lead.first_name }}, les nouvelles",
                                        body_html=STARTERS["letter"].body())
    return template


def test_the_preview_shows_the_email_for_a_real_lead_at_two_widths(browser, make_lead,
                                                                   newsletter):
    lead = make_lead("ana@example.com", first_name="Ana", company_name="Acme")

    r = browser.get(f"/emails/templates/{newsletter.pk}/preview/?lead={lead.pk}")

    page = r.content.decode()
    assert r.status_code == 200
    frames = re.findall(r'<iframe sandbox="" [^>]*class="email-preview-(\w+)" '
                        r'style="width:(\d+)px[^"]*" srcdoc="([^"]*)"', page)
    assert [(kind, width) for kind, width, _ in frames] == [("desktop", "640"),
                                                            ("mobile", "375")]
    assert "Hello Ana," in frames[0][2] and "&lt;!doctype html&gt;" in frames[0][2]
    assert "Ana, this month&#x27;s news" in page
    assert "https://www.example.com/blog/answer-within-the-hour" in page  # not tracked
    # The frames may use the email's own <style> (responsive rules) and no script.
    csp = dict(d.strip().split(" ", 1) for d in r["Content-Security-Policy"].split(";"))
    assert "'unsafe-inline'" in csp["style-src"] and "unsafe" not in csp["script-src"]
    assert not EmailLink.objects.exists() and not EmailMessage.objects.exists()


def test_the_preview_of_another_version_and_for_a_role_without_templates(browser, make_lead,
                                                                   make_user, newsletter):
    lead = make_lead("ana@example.com", first_name="Ana")
    french = browser.get(f"/emails/templates/{newsletter.pk}/preview/?lead={lead.pk}"
                         "&language=fr").content.decode()
    assert "Ana, les nouvelles" in french

    manager = make_user("max", Role.MARKETING)
    manager.role = Role.SALES_MANAGER  # a manager without a team sees only their own
    manager.save()
    other = Client()
    other.force_login(manager)
    assert other.get(f"/emails/templates/{newsletter.pk}/preview/").status_code == 403


def test_a_test_goes_to_my_address_not_to_the_lead(browser, smtp_server, make_lead,
                                                    newsletter):
    lead = make_lead("ana@example.com", first_name="Ana", language="fr",
                     marketing_consent=True)

    r = browser.post(f"/emails/templates/{newsletter.pk}/test",
                     {"lead": lead.pk, "language": "en"})
    send_due()

    assert r.status_code == 302
    [msg] = smtp_server.messages
    assert msg["X-Envelope-To"] == "mia@example.com"
    assert msg["Subject"] == "[Test] Ana, this month's news"  # the version chosen: English
    assert msg["List-Unsubscribe"] is None
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html") \
        .get_payload(decode=True).decode()
    assert "/e/c/" not in html and "/e/o/" not in html  # nothing tracked on the lead
    assert "/u/test" in html  # an unsubscribe link that unsubscribes nobody
    message = EmailMessage.objects.get()
    assert message.test and message.lane == EmailMessage.Lane.TRANSACTIONAL
    assert not smtp_server.to("ana@example.com")


def test_the_api_previews_and_sends_a_test(api_for, marketer, smtp_server, make_lead,
                                           newsletter):
    api = api_for(marketer)
    lead = make_lead("ana@example.com", first_name="Ana")

    preview = api.post(f"/emails/templates/{newsletter.pk}/preview",
                       {"lead_id": lead.pk, "language": "fr"})
    sent = api.post(f"/emails/templates/{newsletter.pk}/test-send", {"lead_id": lead.pk})
    send_due()

    assert preview.status_code == 200
    assert preview.json()["subject"] == "Ana, les nouvelles"
    assert preview.json()["language"] == "fr" and "Hello Ana," in preview.json()["body_html"]
    assert sent.status_code == 202 and sent.json()["to_email"] == "mia@example.com"
    [msg] = smtp_server.to("mia@example.com")
    assert msg["Subject"] == "[Test] Ana, this month's news"


def test_a_lead_the_user_may_not_see_is_neither_previewed_nor_mailed(api_for, make_user,
                                                                     make_lead, newsletter):
    marketer = make_user("mia", Role.MARKETING, email="")
    lead = make_lead("ana@example.com")
    api = api_for(marketer)

    assert api.post(f"/emails/templates/{newsletter.pk}/preview",
                    {"lead_id": 999999}).status_code == 404
    no_address = api.post(f"/emails/templates/{newsletter.pk}/test-send", {"lead_id": lead.pk})
    assert no_address.status_code == 422 and no_address.json()["field"] == "email"
    assert not EmailMessage.objects.exists()
