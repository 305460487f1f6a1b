"""Quick add: reps and marketers type in a lead (trade show, phone call)."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.leads.models import Lead
from leadflow.routing.services import assign_lead
from leadflow.tracking.models import Event

pytestmark = pytest.mark.django_db

ENTRY = {"first_name": "Ana", "last_name": "Lopez", "email": "ana@example.com",
         "phone": "+33 6 12 34 56 78", "company_name": "Acme", "title": "CTO",
         "country": "fr", "channel": "event", "source": "Salon Big Data 2026",
         "note": "Met at booth 12, wants a demo in January."}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_rep_adds_a_lead_owns_it_and_lands_on_its_page(make_user):
    rep = make_user("rita", Role.SALES_REP)
    r = _client(rep).post("/capture/quick-add/", ENTRY)
    lead = Lead.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/leads/{lead.pk}/"
    assert (lead.first_name, lead.company_name, lead.country, lead.channel, lead.source) == (
        "Ana", "Acme", "FR", "event", "Salon Big Data 2026")
    assert lead.owner == rep
    created = lead.events.get(type="lead_created")
    assert (created.via, created.actor) == (Event.Via.UI, rep)
    note = lead.events.get(type="note")
    assert (note.properties["text"], note.actor) == (ENTRY["note"], rep)


def test_a_marketer_adds_a_lead_through_routing(make_user):
    marketer = make_user("mia", Role.MARKETING)
    r = _client(marketer).post("/capture/quick-add/", {**ENTRY, "note": ""})
    lead = Lead.objects.get()
    assert r["Location"] == f"/leads/{lead.pk}/"
    assert lead.owner is None  # no routing rule here: nobody, and not the marketer
    assert not lead.events.filter(type="note").exists()


def test_a_lead_owned_by_another_rep_keeps_its_owner(make_user, make_lead):
    other = make_user("oscar", Role.SALES_REP)
    lead = make_lead("ana@example.com")
    assign_lead(lead, other)
    rep = make_user("rita", Role.SALES_REP)
    client = _client(rep)

    r = client.post("/capture/quick-add/", ENTRY, follow=True)

    lead.refresh_from_db()
    assert (lead.owner, lead.first_name) == (other, "")
    proposal = lead.events.get(type="change_proposed")
    assert (proposal.actor, proposal.properties["note"]) == (rep, ENTRY["note"])
    assert not lead.events.filter(type="note").exists()
    assert "handled by another rep" in r.content.decode()


def test_an_unowned_existing_lead_goes_to_the_rep(make_user, make_lead):
    lead = make_lead("ana@example.com")
    rep = make_user("rita", Role.SALES_REP)
    r = _client(rep).post("/capture/quick-add/", ENTRY)
    assert r["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.owner == rep


@pytest.mark.parametrize("change, message", [
    ({"email": "", "phone": ""}, "Enter an email address or a phone number."),
    ({"email": "ana-at-example"}, "is not a valid email address"),
    ({"channel": "pigeon"}, "Select a valid choice"),
])
def test_bad_input_is_422_with_a_message_and_the_typed_values(make_user, change, message):
    r = _client(make_user("rita")).post("/capture/quick-add/", {**ENTRY, **change})
    assert r.status_code == 422
    page = r.content.decode()
    assert message in page and 'value="Acme"' in page
    assert not Lead.objects.exists()


def test_the_page_is_linked_from_the_nav_and_the_leads_list(make_user):
    page = _client(make_user("rita")).get("/leads/").content.decode()
    assert page.count('href="/capture/quick-add/"') == 2
    assert 'href="/forms/"' not in page  # the builder is for admins and marketers


def test_anonymous_visitors_are_sent_to_log_in():
    r = Client().get("/capture/quick-add/")
    assert r.status_code == 302 and "/login" in r["Location"]
