"""The template editor's pages: the list, a new template from a starter layout, editing
each language version, the spam checks before saving, who may, and the audit log."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.emails.models import EmailTemplate, EmailTemplateVersion
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


def form(**fields):
    data = {"name": "Launch", "subject": "Hello {{ lead.first_name }}", "body_format": "html",
            "language": "en", "marketing": "on", "topic": "", "sender": "",
            "body_html": "<p>" + "Words worth reading about the new range. " * 6 + "</p>",
            "body_text": "", "action": "save"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_a_marketer_creates_a_template_from_a_starter_layout(browser):
    page = browser.get("/emails/templates/new/?starter=announcement").content.decode()
    assert "The new range is here" in page and "&lt;mj-button" in page

    r = browser.post("/emails/templates/new/", form(body_format="mjml",
                                                   body_html=STARTERS["announcement"].body()))

    template = EmailTemplate.objects.get(name="Launch")
    assert r.status_code == 302 and r["Location"] == f"/emails/templates/{template.pk}/"
    assert template.body_format == "mjml" and template.marketing
    listing = browser.get("/emails/templates/").content.decode()
    assert "Launch" in listing and "Newsletter" in listing  # starters offered there too


def test_the_email_hub_links_to_templates_for_marketers_only(browser, make_user):
    assert 'href="/emails/templates/"' in browser.get("/emails/").content.decode()
    rep = Client()
    rep.force_login(make_user("rick", Role.SALES_REP))
    assert 'href="/emails/templates/"' not in rep.get("/emails/").content.decode()


def test_a_sales_rep_may_neither_see_nor_change_templates(make_user):
    template = EmailTemplate.objects.create(name="T", subject="s", body_text="x")
    rep = Client()
    rep.force_login(make_user("rick", Role.SALES_REP))

    assert rep.get("/emails/templates/").status_code == 403
    assert rep.post(f"/emails/templates/{template.pk}/", form()).status_code == 403
    assert EmailTemplate.objects.get().name == "T"


def test_checking_shows_the_findings_of_the_form_as_typed_and_saves_nothing(browser):
    template = EmailTemplate.objects.create(name="T", subject="s", body_html="<p>x</p>")

    r = browser.post(f"/emails/templates/{template.pk}/",
                     form(name="T", action="check", subject="",
                          body_html='<img src="https://x.example/a.png"><a href="/x">go</a>'))

    page = r.content.decode()
    for code in ("missing_subject", "image_only", "bad_link"):
        assert f'data-code="{code}"' in page
    assert "as typed, not saved" in page
    assert EmailTemplate.objects.get().subject == "s"


def test_a_template_that_does_not_compile_is_not_saved(browser):
    template = EmailTemplate.objects.create(name="T", subject="s", body_html="<p>x</p>")

    r = browser.post(f"/emails/templates/{template.pk}/",
                     form(name="T", body_html="<p>{% for x in %}</p>"))

    assert r.status_code == 422
    assert "Template error in body_html" in r.content.decode()
    assert EmailTemplate.objects.get().body_html == "<p>x</p>"


def test_a_french_version_is_added_edited_and_deleted(browser):
    template = EmailTemplate.objects.create(name="T", subject="Hello", body_html="<p>x</p>")
    url = f"/emails/templates/{template.pk}/?language=fr"
    assert "+ fr" in browser.get(f"/emails/templates/{template.pk}/").content.decode()

    r = browser.post(url, {"subject": "Bonjour", "body_html": "<p>" + "Des mots. " * 25 + "</p>",
                           "body_text": "", "action": "save"})

    assert r.status_code == 302 and r["Location"].endswith("?language=fr")
    version = EmailTemplateVersion.objects.get(template=template, language="fr")
    assert version.subject == "Bonjour"
    assert EmailTemplate.objects.get().subject == "Hello"  # the default is untouched
    browser.post(url, {"action": "delete"})
    assert not EmailTemplateVersion.objects.exists()


def test_template_edits_are_in_the_audit_log(browser, marketer):
    browser.post("/emails/templates/new/", form())
    template = EmailTemplate.objects.get()
    browser.post(f"/emails/templates/{template.pk}/?language=fr",
                 {"subject": "Bonjour", "body_html": "<p>x</p>", "action": "save"})
    browser.post(f"/emails/templates/{template.pk}/", form(subject="Hi again"))

    entries = AuditEntry.objects.filter(kind=AuditEntry.Kind.CONFIG, actor=marketer)
    targets = [(e.object_type, e.action) for e in entries.order_by("pk")]
    assert ("emails.EmailTemplate", "created") in targets
    assert ("emails.EmailTemplateVersion", "created") in targets
    assert ("emails.EmailTemplate", "changed") in targets
