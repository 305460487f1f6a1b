"""Personalisation through a real SMTP server: the lead, its company and owner, and what
its events say (the televisions it viewed, the range it bought), with safe fallbacks."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.services import send_template
from leadflow.leads.models import Company, CustomFieldDefinition
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"


def text_of(msg) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no text part")


def html_of(msg) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no html part")


def send(lead, template):
    send_template(lead, template, dedupe_key=f"t:{lead.pk}:{template.pk}")
    send_due()


@pytest.fixture
def televisions(db):
    return EmailTemplate.objects.create(
        name="TV follow-up", marketing=False,
        subject="{{ lead.first_name|default:'Hello' }}, still thinking about "
                "{{ events.product_viewed.0.product|default:'a new TV' }}?",
        body_text="You looked at: {% for item in events.product_viewed %}{{ item.product }}"
                  "{% if not forloop.last %}, {% endif %}{% empty %}nothing yet{% endfor %}.\n"
                  "Last bought: {{ last_purchase.product_range|default:'nothing' }} "
                  "({{ purchases|length }} orders).\n"
                  "{{ company.name|default:'your company' }} / "
                  "{{ company.industry|default:'?' }} / "
                  "{{ owner.name|default:'our team' }} <{{ owner.email|default:'-' }}> / "
                  "plan {{ lead.custom.plan|default:'none' }} / {{ lead.plan|default:'none' }}",
        body_html="<p>Hi {{ lead.first_name|default:'there' }}</p>")


def test_viewed_products_and_the_last_purchase_fill_the_email(smtp_server, make_lead,
                                                             make_user, televisions):
    owner = make_user("marie", Role.SALES_REP, first_name="Marie", last_name="Curie",
                      email="marie@shop.example")
    company = Company.objects.create(name="Acme", industry="Retail")
    CustomFieldDefinition.objects.create(key="plan", label="Plan")
    lead = make_lead("ana@example.com", first_name="Ana", custom={"plan": "gold"})
    lead.owner, lead.company = owner, company
    lead.save(update_fields=["owner", "company"])
    for minutes, product in ((30, "Lumen 43"), (20, "Lumen 55 OLED"), (10, "Lumen 65")):
        record_event("product_viewed", lead=lead, properties={"product": product},
                     occurred_at=clock.now() - timedelta(minutes=minutes))
    record_event("purchase", lead=lead, occurred_at=clock.now() - timedelta(days=90),
                 properties={"product": "Soundbar S1", "product_range": "Audio"})
    record_event("purchase", lead=lead, occurred_at=clock.now() - timedelta(days=2),
                 properties={"product": "Lumen 43", "product_range": "Televisions",
                             "value": 499, "currency": "EUR"})

    send(lead, televisions)

    [msg] = smtp_server.to("ana@example.com")
    assert msg["Subject"] == "Ana, still thinking about Lumen 65?"
    text = text_of(msg)
    assert "You looked at: Lumen 65, Lumen 55 OLED, Lumen 43." in text
    assert "Last bought: Televisions (2 orders)." in text
    assert "Acme / Retail / Marie Curie <marie@shop.example> / plan gold / gold" in text


def test_missing_values_fall_back_and_never_fail(smtp_server, make_lead, televisions):
    lead = make_lead("bob@example.com")  # no name, company, owner, events or custom fields

    send(lead, televisions)

    [msg] = smtp_server.to("bob@example.com")
    assert msg["Subject"] == "Hello, still thinking about a new TV?"
    text = text_of(msg)
    assert "You looked at: nothing yet." in text
    assert "Last bought: nothing (0 orders)." in text
    assert "your company / ? / our team <-> / plan none / none" in text
    assert "<p>Hi there</p>" in html_of(msg)


def test_the_company_name_typed_on_the_lead_stands_in_for_a_company(smtp_server, make_lead,
                                                                    televisions):
    lead = make_lead("cy@example.com", company_name="Initech")

    send(lead, televisions)

    assert "Initech / ? /" in text_of(smtp_server.to("cy@example.com")[0])


def test_a_template_cannot_reach_the_lead_model_or_load_files(smtp_server, make_lead):
    lead = make_lead("eve@example.com", first_name="Eve")
    template = EmailTemplate.objects.create(
        name="Probe", marketing=False, subject="Probe",
        # Plain data: no model methods, no related managers, no other leads.
        body_text="[{{ lead.events.all }}][{{ lead.save }}][{{ lead.owner.password }}]"
                  "[{{ lead.first_name }}]")

    send(lead, template)

    assert "[][][][Eve]" in text_of(smtp_server.to("eve@example.com")[0])
    broken = EmailTemplate.objects.create(name="Include", marketing=False, subject="x",
                                          body_text="{% load static %}{% static 'x' %}")
    message = send_template(lead, broken, dedupe_key="include")
    send_due()  # rendered by the worker: a template that cannot load tags fails for good
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED and "static" in message.error


def test_only_the_latest_events_of_a_type_are_read(smtp_server, make_lead):
    from leadflow.emails.personalise import EVENTS_PER_TYPE

    lead = make_lead("many@example.com")
    for i in range(EVENTS_PER_TYPE + 5):
        record_event("page_view", lead=lead, properties={"title": f"page {i}"},
                     occurred_at=clock.now() - timedelta(minutes=100 - i))
    template = EmailTemplate.objects.create(
        name="Pages", marketing=False, subject="Pages",
        body_text="{{ events.page_view|length }} first={{ events.page_view.0.title }}")

    send(lead, template)

    text = text_of(smtp_server.to("many@example.com")[0])
    assert f"{EVENTS_PER_TYPE} first=page {EVENTS_PER_TYPE + 4}" in text
