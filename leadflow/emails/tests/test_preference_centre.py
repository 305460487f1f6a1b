"""The preference centre (/p/<token>): in the lead's language, a checkbox per topic and
"all off"; GET only shows, POST (the page's own CSRF-checked form) saves."""

import re

import pytest
from django.test import Client

from leadflow.emails.models import Suppression, Topic, TopicOptOut
from leadflow.emails.preferences import preferences_url
from leadflow.emails.services import unsubscribe_url
from leadflow.emails.suppression import is_suppressed
from leadflow.leads.models import Consent
from leadflow.leads.services import record_consent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_address(settings):
    settings.BASE_URL = "https://leads.example.com"


@pytest.fixture
def topics(db):
    return {t.key: t for t in Topic.objects.bulk_create([
        Topic(key="news", name="Product news", name_fr="Nouveautés produit",
              description="What is new", description_fr="Ce qui est nouveau", position=10),
        Topic(key="events", name="Events", name_fr="Événements", position=20),
        Topic(key="offers", name="Offers", position=30)])}


@pytest.fixture
def lead(make_lead):
    lead = make_lead("camille@example.fr", first_name="Camille", language="fr")
    record_consent(lead, granted=True, method="form:news")
    return lead


@pytest.fixture
def browser():
    """A person's browser: CSRF is checked, as on the real site."""
    return Client(enforce_csrf_checks=True)


def _path(lead) -> str:
    return preferences_url(lead.pk).removeprefix("https://leads.example.com")


def _post_form(browser, path: str, data: dict):
    """Load the page (its CSRF cookie and token), then post its form."""
    page = browser.get(path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return browser.post(path, {**data, "csrfmiddlewaretoken": token.group(1)})


def _state(lead):
    lead.refresh_from_db()
    return (lead.do_not_email, lead.marketing_consent,
            sorted(TopicOptOut.objects.filter(lead=lead).values_list("topic__key", flat=True)),
            lead.events.count(), Suppression.objects.count())


def test_a_french_lead_reads_the_page_in_french_whatever_the_browser(browser, lead, topics):
    r = browser.get(_path(lead), headers={"Accept-Language": "en"})

    assert r.status_code == 200
    html = r.content.decode()
    assert '<html lang="fr">' in html
    assert "Préférences" in html and "Nouveautés produit" in html and "Ce qui est nouveau" in html
    assert "Offers" in html  # no French name written: the English one
    assert "Se désabonner de tous les emails marketing" in html


def test_a_lead_without_a_known_language_reads_the_browsers(browser, make_lead, topics):
    lead = make_lead("sam@example.com", language="")
    html = browser.get(_path(lead), headers={"Accept-Language": "fr"}).content.decode()
    assert '<html lang="fr">' in html and "Nouveautés produit" in html
    html = Client().get(_path(lead), headers={"Accept-Language": "en"}).content.decode()
    assert '<html lang="en">' in html and "Product news" in html


def test_each_topic_is_ticked_unless_the_lead_opted_out(browser, lead, topics):
    TopicOptOut.objects.create(lead=lead, topic=topics["events"], created_at=lead.created_at)

    html = browser.get(_path(lead)).content.decode()

    ticked = set(re.findall(r'value="(\d+)" id="topic-(\w+)" checked', html))
    assert {key for _, key in ticked} == {"news", "offers"}


def test_get_changes_nothing(browser, lead, topics):
    before = _state(lead)
    path = _path(lead)
    browser.get(path)
    browser.get(path + "?saved=1")
    browser.get(path, {"topic": [], "all_off": "on"})  # a scanner following the form
    assert _state(lead) == before


def test_opting_out_of_a_topic_stores_it_and_records_the_event(browser, lead, topics):
    r = _post_form(browser, _path(lead), {"topic": [topics["news"].pk, topics["offers"].pk]})

    assert r.status_code == 302 and r["Location"].endswith("?saved=1")
    assert list(TopicOptOut.objects.filter(lead=lead).values_list("topic__key", flat=True)) \
        == ["events"]
    event = lead.events.get(type="preferences_changed")
    assert event.properties == {"turned_off": ["events"], "turned_on": [], "all_off": False}
    assert event.via == "email"
    lead.refresh_from_db()
    assert (lead.do_not_email, lead.marketing_consent) == (False, True)
    assert "Vos préférences sont enregistrées." in browser.get(r["Location"]).content.decode()


def test_turning_a_topic_back_on_removes_the_opt_out(browser, lead, topics):
    TopicOptOut.objects.create(lead=lead, topic=topics["events"], created_at=lead.created_at)

    _post_form(browser, _path(lead), {"topic": [t.pk for t in topics.values()]})

    assert not TopicOptOut.objects.filter(lead=lead).exists()
    assert lead.events.get(type="preferences_changed").properties == {
        "turned_off": [], "turned_on": ["events"], "all_off": False}


def test_saving_the_same_choice_again_records_nothing(browser, lead, topics):
    choice = {"topic": [topics["news"].pk]}
    _post_form(browser, _path(lead), choice)
    _post_form(browser, _path(lead), choice)
    assert lead.events.filter(type="preferences_changed").count() == 1


def test_all_off_unsubscribes_and_suppresses_the_address(browser, lead, topics):
    everything = [t.pk for t in topics.values()]
    _post_form(browser, _path(lead), {"topic": everything, "all_off": "on"})

    lead.refresh_from_db()
    assert (lead.do_not_email, lead.marketing_consent) == (True, False)
    withdrawal = lead.consents.get(action=Consent.Action.WITHDRAWN)
    assert withdrawal.method == "preference centre"
    assert lead.events.filter(type="unsubscribed").count() == 1
    assert lead.events.get(type="preferences_changed").properties["all_off"] is True
    assert Suppression.objects.get().reason == Suppression.Reason.UNSUBSCRIBED
    assert is_suppressed("Camille@Example.fr")
    html = browser.get(_path(lead)).content.decode()
    assert 'id="all-off"' in html and 'name="all_off"' not in html


def test_turning_topics_on_after_all_off_does_not_restore_consent(browser, lead, topics):
    _post_form(browser, _path(lead), {"topic": [], "all_off": "on"})

    _post_form(browser, _path(lead), {"topic": [t.pk for t in topics.values()]})

    lead.refresh_from_db()
    assert not TopicOptOut.objects.filter(lead=lead).exists()  # the choice is kept...
    assert (lead.do_not_email, lead.marketing_consent) == (True, False)  # ...not consent
    assert is_suppressed(lead.email)


def test_a_post_without_the_pages_csrf_token_is_refused(browser, lead, topics):
    before = _state(lead)
    r = browser.post(_path(lead), {"topic": [], "all_off": "on"})
    assert r.status_code == 403
    assert _state(lead) == before


@pytest.mark.parametrize("tamper", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
                                    lambda t: "nonsense"])
def test_a_tampered_link_shows_nothing_and_saves_nothing(browser, lead, topics, tamper):
    base, token = _path(lead).rsplit("/", 1)
    bad = f"{base}/{tamper(token)}"
    before = _state(lead)

    r = browser.get(bad)
    assert r.status_code == 404 and "Nouveautés" not in r.content.decode()
    page = browser.get(_path(lead))  # a real CSRF token, from the lead's own page
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    r = browser.post(bad, {"topic": [], "all_off": "on", "csrfmiddlewaretoken": csrf.group(1)})
    assert r.status_code == 404
    assert _state(lead) == before


def test_the_unsubscribe_pages_link_to_the_preference_centre(browser, lead):
    unsub = unsubscribe_url(lead, None).removeprefix("https://leads.example.com")
    assert _path(lead) in browser.get(unsub).content.decode()
    done = Client().post(unsub, {"List-Unsubscribe": "One-Click"})
    assert _path(lead) in done.content.decode()
