"""Spam and abuse: honeypot, minimum fill time, per-IP rate limit and size limits. Each
rejected post gets a clear answer, is counted per form, reason and day, and stores no
lead; a good post after them still works."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture import tokens
from leadflow.capture.abuse import count_rejection
from leadflow.capture.models import Form, FormRejection
from leadflow.capture.tests.conftest import aged_token
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(db):
    return Form.objects.create(name="News", slug="news", title="News")


def _post(form, ip="203.0.113.7", token=None, **values):
    data = {"email": "ana@example.com", "lf_token": token or aged_token(form.pk), **values}
    return Client().post("/f/news/", data, REMOTE_ADDR=ip)


def _counts(form) -> dict[str, int]:
    return dict(FormRejection.objects.filter(form=form).values_list("reason", "count"))


def _nothing_stored():
    return not Lead.objects.exists() and not Event.objects.exists()


def _then_a_good_post_works(form):
    r = _post(form, ip="198.51.100.99")
    assert r.status_code == 200
    assert Lead.objects.filter(email="ana@example.com").exists()


def test_a_filled_honeypot_is_rejected_and_counted(form):
    r = _post(form, website="http://spam.example")
    assert r.status_code == 400 and "Rejected." in r.content.decode()
    assert _counts(form) == {"honeypot": 1} and _nothing_stored()
    _then_a_good_post_works(form)


def test_a_post_faster_than_the_minimum_fill_time_is_rejected(form, settings):
    settings.LEADFLOW_FORM_MIN_SECONDS = 3
    token = tokens.fill_token(form.pk)
    clock.advance(timedelta(seconds=2))
    r = _post(form, token=token)
    assert r.status_code == 400 and "too fast" in r.content.decode()
    assert _counts(form) == {"too_fast": 1} and _nothing_stored()
    clock.advance(timedelta(seconds=2))
    assert _post(form, token=token).status_code == 200


@pytest.mark.parametrize("token", ["", "forged", "other-form"])
def test_a_missing_forged_or_foreign_token_is_rejected(form, token):
    if token == "other-form":
        other = Form.objects.create(name="Other", slug="other", title="Other")
        token = aged_token(other.pk)
    r = Client().post("/f/news/", {"email": "ana@example.com", "lf_token": token})
    assert r.status_code == 400 and "reload the page" in r.content.decode()
    assert _counts(form) == {"bad_token": 1} and _nothing_stored()


def test_the_rate_limit_is_per_ip_and_form(form, settings):
    settings.LEADFLOW_FORM_RATE_LIMIT = 3
    for _ in range(3):
        assert _post(form).status_code == 200
    r = _post(form)
    assert r.status_code == 429 and "Too many submissions" in r.content.decode()
    assert _counts(form) == {"rate_limit": 1}
    assert _post(form, ip="198.51.100.1").status_code == 200  # another address
    clock.advance(timedelta(minutes=11))
    assert _post(form).status_code == 200  # the next window


def test_the_rate_limit_answers_json_to_the_embed(form, settings):
    settings.LEADFLOW_FORM_RATE_LIMIT = 1
    body = {"email": "ana@example.com", "lf_token": aged_token(form.pk)}
    for status in (200, 429):
        r = Client().post("/f/news/submit", json.dumps(body), content_type="application/json")
        assert r.status_code == status
    assert r.json() == {"ok": False, "field": None, "reason": "rate_limit",
                        "message": "Too many submissions from your address: please try "
                                   "again later."}


@pytest.mark.parametrize("values, reason", [
    ({"first_name": "x" * 2001}, "too_long"),
    ({f"extra{i}": "x" for i in range(61)}, "too_many_fields"),
    ({"first_name": ["x"] * 61}, "too_long"),
])
def test_oversized_posts_are_rejected_and_counted(form, values, reason):
    r = _post(form, **values)
    assert r.status_code == 400
    assert _counts(form) == {reason: 1} and _nothing_stored()
    _then_a_good_post_works(form)


def test_a_body_over_the_size_limit_is_rejected(form):
    body = json.dumps({"email": "ana@example.com", "lf_token": aged_token(form.pk),
                       **{f"k{i}": "x" * 1900 for i in range(40)}})
    r = Client().post("/f/news/submit", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["reason"] == "too_large"
    assert _counts(form) == {"too_large": 1} and _nothing_stored()


def test_counts_add_up_per_day_and_reason(form):
    for _ in range(3):
        count_rejection(form, "honeypot")
    clock.advance(timedelta(days=1))
    count_rejection(form, "honeypot")
    assert sorted(FormRejection.objects.values_list("count", flat=True)) == [1, 3]


def test_the_counts_show_on_the_form_builder_page(form, make_user):
    _post(form, website="spam")
    _post(form, website="spam")
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    page = client.get(f"/forms/{form.pk}/").content.decode()
    assert "<td>honeypot</td><td class=\"num\">2</td>" in page


def test_a_trusted_internal_submission_skips_the_public_checks(form):
    from leadflow.capture.services import Submission, submit_form

    outcome = submit_form(form, Submission(values={"email": "ana@example.com"}, consent=False,
                                           ip=None, page_url="", trusted=True))
    assert outcome.lead.email == "ana@example.com"
    assert not FormRejection.objects.exists()
