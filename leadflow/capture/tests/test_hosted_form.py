"""Hosted forms (/f/<slug>/): a post creates the lead, its events and, if ticked, consent."""

import html
import re

import pytest
from django.test import Client

from leadflow.campaigns.models import Campaign, Enrollment
from leadflow.capture.models import Form
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Consent, Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

CONSENT = "I agree to receive the newsletter. I can unsubscribe at any time."


@pytest.fixture
def form(db):
    return Form.objects.create(
        name="Newsletter", slug="newsletter", title="Our newsletter",
        event_type="newsletter_signup", consent_text=CONSENT, consent_version="2026-01",
        thank_you="Welcome aboard!")


@pytest.fixture
def visitor():
    return Client()


def _hidden_inputs(page: str) -> dict[str, str]:
    """The hidden fields a browser would send back with the form."""
    return {name: html.unescape(value) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
        if name != "csrfmiddlewaretoken"}


def _post(client, values: dict, path="/f/newsletter/"):
    # A person takes more than the minimum fill time (LEADFLOW_FORM_MIN_SECONDS).
    form = Form.objects.filter(slug=path.split("/")[2]).first()
    if form is not None:
        values = {**values, "lf_token": aged_token(form.pk)}
    return client.post(path, values, REMOTE_ADDR="203.0.113.7")


def test_get_renders_the_form(form, visitor):
    r = visitor.get("/f/newsletter/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "<h1>Our newsletter</h1>" in page
    assert 'name="email"' in page and 'name="website"' in page  # the field and the honeypot
    assert CONSENT in page
    assert 'name="consent" value="yes"' in page and "checked" not in page  # never pre-ticked


@pytest.mark.parametrize("slug", ["nope", "off"])
def test_an_unknown_or_inactive_form_is_404(form, visitor, slug):
    Form.objects.create(name="Off", slug="off", title="Off", active=False)
    assert visitor.get(f"/f/{slug}/").status_code == 404
    assert _post(visitor, {"email": "a@example.com"}, f"/f/{slug}/").status_code == 404
    assert not Lead.objects.exists()


def test_a_post_creates_the_lead_and_records_the_form_events(form, visitor, score_rules):
    welcome = Campaign.objects.create(name="Welcome", entry_event_type="newsletter_signup")

    r = _post(visitor, {"email": " Mickael@Example.com ", "first_name": "Mickaël",
                        "last_name": "Durand", "company_name": "Acme"})

    assert r.status_code == 200
    assert "Welcome aboard!" in r.content.decode()
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name, lead.company_name) == (
        "mickael@example.com", "Mickaël", "Durand", "Acme")
    assert lead.channel == "web"
    submitted = lead.events.get(type="form_submitted")
    assert submitted.via == Event.Via.FORM
    assert submitted.properties["form"] == "newsletter"
    assert submitted.properties["values"]["first_name"] == "Mickaël"
    assert lead.events.get(type="newsletter_signup").via == Event.Via.FORM
    assert lead.score == 5
    assert Enrollment.objects.filter(lead=lead, campaign=welcome, status="active").exists()


def test_ticked_consent_is_recorded_with_its_proof(form, visitor):
    _post(visitor, {"email": "mickael@example.com", "consent": "yes",
                    "page_url": "https://www.example.com/blog/automation"})

    lead = Lead.objects.get()
    assert lead.marketing_consent is True
    consent = lead.consents.get()
    assert (consent.action, consent.purpose, consent.method) == (
        Consent.Action.GRANTED, "marketing_email", "form:newsletter")
    assert (consent.text, consent.text_version) == (CONSENT, "2026-01")
    assert (consent.ip, consent.page_url) == ("203.0.113.7",
                                              "https://www.example.com/blog/automation")
    assert consent.recorded_at is not None


def test_without_a_page_url_the_form_address_is_the_proof(form, visitor, settings):
    settings.BASE_URL = "https://leads.example.com"  # the public address, not the request's
    _post(visitor, {"email": "mickael@example.com", "consent": "yes"})
    assert (Lead.objects.get().consents.get().page_url
            == "https://leads.example.com/f/newsletter/")


def test_unticked_consent_records_none(form, visitor):
    r = _post(visitor, {"email": "mickael@example.com"})
    assert r.status_code == 200
    lead = Lead.objects.get()
    assert lead.marketing_consent is False
    assert not lead.consents.exists()
    assert lead.events.get(type="form_submitted").properties["consent"] is False


def test_a_filled_honeypot_is_400_and_stores_nothing(form, visitor):
    r = _post(visitor, {"email": "bot@example.com", "website": "http://spam.example",
                        "consent": "yes"})
    assert r.status_code == 400
    assert not Lead.objects.exists()
    assert not Event.objects.exists()
    assert not Consent.objects.exists()


def test_an_invalid_email_is_422_with_the_message_and_the_typed_values(form, visitor):
    r = _post(visitor, {"email": "mickael-at-example", "first_name": "Mickaël",
                        "company_name": 'Acme "&" Co'})

    assert r.status_code == 422
    page = r.content.decode()
    assert 'role="alert"' in page and "is not a valid email address" in page
    assert 'value="mickael-at-example"' in page
    assert 'value="Mickaël"' in page
    assert 'value="Acme &quot;&amp;&quot; Co"' in page  # kept, and escaped
    assert not Lead.objects.exists()
    assert not Event.objects.exists()


def test_a_missing_email_is_422(form, visitor):
    r = _post(visitor, {"first_name": "Mickaël"})
    assert r.status_code == 422
    assert "Please enter your email address." in r.content.decode()
    assert not Lead.objects.exists()


def test_typed_values_are_escaped_when_shown_again(form, visitor):
    r = _post(visitor, {"email": "bad", "first_name": '"><script>alert(1)</script>'})
    page = r.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;script&gt;" in page


def test_utm_parameters_become_the_lead_source_medium_and_campaign(form, visitor):
    query = "?utm_source=linkedin&utm_medium=social&utm_campaign=spring-2026&utm_term=crm"
    page = visitor.get("/f/newsletter/" + query).content.decode()
    hidden = _hidden_inputs(page)
    assert hidden["utm_source"] == "linkedin"

    r = _post(visitor, {"email": "mickael@example.com", **hidden}, "/f/newsletter/" + query)

    assert r.status_code == 200
    lead = Lead.objects.get()
    assert (lead.source, lead.medium, lead.campaign) == ("linkedin", "social", "spring-2026")
    assert lead.first_touch["source"] == "linkedin"
    assert lead.events.get(type="form_submitted").properties["values"]["utm_term"] == "crm"


def test_the_form_source_applies_when_there_is_no_utm(form, visitor):
    Form.objects.filter(pk=form.pk).update(source="webinar")
    _post(visitor, {"email": "mickael@example.com"})
    assert Lead.objects.get().source == "webinar"


def test_submitting_again_updates_the_same_lead(form, visitor, score_rules):
    _post(visitor, {"email": "mickael@example.com"})
    _post(visitor, {"email": "MICKAEL@example.com", "first_name": "Mickaël"})

    lead = Lead.objects.get()
    assert lead.first_name == "Mickaël"
    assert lead.events.filter(type="form_submitted").count() == 2


def test_a_nul_byte_in_a_field_is_422_and_in_the_page_url_is_dropped(form, visitor):
    r = _post(visitor, {"email": "mickael@example.com", "first_name": "Mick\x00ael"})
    assert r.status_code == 422
    assert not Lead.objects.exists()

    r = _post(visitor, {"email": "mickael@example.com", "consent": "yes",
                        "page_url": "https://www.example.com/\x00x"})
    assert r.status_code == 200
    assert Lead.objects.get().consents.get().page_url == "https://www.example.com/x"
