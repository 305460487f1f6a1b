"""The lead page's sales cards, through the real pages: log a call, add a task and mark it
done from "My tasks", open an opportunity and win it; each lands on the lead page (and its
timeline), in English and in French, with no inline script."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.sales.models import Opportunity, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP, first_name="Rita", last_name="Rep")


@pytest.fixture
def lead(make_lead, rep):
    lead = make_lead("ana@example.com", first_name="Ana")
    Lead.objects.filter(pk=lead.pk).update(owner=rep, stage="sql")
    lead.refresh_from_db()
    return lead


@pytest.fixture
def browser(rep):
    client = Client()
    client.force_login(rep)
    return client


def _local(when):
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_a_rep_works_a_lead_from_its_page(browser, lead):
    base = f"/leads/{lead.pk}"
    answer = browser.post(f"{base}/activities", {
        "kind": "call", "duration": "7", "outcome": "voicemail", "text": "Left a message",
        "subject": "ignored for calls"}, follow=True)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Logged on the timeline." in page and "Call by Rita Rep" in page
    assert "left a voicemail · 7 min · Left a message" in page

    due = clock.now() + timedelta(days=1)
    browser.post(f"{base}/tasks", {"title": "Call back", "due_at": _local(due),
                                   "remind_before": "30"})
    task = Task.objects.get()
    assert (task.title, task.remind_before) == ("Call back", 30)
    mine = browser.get("/tasks/").content.decode()
    assert "Call back" in mine and f"/leads/{lead.pk}/" in mine
    browser.post(f"{base}/tasks/{task.pk}/done", {"done": "1", "next": "mine"})
    task.refresh_from_db()
    assert task.done_at is not None

    browser.post(f"{base}/opportunities", {"name": "Annual plan", "value": "1 200,50".replace(
        " ", ""), "currency": "eur", "product": "Pro", "expected_close": "2027-03-31"})
    opp = Opportunity.objects.get()
    assert (str(opp.value), opp.currency) == ("1200.50", "EUR")
    browser.post(f"{base}/opportunities/{opp.pk}/close", {"stage": "won", "reason": "signed"})
    lead.refresh_from_db()
    assert lead.stage == "customer"
    page = browser.get(f"{base}/").content.decode()
    for text in ("Log activity", "Call back", "Annual plan", "Opportunity won"):
        assert text in page
    assert "<script>" not in page and "onclick" not in page


def test_a_wrong_form_shows_its_message_with_a_way_back(browser, lead):
    answer = browser.post(f"/leads/{lead.pk}/activities", {"kind": "note", "text": ""})
    assert answer.status_code == 422
    assert "text is required." in answer.content.decode()
    assert f"/leads/{lead.pk}/" in answer.content.decode()


def test_the_cards_speak_french(browser, lead):
    page = browser.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for text in ("Noter une activité", "Tâches", "Opportunités", "Ajouter une tâche"):
        assert text in page
