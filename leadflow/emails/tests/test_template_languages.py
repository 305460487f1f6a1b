"""Per-language versions: each lead gets the version of its language (or of the same
language's family), else the template's default; the message records which."""

import pytest

from leadflow.emails.models import EmailMessage, EmailTemplate, EmailTemplateVersion
from leadflow.emails.outbox import send_due
from leadflow.emails.rendering import choose_language
from leadflow.emails.services import send_template

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"


def text_of(msg) -> str:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode()


@pytest.fixture
def welcome(db):
    template = EmailTemplate.objects.create(
        name="Welcome", language="en", subject="Welcome {{ lead.first_name }}",
        body_text="Hello {{ lead.first_name|default:'there' }}.",
        body_html="<p>Hello {{ lead.first_name|default:'there' }}.</p>")
    EmailTemplateVersion.objects.create(
        template=template, language="fr", subject="Bienvenue {{ lead.first_name }}",
        body_text="Bonjour {{ lead.first_name|default:'à vous' }}.",
        body_html="<p>Bonjour {{ lead.first_name|default:'à vous' }}.</p>")
    return template


@pytest.mark.parametrize(("language", "subject", "chosen"), [
    ("fr", "Bienvenue Ana", "fr"),
    ("fr-CA", "Bienvenue Ana", "fr"),
    ("FR_be", "Bienvenue Ana", "fr"),
    ("en-GB", "Welcome Ana", "en"),
    ("de", "Welcome Ana", "en"),
    ("", "Welcome Ana", "en"),
])
def test_each_lead_gets_the_version_of_its_language(smtp_server, make_lead, welcome,
                                                    language, subject, chosen):
    lead = make_lead("ana@example.com", first_name="Ana", language=language)

    message = send_template(lead, welcome, dedupe_key="w")
    send_due()

    [msg] = smtp_server.to("ana@example.com")
    assert msg["Subject"] == subject
    message.refresh_from_db()
    assert (message.language, message.status) == (chosen, EmailMessage.Status.SENT)


def test_the_marketing_footer_speaks_the_leads_language(smtp_server, make_lead, welcome):
    french = make_lead("fr@example.com", language="fr", marketing_consent=True)
    english = make_lead("en@example.com", language="en", marketing_consent=True)

    send_template(french, welcome, dedupe_key="fr")
    send_template(english, welcome, dedupe_key="en")
    send_due()

    [fr], [en] = smtp_server.to("fr@example.com"), smtp_server.to("en@example.com")
    assert "Se désinscrire :" in text_of(fr) and "Unsubscribe:" not in text_of(fr)
    assert "Unsubscribe:" in text_of(en)


def test_a_batch_of_many_languages_is_rendered_in_one_pass(make_lead, welcome):
    from leadflow.emails.rendering import render_messages

    leads = [make_lead(f"l{i}@example.com", first_name=f"L{i}", language=code)
             for i, code in enumerate(["fr", "en", "fr-CA", "es", ""])]
    messages = [EmailMessage(pk=1000 + i, lead=lead, template=welcome, context={})
                for i, lead in enumerate(leads)]

    render_messages(messages)

    assert [m.language for m in messages] == ["fr", "en", "fr", "en", "en"]
    assert [m.subject for m in messages] == ["Bienvenue L0", "Welcome L1", "Bienvenue L2",
                                             "Welcome L3", "Welcome L4"]


def test_the_choice_prefers_the_exact_code_then_the_language_family():
    assert choose_language("pt-BR", "en", ["pt", "pt-br"]) == "pt-br"
    assert choose_language("pt-PT", "en", ["pt-br"]) == "pt-br"
    assert choose_language("en-US", "en", ["fr"]) is None
    assert choose_language("fr", "fr", ["fr"]) is None
