"""Email in a browser: a marketer makes a template from a starter layout, reads its spam
checks, previews it as a real lead at desktop and mobile widths and sends a test to
themselves; a French lead changes their topics in the preference centre."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.utils import translation
from django.utils.translation import gettext

from leadflow.accounts.models import Role
from leadflow.emails import editor
from leadflow.emails.models import EmailMessage, EmailTemplate, Topic, TopicOptOut
from leadflow.emails.preferences import preferences_url
from leadflow.leads.services import upsert_lead
from leadflow.tracking.models import Event, EventType

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-" + username)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"://[^/]+/$"))


def test_marketer_builds_a_template_previews_it_as_a_lead_and_sends_a_test(
        page, make_user, screenshot):
    from playwright.sync_api import expect

    mia = make_user("mia", Role.MARKETING, email="mia@leadflow.example")
    ada, _ = upsert_lead({"email": "ada@acme.example", "first_name": "Adaline"}, route=False)
    _sign_in(page, "mia")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Email").click()
    page.wait_for_url("**/emails/")
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_role("link", name="Newsletter").click()
    expect(page.get_by_label("Body (MJML or HTML)")).to_contain_text("<mjml>")
    expect(page.get_by_label("Body format")).to_have_value(EmailTemplate.Format.MJML)
    page.get_by_label("Name", exact=True).fill("March news")
    page.get_by_label("Subject").fill("{{ lead.first_name }}, our March news")
    page.get_by_role("button", name="Save", exact=True).click()

    page.wait_for_url(re.compile(r"/emails/templates/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("Template saved.")
    template = EmailTemplate.objects.get()
    assert (template.name, template.body_format) == ("March news", EmailTemplate.Format.MJML)
    checks = page.get_by_role("region", name="Spam checks")
    expect(checks).to_be_visible()
    findings = editor.checks(mia, template, language=template.language)
    if findings:
        expect(checks.locator("li[data-code]")).to_have_count(len(findings))
    else:
        expect(checks).to_contain_text("Nothing found.")

    page.get_by_role("link", name="Preview and test").click()
    page.get_by_label("As the lead").select_option(str(ada.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#preview-subject")).to_have_text("Adaline, our March news")
    desktop, mobile = page.get_by_title("Desktop preview"), page.get_by_title("Mobile preview")
    for frame in (desktop, mobile):
        expect(frame.content_frame.get_by_text("Hello Adaline,")).to_be_visible()
    desktop_width = desktop.bounding_box()["width"]
    mobile_width = mobile.bounding_box()["width"]
    assert desktop_width > mobile_width >= 375
    screenshot(page, "email-template-preview")

    assert not EmailMessage.objects.exists()
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.get_by_role("status")).to_contain_text("Test queued for mia@leadflow.example")
    sent = EmailMessage.objects.get()
    assert (sent.test, sent.to_email, sent.lead_id, sent.template_id) == (
        True, "mia@leadflow.example", ada.pk, template.pk)
    assert "Adaline" in sent.subject


def test_french_lead_turns_a_topic_off_in_the_preference_centre(page, screenshot):
    from playwright.sync_api import expect

    lead, _ = upsert_lead({"email": "elise@exemple.fr", "first_name": "Élise",
                           "language": "fr"}, route=False)
    news = Topic.objects.create(key="news", name="Product news", name_fr="Nouveautés",
                                position=1)
    events = Topic.objects.create(key="events", name="Events", name_fr="Événements",
                                  position=2)
    with translation.override("fr"):
        title, save = gettext("Email preferences"), gettext("Save my preferences")
        saved = gettext("Your preferences are saved.")
    assert title != "Email preferences"  # the French catalogue is there

    page.goto(urlsplit(preferences_url(lead.pk)).path)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_label("Nouveautés")).to_be_checked()
    expect(page.get_by_label("Événements")).to_be_checked()
    # Each box sits beside its topic's name, not alone in the middle of a stretched row.
    assert page.get_by_label("Nouveautés").bounding_box()["width"] < 40
    # Reading the page (as a mail scanner following links does) changes nothing.
    assert not TopicOptOut.objects.exists()
    assert not Event.objects.filter(type=EventType.PREFERENCES_CHANGED).exists()

    page.get_by_label("Événements").uncheck()
    page.get_by_role("button", name=save).click()
    page.wait_for_url("**?saved=1")
    expect(page.get_by_role("status")).to_have_text(saved)
    expect(page.get_by_label("Nouveautés")).to_be_checked()
    expect(page.get_by_label("Événements")).not_to_be_checked()
    screenshot(page, "email-preference-centre-fr")

    assert list(TopicOptOut.objects.values_list("lead_id", "topic_id")) == [(lead.pk, events.pk)]
    assert not TopicOptOut.objects.filter(topic=news).exists()
    lead.refresh_from_db()
    assert not lead.do_not_email
    event = Event.objects.get(type=EventType.PREFERENCES_CHANGED)
    assert event.properties["turned_off"] == ["events"]
