"""The four acceptance stories of PRODUCT.md, end to end.

Each runs through the real parts: the marketer's setup through the services, people
signing up on the public form pages, a real SMTP server receiving every email, the
people opening them and following their links in a browser (story_kit.Person), the
shop's server posting purchases and page views to /api/v1/events with a token, the
workers run until idle (story_kit.work), and the clock moved forward instead of sleeping.

Each story runs twice: with the workers' jobs in the test's thread ("in-process", on
SQLite or PostgreSQL), and with two real `leadflow worker` processes following the test's
clock ("workers", marked scaleout: PostgreSQL and Redis, run by .ci/run's scale-out step;
story_workers).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache

from leadflow.campaigns.models import Enrollment
from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.notifications.models import Notification
from tests.e2e import story_kit
from tests.e2e.story_kit import (
    BASE_URL,
    Person,
    automation_path,
    follow_the_targeted_path,
    later,
    subject,
    text,
    work,
)
from tests.e2e.story_shops import kitchenware_shop, television_shop
from tests.e2e.story_workers import two_workers

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
# The workers read what the test wrote: committed rows.
WORKERS = pytest.param("workers", id="workers", marks=[
    pytest.mark.scaleout, pytest.mark.django_db(transaction=True)])


@pytest.fixture(autouse=True, params=["in-process", WORKERS])
def _story(request, settings, smtp_server, tmp_path):
    """The frozen clock, the settings of the story (its `story_settings` mark), and the
    workers of the mode."""
    settings.BASE_URL = BASE_URL
    if mark := request.node.get_closest_marker("story_settings"):
        for name, value in mark.kwargs.items():
            setattr(settings, name, value)
    cache.clear()  # the forms' per-address rate limits count in the cache
    with clock.travel():
        if request.param == "workers":
            port = settings.MAILERS["default"]["OPTIONS"]["port"]
            with two_workers(settings, port, tmp_path) as workers:
                story_kit.processes = workers
                try:
                    yield
                finally:
                    story_kit.processes = None
        else:
            yield
    cache.clear()


def membership(lead: Lead, campaign) -> Enrollment:
    """The lead's latest membership of the campaign."""
    return Enrollment.objects.filter(lead=lead, campaign=campaign).order_by("-pk").first()


def timeline(api, lead: Lead) -> list[dict]:
    """The lead's events as the API shows them, oldest first."""
    items = api.get(f"/leads/{lead.pk}/timeline", limit=500).json()["items"]
    return list(reversed(items))


def in_order(events: list[dict], *wanted: tuple[str, dict]) -> None:
    """The timeline holds the wanted events (type, some of its properties) in that order."""
    at = 0
    for type_, props in wanted:
        while at < len(events) and not (events[at]["type"] == type_ and all(
                events[at]["properties"].get(k) == v for k, v in props.items())):
            at += 1
        assert at < len(events), f"no {type_} {props} after the events before it in " + \
            str([e["type"] for e in events])
        at += 1


def test_story_mickael(smtp_server, admin_user, api):
    """Mickaël, MQL to SQL: he signs up (+5) and is nurtured; he opens the newsletter
    (+10: 15 points, MQL) and moves to the targeted campaign; its email asks what he
    expects, he answers "software to automate tasks" (+20); offered a demo, he books one
    (+20): SQL, and his rep is told at once."""
    path = automation_path(admin_user, rep_email="anne@example.com")
    mickael = Person(smtp_server, "mickael@example.com")

    # He signs up for the newsletter on the website, consenting to receive it.
    mickael.fill(f"{BASE_URL}/f/newsletter/", {"email": "mickael@example.com",
                                               "first_name": "Mickaël"}, consent=True)
    lead = Lead.objects.get(email="mickael@example.com")
    assert (lead.score, lead.stage, lead.owner) == (5, "lead", path["rep"])

    # He is a newsletter reader now, nurtured: the newsletter arrives.
    work()
    assert membership(lead, path["nurture"]).status == "active"
    assert mickael.subjects() == ["This month: three tasks to stop doing by hand"]

    # He reads it and follows its link to the article: 15 points, an MQL, and he moves
    # from nurture to the targeted campaign, whose first email asks what he expects.
    went = mickael.click(mickael.last(), "Read the article")
    assert went == "https://www.example.com/blog/three-tasks"
    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (15, "mql")
    assert membership(lead, path["nurture"]).status == "converted"
    assert membership(lead, path["targeted"]).status == "active"
    assert not Notification.objects.exists()  # marketing keeps an MQL for now
    work()

    # He answers "software to automate tasks" (+20), is offered a demo, and books it.
    follow_the_targeted_path(mickael, mickael.last("What do you expect"))

    # SQL, out of the campaign (its goal), and his rep was told at once, before any
    # worker ran; the email to her goes with the next run of the outbox.
    lead.refresh_from_db()
    assert (lead.score, lead.stage, lead.owner) == (55, "sql", path["rep"])
    assert membership(lead, path["targeted"]).status == "converted"
    [note] = Notification.objects.filter(user=path["rep"], lead=lead)
    assert note.kind == "handoff"
    work()
    [told] = smtp_server.to("anne@example.com")
    assert subject(told) == "Lead handed off to you: Mickaël"
    assert "Demo request (+20) - Wants software to automate tasks (+20)" in text(told)

    # The timeline tells the whole story, in order.
    nurture, targeted = path["nurture"].pk, path["targeted"].pk
    in_order(timeline(api, lead),
             ("form_submitted", {"form": "newsletter"}),
             ("newsletter_signup", {}),
             ("campaign_entered", {"campaign_id": nurture}),
             ("email_sent", {}),
             ("email_opened", {"engagement": "human"}),
             ("stage_changed", {"from": "lead", "to": "mql"}),
             ("campaign_entered", {"campaign_id": targeted}),
             ("campaign_left", {"campaign_id": nurture, "status": "converted"}),
             ("email_clicked", {"url": "https://www.example.com/blog/three-tasks"}),
             ("email_sent", {}),
             ("email_clicked", {"url": f"{BASE_URL}/f/expectations/"}),
             ("form_submitted", {"form": "expectations"}),
             ("email_sent", {}),
             ("email_clicked", {"url": f"{BASE_URL}/f/demo/"}),
             ("form_submitted", {"form": "demo"}),
             ("demo_requested", {}),
             ("stage_changed", {"from": "mql", "to": "sql"}),
             ("handed_off", {}),
             ("campaign_left", {"campaign_id": targeted, "status": "converted"}))
    assert Enrollment.objects.filter(lead=lead, status="active").count() == 0


def test_story_romain(smtp_server, admin_user, api):
    """Romain, decay and return: he signs up (+5) and is nurtured, but opens nothing and
    visits nothing for 3 months (-10): his score is negative and he leaves the campaign.
    A year later he reads articles (+10), enters the campaign again, opens its email this
    time and follows Mickaël's path to SQL."""
    path = automation_path(admin_user, rep_email="anne@example.com")
    romain = Person(smtp_server, "romain@example.com", ip="198.51.100.23")
    newsletter = "This month: three tasks to stop doing by hand"

    romain.fill(f"{BASE_URL}/f/newsletter/", {"email": "romain@example.com",
                                              "first_name": "Romain"}, consent=True)
    work()
    lead = Lead.objects.get(email="romain@example.com")
    assert lead.score == 5
    first = membership(lead, path["nurture"])
    assert first.status == "active"

    # The next day he looks at the pricing page (no points): his last visit. Then three
    # months: the newsletter comes every 30 days, and he never opens it. (His last
    # activity a day after the campaign's start keeps the fourth newsletter and the
    # penalty apart: due at the same instant, two workers could take them in any order.)
    later(DAY)
    r = api.post("/events", {"events": [
        {"type": "page_view", "lead_id": lead.pk, "idempotency_key": "view-pricing",
         "properties": {"url": "https://www.example.com/pricing", "title": "pricing"}}]})
    assert (r.status_code, r.json()["created"]) == (200, 1)
    for days in (29, 30, 30):  # to the 30th, 60th and 90th day in the campaign
        later(days * DAY)
    assert romain.subjects() == [newsletter] * 4

    # On his 90th silent day the inactivity penalty applies (the worker's decay job): -10,
    # a negative score; he is no longer a newsletter reader, so he leaves the nurture
    # campaign.
    later(DAY)
    lead.refresh_from_db()
    assert lead.score == -5
    assert lead.score_entries.get(kind="inactivity").points == -10
    first.refresh_from_db()
    assert (first.status, first.exit_reason) == ("exited", "left the segment")
    later(60 * DAY)
    assert len(romain.inbox()) == 4  # nothing more is sent to him

    # A year later he comes back and reads three articles (the shop's site posts its page
    # views): +10 for reading that day, 5 points, a newsletter reader again: he enters
    # the nurture campaign again (re-entry after exit) and gets the newsletter.
    clock.advance(365 * DAY)
    r = api.post("/events", {"events": [
        {"type": "page_view", "lead_id": lead.pk, "idempotency_key": f"view-{i}",
         "properties": {"url": f"https://www.example.com/blog/{slug}", "title": slug}}
        for i, slug in enumerate(["lead-scoring-101", "nurture-that-works", "mql-or-sql"])]})
    assert (r.status_code, r.json()["created"]) == (200, 3)
    lead.refresh_from_db()
    assert lead.score == 5
    work()
    again = membership(lead, path["nurture"])
    assert (again.pk != first.pk, again.status) == (True, "active")
    assert romain.subjects() == [newsletter] * 5

    # This time he reads it and follows its link: 15 points, MQL, the targeted campaign.
    romain.click(romain.last(), "Read the article")
    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (15, "mql")
    assert membership(lead, path["targeted"]).status == "active"
    work()

    # Then Mickaël's path: his answer (+20), the demo offer, the demo booked (+20): SQL,
    # and his rep is told.
    follow_the_targeted_path(romain, romain.last("What do you expect"))
    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (55, "sql")
    assert membership(lead, path["targeted"]).status == "converted"
    assert Notification.objects.filter(user=path["rep"], lead=lead, kind="handoff").exists()
    work()
    assert subject(smtp_server.to("anne@example.com")[0]) == "Lead handed off to you: Romain"

    nurture = path["nurture"].pk
    in_order(timeline(api, lead),
             ("newsletter_signup", {}),
             ("campaign_entered", {"campaign_id": nurture}),
             ("email_sent", {}), ("email_sent", {}), ("email_sent", {}), ("email_sent", {}),
             ("campaign_left", {"campaign_id": nurture, "reason": "left the segment"}),
             ("page_view", {"title": "lead-scoring-101"}),
             ("campaign_entered", {"campaign_id": nurture}),
             ("email_sent", {}),
             ("email_opened", {"engagement": "human"}),
             ("stage_changed", {"from": "lead", "to": "mql"}),
             ("campaign_entered", {"campaign_id": path["targeted"].pk}),
             ("form_submitted", {"form": "expectations"}),
             ("demo_requested", {}),
             ("stage_changed", {"from": "mql", "to": "sql"}),
             ("handed_off", {}))
    assert not lead.events.filter(type="email_opened", occurred_at__lt=again.entered_at)


def purchase(api, lead: Lead, product: str, order: str, value: float) -> None:
    """The shop's server tells Leadflow of an order."""
    r = api.post("/events", {"events": [{
        "type": "purchase", "lead_id": lead.pk, "idempotency_key": f"order-{order}",
        "properties": {"product": product, "product_range": "Cuivre", "value": value,
                       "currency": "EUR", "order_id": order}}]})
    assert (r.status_code, r.json()["created"]) == (200, 1), r.content


# The shop writes to its own customers about products like the ones they bought (the
# "soft opt-in" of existing customers), unless they objected.
@pytest.mark.story_settings(MARKETING_BASIS="legitimate_interest")
def test_story_kitchenware(smtp_server, admin_user, api):
    """Cross-sell: who bought a saucepan gets the frying pans of the same range with a
    call to action; clicked without buying, two days later a reminder with 10% off for 24
    hours; clicked again without buying, a last chance. Whoever buys leaves at once (the
    goal) and stays in the shop's other campaign."""
    shop = kitchenware_shop(admin_user)
    leads = {}
    for name in ("Claire", "Bruno", "Denise"):
        r = api.post("/leads", {"email": f"{name.lower()}@example.com", "first_name": name})
        assert r.status_code == 201, r.content
        leads[name] = Lead.objects.get(pk=r.json()["id"])
    claire, bruno, denise = (Person(smtp_server, f"{n}@example.com")
                             for n in ("claire", "bruno", "denise"))

    # All three buy a saucepan of the Cuivre range: the cross-sell offer, and the tips.
    for i, name in enumerate(leads):
        purchase(api, leads[name], "saucepan", f"A-100{i}", 89.0)
    work()
    for person in (claire, bruno, denise):
        offer = person.last("Frying pans")
        assert subject(offer) == "Frying pans to go with your saucepan"
        assert "our Cuivre frying pans, 20, 24 and 28 cm" in text(offer)
        assert person.last("Kitchen tips")

    # Claire and Bruno click through to the frying pans of their range; Denise does not.
    for person in (claire, bruno):
        went = person.click(person.last("Frying pans"), "See the Cuivre frying pans")
        assert went == "https://shop.example.com/ranges/cuivre/frying-pans"

    # Bruno buys one: he leaves the cross-sell at once, converted; the tips go on.
    purchase(api, leads["Bruno"], "frying pan 24 cm", "A-1009", 69.0)
    sold = membership(leads["Bruno"], shop["cross_sell"])
    assert (sold.status, sold.exit_reason) == ("converted", "goal reached: purchase")
    assert membership(leads["Bruno"], shop["kitchen_tips"]).status == "active"

    # Claire does not buy: two days later, the reminder with 10% off for 24 hours.
    later(2 * DAY)
    reminder = claire.last("10% off")
    assert "10% off if you buy within 24 hours of this email" in text(reminder)
    assert "10% off" not in " ".join(bruno.subjects() + denise.subjects())
    left = membership(leads["Denise"], shop["cross_sell"])
    assert (left.status, left.exit_reason) == ("exited", "step 3: Clicked a link?: no")

    # She clicks again, still does not buy: the last chance, before the 24 hours end.
    claire.click(reminder, "Get 10% off")
    later(20 * timedelta(hours=1))
    assert subject(claire.last()) == "Last chance: your 10% ends tonight"
    done = membership(leads["Claire"], shop["cross_sell"])
    assert (done.status, done.exit_reason) == ("completed", "completed")
    first = {"Frying pans to go with your saucepan", "Kitchen tips: caring for your new pans"}
    assert set(claire.subjects()[:2]) == first and claire.subjects()[2:] == [
        "10% off the frying pan you looked at", "Last chance: your 10% ends tonight"]
    assert set(bruno.subjects()) == first and len(bruno.subjects()) == 2
    in_order(timeline(api, leads["Bruno"]),
             ("purchase", {"product": "saucepan"}),
             ("campaign_entered", {"campaign_id": shop["cross_sell"].pk}),
             ("email_clicked", {"url": "https://shop.example.com/ranges/cuivre/frying-pans"}),
             ("purchase", {"product": "frying pan 24 cm"}),
             ("campaign_left", {"campaign_id": shop["cross_sell"].pk, "status": "converted"}))


def page_views(api, lead: Lead, pages: list[tuple[str, str]], key: str) -> None:
    """The shop's site tells Leadflow which pages the lead viewed, in that order."""
    r = api.post("/events", {"events": [
        {"type": "page_view", "lead_id": lead.pk, "idempotency_key": f"{key}-{i}",
         "occurred_at": (clock.now() + i * timedelta(minutes=1)).isoformat(),
         "properties": {"url": f"https://tv.example.com{path}", "product": product}}
        for i, (path, product) in enumerate(pages)]})
    assert (r.status_code, r.json()["created"]) == (200, len(pages)), r.content


@pytest.mark.story_settings(MARKETING_BASIS="legitimate_interest")  # its own customers
def test_story_television(smtp_server, admin_user, api):
    """Acquisition: a lead who viewed more than 5 TV pages joins the segment and its
    campaign; the first email shows the televisions they looked at; opened without
    buying, 3 days later a discount on that television; clicked again without buying, a
    last chance; no response: they leave the campaign and lose points."""
    shop = television_shop(admin_user)
    leads = {}
    for name in ("Theo", "Ines"):
        r = api.post("/leads", {"email": f"{name.lower()}@example.com", "first_name": name})
        leads[name] = Lead.objects.get(pk=r.json()["id"])
    theo = Person(smtp_server, "theo@example.com")
    vista = ("/tv/vista-65-qled", "Vista 65 QLED")
    lumen = ("/tv/lumen-55-oled", "Lumen 55 OLED")
    reviews = ("/tv/lumen-55-oled/reviews", "Lumen 55 OLED")

    # Théo looks at six TV pages, Inès at five: only Théo joins the segment and enters
    # its campaign.
    page_views(api, leads["Theo"], [vista, vista, reviews, lumen, reviews, lumen], "theo")
    page_views(api, leads["Ines"], [vista, reviews, lumen, reviews, lumen], "ines")
    clock.advance(timedelta(minutes=10))
    work()
    assert membership(leads["Theo"], shop["campaign"]).status == "active"
    assert membership(leads["Ines"], shop["campaign"]) is None
    assert smtp_server.to("ines@example.com") == []

    # The first email shows the televisions he looked at, the last one first.
    first = theo.last()
    assert subject(first) == "The televisions you looked at"
    assert "delivered and installed for free: - Lumen 55 OLED (" in text(first)
    assert text(first).index("Lumen 55 OLED") < text(first).index("- Vista 65 QLED (")
    assert text(first).count("Lumen 55 OLED") == text(first).count("Vista 65 QLED") == 1

    # He opens it, and follows it to the Lumen, but does not buy.
    went = theo.click(first, "Lumen 55 OLED")
    assert went == "https://tv.example.com/tv/lumen-55-oled"
    score = Lead.objects.get(pk=leads["Theo"].pk).score
    assert score == 15  # TV pages viewed (+5 that day), an email opened (+10)

    # Three days later: 10% off that television.
    later(3 * DAY)
    discount = theo.last()
    assert subject(discount) == "Lumen 55 OLED: 10% off, for you"

    # He clicks again, still no purchase: two days later, the last chance.
    theo.click(discount, "Buy the Lumen 55 OLED for 10% less")
    later(2 * DAY)
    assert subject(theo.last()) == "Last chance: 10% off the Lumen 55 OLED"

    # No response to it within a day: he leaves the campaign and loses 10 points.
    later(DAY + timedelta(minutes=1))
    gone = membership(leads["Theo"], shop["campaign"])
    assert (gone.status, gone.exit_reason) == ("exited", "step 10: exit")
    assert Lead.objects.get(pk=leads["Theo"].pk).score == score - 10
    assert len(theo.inbox()) == 3
    in_order(timeline(api, leads["Theo"]),
             ("page_view", {"product": "Vista 65 QLED"}),
             ("campaign_entered", {"campaign_id": shop["campaign"].pk}),
             ("email_clicked", {"url": "https://tv.example.com/tv/lumen-55-oled"}),
             ("email_clicked", {"url": "https://tv.example.com/tv/lumen-55-oled?code=TV10"}),
             ("campaign_points", {"points": -10}),
             ("campaign_left", {"campaign_id": shop["campaign"].pk}))
