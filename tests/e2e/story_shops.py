"""The shops of the acceptance stories 3 and 4 (test_stories.py), set up as their
marketers would: templates through the editor's service, rules through the scoring
editor, the segment through the segments service, campaigns as the builder saves them."""

from __future__ import annotations

from typing import Any

from leadflow.campaigns.models import Campaign, Step
from tests.e2e.story_kit import campaign


def template(admin: Any, name: str, subject: str, html: str):
    from leadflow.emails.editor import save_template

    return save_template(admin, None, {"name": name, "subject": subject,
                                       "body_format": "html", "body_html": html})[0]


# --- the kitchenware shop of story 3 ----------------------------------------------------

def kitchenware_shop(admin: Any) -> dict[str, Any]:
    """The shop's campaigns: "Cross-sell: frying pans" for buyers of a saucepan (the
    offer of the same range's frying pans; two days later, if they clicked, 10% off for
    24 hours; if they clicked again, a last chance before it ends), whose goal is buying a
    frying pan; and "Kitchen tips" for every buyer, a monthly letter."""
    pans = "https://shop.example.com/ranges/{{ last_purchase.product_range|lower }}/frying-pans"
    hello = "<p>Hello {{ lead.first_name }},</p>"
    offer = template(
        admin, "Frying pans offer", "Frying pans to go with your {{ last_purchase.product }}",
        f"{hello}<p>Your {{{{ last_purchase.product }}}} of the "
        "{{ last_purchase.product_range }} range has three sisters: our "
        "{{ last_purchase.product_range }} frying pans, 20, 24 and 28 cm, made in the same "
        f'workshop.</p><p><a href="{pans}">See the {{{{ last_purchase.product_range }}}} '
        "frying pans</a></p>")
    reminder = template(
        admin, "Frying pans reminder", "10% off the frying pan you looked at",
        f"{hello}<p>You looked at our {{{{ last_purchase.product_range }}}} frying pans but "
        "did not buy one yet. 10% off if you buy within 24 hours of this email.</p>"
        f'<p><a href="{pans}?code=PAN10">Get 10% off</a></p>')
    last_chance = template(
        admin, "Frying pans last chance", "Last chance: your 10% ends tonight",
        f"{hello}<p>Your 10% off the {{{{ last_purchase.product_range }}}} frying pans ends "
        "in a few hours. After that, it is gone.</p>"
        f'<p><a href="{pans}?code=PAN10">Use my 10% now</a></p>')
    tips = template(
        admin, "Kitchen tips", "Kitchen tips: caring for your new pans",
        f"{hello}<p>Copper likes a soft sponge and a little lemon; never the dishwasher.</p>"
        '<p><a href="https://shop.example.com/care">All our care tips</a></p>')

    S = Step.Kind
    cross_sell = campaign("Cross-sell: frying pans", [
        {"kind": S.SEND_EMAIL, "template": offer},
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 2}}},
        {"kind": S.IF_CLICKED, "label": "Clicked the offer?"},
        {"kind": S.SEND_EMAIL, "template": reminder},
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "hours": 20}}},
        {"kind": S.IF_CLICKED, "label": "Clicked the reminder?"},
        {"kind": S.SEND_EMAIL, "template": last_chance},
    ], entry_event_type="purchase",
        entry_conditions=[{"field": "product", "op": "equals", "value": "saucepan"}],
        goal_event_type="purchase",
        goal_conditions=[{"field": "product", "op": "contains", "value": "frying pan"}])
    kitchen_tips = campaign("Kitchen tips", [
        {"kind": S.SEND_EMAIL, "template": tips},
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 30}}, "then": 1},
    ], entry_event_type="purchase")
    return {"cross_sell": cross_sell, "kitchen_tips": kitchen_tips}


# --- the electronics shop of story 4 ----------------------------------------------------

TV_PAGES = {"event": {"type": "page_view", "min": 6, "within_days": 30,
                      "where": [{"field": "url", "op": "contains", "value": "/tv/"}]}}


def television_shop(admin: Any) -> dict[str, Any]:
    """The shop's segment "Viewed more than 5 TV pages" (within 30 days) and its
    campaign: the televisions the lead looked at; 3 days later, if opened, a discount on
    the one looked at last; 2 days later, if clicked, a last chance; no response to
    it within a day: -10 points and out. A television bought ends it (its goal)."""
    from leadflow.leads.models import Category
    from leadflow.scoring.editor import save_rule
    from leadflow.scoring.jobs import run_due as run_rescores
    from leadflow.segments.services import create_segment

    for rule in ({"name": "Viewed a television", "event_type": "page_view", "points": 5,
                  "conditions": [{"field": "url", "op": "contains", "value": "/tv/"}],
                  "max_times": 1, "per": "day"},
                 {"name": "Opened an email", "event_type": "email_opened", "points": 10,
                  "max_times": 1}):
        save_rule(admin, None, {"category": Category.ENGAGEMENT, **rule}, notify=True)
    run_rescores()

    # The page views are the lead's latest first: a television looked at on several
    # pages in a row (its page, its reviews) is listed once.
    viewed = ('{% for view in events.page_view %}{% if "/tv/" in view.url %}'
              '{% ifchanged view.product %}<li><a href="{{ view.url }}">{{ view.product }}'
              "</a></li>{% endifchanged %}{% endif %}{% endfor %}")
    that_tv = "{{ events.page_view.0.product }}"
    buy = '<a href="{{ events.page_view.0.url }}?code=TV10">'
    hello = "<p>Hello {{ lead.first_name }},</p>"
    first = template(
        admin, "Televisions you looked at", "The televisions you looked at",
        f"{hello}<p>Still choosing? Here are the televisions you looked at, delivered and "
        f"installed for free:</p><ul>{viewed}</ul>")
    discount = template(
        admin, "Television discount", f"{that_tv}: 10% off, for you",
        f"{hello}<p>The {that_tv} is 10% off for you this week.</p>"
        f"<p>{buy}Buy the {that_tv} for 10% less</a></p>")
    last_chance = template(
        admin, "Television last chance", f"Last chance: 10% off the {that_tv}",
        f"{hello}<p>Your 10% off the {that_tv} ends tonight.</p><p>{buy}Use my 10% now</a></p>")

    segment = create_segment(admin, name="Viewed more than 5 TV pages", filter=TV_PAGES)
    S = Step.Kind
    tv = campaign("Televisions", [
        {"kind": S.SEND_EMAIL, "template": first},                            # 1
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 3}}},   # 2
        {"kind": S.IF_OPENED, "then": 4, "else": 9},                          # 3
        {"kind": S.SEND_EMAIL, "template": discount},                         # 4
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 2}}},   # 5
        {"kind": S.IF_CLICKED, "then": 7, "else": 9},                         # 6
        {"kind": S.SEND_EMAIL, "template": last_chance},                      # 7
        {"kind": S.IF_CLICKED, "config": {"within_seconds": 86400},           # 8
         "then": 10, "else": 9},
        {"kind": S.ADD_POINTS, "points": -10, "label": "No response"},        # 9
        {"kind": S.EXIT},                                                     # 10
    ], entry_segment=segment, reentry=Campaign.Reentry.NEVER,
        goal_event_type="purchase",
        goal_conditions=[{"field": "product_range", "op": "equals", "value": "Televisions"}])
    return {"segment": segment, "campaign": tv}
