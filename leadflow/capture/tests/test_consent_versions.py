"""The consent checkbox: its exact text is versioned (append-only) and never pre-ticked;
a submission records which version was shown."""

import pytest
from django.test import Client

from leadflow.capture.models import Form, FormConsentVersion
from leadflow.capture.tests.conftest import aged_token
from leadflow.leads.models import Lead

pytestmark = pytest.mark.django_db

FIRST = "I agree to receive the newsletter."
SECOND = "I agree to receive the newsletter and event invitations."


def _save(client, form_id, text):
    path = f"/forms/{form_id}/" if form_id else "/forms/new/"
    return client.post(path, {"name": "News", "slug": "news", "title": "News",
                              "channel": "web", "consent_text": text, "active": "on"})


def _submit(form, consent=True):
    data = {"email": "ana@example.com", "lf_token": aged_token(form.pk)}
    if consent:
        data["consent"] = "yes"
    return Client().post("/f/news/", data)


def test_each_new_text_is_a_new_version_and_old_ones_stay(marketer):
    _save(marketer, None, FIRST)
    form = Form.objects.get()
    _save(marketer, form.pk, FIRST)  # unchanged: no new version
    _save(marketer, form.pk, SECOND)

    form.refresh_from_db()
    assert (form.consent_text, form.consent_version) == (SECOND, "v2")
    assert list(FormConsentVersion.objects.order_by("created_at", "id")
                .values_list("version", "text")) == [("v1", FIRST), ("v2", SECOND)]


def test_the_submission_records_the_version_shown(marketer):
    _save(marketer, None, FIRST)
    form = Form.objects.get()
    _submit(form)
    _save(marketer, form.pk, SECOND)
    form.refresh_from_db()
    _submit(form)

    lead = Lead.objects.get()
    assert list(lead.consents.order_by("recorded_at", "id")
                .values_list("text_version", "text")) == [("v1", FIRST), ("v2", SECOND)]
    assert sorted(e.properties["consent_version"]
                  for e in lead.events.filter(type="form_submitted")) == ["v1", "v2"]


def test_the_checkbox_is_never_pre_ticked(marketer):
    _save(marketer, None, FIRST)
    page = Client().get("/f/news/").content.decode()
    assert 'name="consent" value="yes">' in page
    assert "checked" not in page


def test_an_unticked_box_records_no_consent(marketer):
    _save(marketer, None, FIRST)
    _submit(Form.objects.get(), consent=False)
    lead = Lead.objects.get()
    assert not lead.consents.exists() and lead.marketing_consent is False
