"""The event-type registry: every event type Leadflow knows, in one place.

Each entry names a type's label (shown in lists and rule builders), who may record it,
and how it reads on a lead's timeline. Declaring a new type is one `_declare(...)` line
below. Types not declared here are a customer's own events ("webinar_attended"): the API
and pages may send them, and the timeline shows their name and a few properties.

Who may record a type:
- `LEADFLOW`: only Leadflow itself (its services). Refused from the API and from pages:
  a forged `merged` or `stage_changed` would lie on the timeline or drive the pipeline.
- `API`: also the customer's server, with an API token.
- `PAGE`: also a browser, through `/t/collect` (anyone holding the public site key).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.tracking.models import Event, EventType

Props = dict[str, Any]
# The name a rule may give an event type, declared or a customer's own ("webinar_attended").
TYPE_NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,59}$")


class Recorder(enum.IntEnum):
    """Who may record a type; each level includes those before it."""

    LEADFLOW = 0
    API = 1
    PAGE = 2


@dataclass(frozen=True)
class EventSpec:
    type: str
    label: str | Promise
    recorder: Recorder
    # The timeline colour: web, email, sales, stage, campaign, won, lost, system.
    kind: str = "system"
    # The timeline's title when it depends on the properties (else the label).
    title: Callable[[Props], str] | None = None
    detail: Callable[[Props], str] | None = None
    # The title when it names who recorded the event (their name, or "").
    title_by: Callable[[Props, str], str] | None = None
    # Done to the lead rather than by it: leaves its last touch where it is.
    our_action: bool = False


REGISTRY: dict[str, EventSpec] = {}


def _declare(type: str, label: str | Promise, recorder: Recorder, **how: Any) -> None:
    REGISTRY[type] = EventSpec(type, label, recorder, **how)


def describe_with(type: str, **how: Any) -> None:
    """How a declared type's properties read (`title`, `detail`), given by the app that
    owns their values (leads knows channels, stages and quality flags; tracking stands
    below it), from its AppConfig.ready()."""
    REGISTRY[type] = replace(REGISTRY[type], **how)


def _prop(*names: str) -> Callable[[Props], str]:
    """The first non-empty of the named properties, as text."""
    return lambda p: next((str(p[n]) for n in names if p.get(n)), "")


def scalars(properties: Props, limit: int = 4) -> str:
    """A few of an unknown event's properties, as `key: value`."""
    shown = [f"{k}: {v}" for k, v in properties.items()
             if isinstance(v, str | int | float | bool) and v != ""]
    return ", ".join(shown[:limit])


def _changed(p: Props) -> str:
    fields = ", ".join(map(str, p.get("changed") or []))
    return _("Changed: %(fields)s") % {"fields": fields} if fields else ""


def _taken(p: Props) -> str:
    fields = ", ".join(map(str, p.get("from_merged") or []))
    return _("Values taken from it: %(fields)s") % {"fields": fields} if fields else ""


def _money(p: Props) -> str:
    value, currency = p.get("value"), str(p.get("currency") or "")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return f"{value} {currency}".strip() if value not in (None, "") else ""
    return f"{value:,.2f} {currency}".strip()


def _proposed(p: Props) -> str:
    """A write that matched a lead outside its author's scope: what they wanted to set."""
    values = {**(p.get("values") or {}), **(p.get("custom") or {})}
    shown = [f"{k}: {v}" for k, v in values.items()]
    if p.get("note"):
        shown.append(_("Note: %(note)s") % {"note": p["note"]})
    return " · ".join(shown)


# Why an email open or click was a machine's (emails.engagement's `machine_reason`).
MACHINE_REASONS: dict[str, Promise] = {
    "proxy": gettext_lazy("privacy proxy"),
    "scanner": gettext_lazy("link scanner"),
    "bot": gettext_lazy("known bot"),
    "no_user_agent": gettext_lazy("no user agent"),
    "head_request": gettext_lazy("HEAD request"),
    "listed_network": gettext_lazy("listed network"),
    "too_soon": gettext_lazy("clicked seconds after sending"),
    "all_links": gettext_lazy("links clicked all at once"),
}


def is_machine(event: Event) -> bool:
    """An email open or click by a proxy or scanner: stored and shown, but not the lead's
    touch, nor a campaign's entry or goal (emails.engagement)."""
    return (event.properties or {}).get("engagement") == "machine"


def _engagement(label: Promise) -> Callable[[Props], str]:
    """"Opened an email (machine: Apple Mail Privacy Protection)"."""
    def title(p: Props) -> str:
        if p.get("engagement") != "machine":
            return str(label)
        reason = str(p.get("machine_reason") or "")
        why = p.get("machine_by") or MACHINE_REASONS.get(reason, reason) or "?"
        return _("%(label)s (machine: %(why)s)") % {"label": label, "why": why}
    return title


def _preferences(p: Props) -> str:
    """The topics a lead turned off and on in the preference centre (by key)."""
    shown = []
    if p.get("all_off"):
        shown.append(_("All marketing email off"))
    for key, words in (("turned_off", _("Off: %(topics)s")), ("turned_on", _("On: %(topics)s"))):
        if p.get(key):
            shown.append(words % {"topics": ", ".join(map(str, p[key]))})
    return " · ".join(shown)


L, A, P = Recorder.LEADFLOW, Recorder.API, Recorder.PAGE

# What the lead did.
_declare(EventType.PAGE_VIEW, gettext_lazy("Viewed a page"), P, kind="web",
         detail=_prop("title", "url", "path"))
_declare(EventType.DOWNLOAD, gettext_lazy("Downloaded a file"), P, kind="web", detail=_prop("url"))
_declare(EventType.OUTBOUND_CLICK, gettext_lazy("Followed a link to another site"), P, kind="web",
         detail=_prop("url"))
_declare(EventType.NEWSLETTER_SIGNUP, gettext_lazy("Signed up for the newsletter"), P,
         kind="web")
_declare(EventType.DEMO_REQUESTED, gettext_lazy("Requested a demo"), P, kind="web")
_declare(EventType.FORM_SUBMITTED, gettext_lazy("Submitted a form"), A, kind="web",
         detail=_prop("form"))
# Recorded by the assessment's own submit (capture.assessment): a page may not forge a score.
_declare(EventType.ASSESSMENT_COMPLETED, gettext_lazy("Completed an assessment"), L, kind="web",
         title=lambda p: _("Completed the assessment %(form)s: %(score)s / %(max)s") % {
             "form": p.get("form") or "?", "score": p.get("score", "?"),
             "max": p.get("max", "?")},
         detail=_prop("band"))
_declare(EventType.EMAIL_OPENED, gettext_lazy("Opened an email"), L, kind="email",
         title=_engagement(gettext_lazy("Opened an email")))
_declare(EventType.EMAIL_CLICKED, gettext_lazy("Clicked a link in an email"), L,
         kind="email", detail=_prop("url"),
         title=_engagement(gettext_lazy("Clicked a link in an email")))
_declare(EventType.UNSUBSCRIBED, gettext_lazy("Unsubscribed"), L, kind="email")
_declare(EventType.OPTIN_CONFIRMED, gettext_lazy("Confirmed the subscription"), L, kind="email",
         detail=_prop("form"))
_declare(EventType.CONSENT_WITHDRAWN, gettext_lazy("Consent withdrawn"), L, kind="email",
         detail=_prop("purpose"))
_declare(EventType.PREFERENCES_CHANGED, gettext_lazy("Changed their email preferences"), L,
         kind="email", detail=_preferences)


# Revenue: only the customer's server (a token) may record it, never a page.
_declare(EventType.PURCHASE, gettext_lazy("Purchase"), A, kind="won",
         title=lambda p: _("Bought %(product)s") % {"product": p["product"]}
         if p.get("product") else _("Purchase"),
         detail=lambda p: " · ".join(str(v) for v in (
             _money(p), p.get("product_range"),
             _("order %(id)s") % {"id": p["order_id"]} if p.get("order_id") else "") if v))
# Their properties are described by leads (leads/events.py): channel, stage, flag labels.
_declare(EventType.LEAD_CREATED, gettext_lazy("Lead created"), L)

# What was done to the lead.
_declare(EventType.LEAD_UPDATED, gettext_lazy("Profile updated"), L, our_action=True,
         detail=_changed)
_declare(EventType.EMAIL_SENT, gettext_lazy("Email sent"), L, kind="email", our_action=True,
         detail=_prop("subject", "template"))
_declare(EventType.ASSIGNED, gettext_lazy("Assigned"), L, kind="sales", our_action=True,
         title=lambda p: _("Assigned to %(owner)s") % {"owner": p.get("owner") or "?"},
         detail=_prop("reason"))
_declare(EventType.STAGE_CHANGED, gettext_lazy("Stage changed"), L, kind="stage",
         our_action=True, detail=_prop("reason"))
_declare(EventType.HANDED_OFF, gettext_lazy("Handed off to sales"), L, kind="sales",
         our_action=True, detail=lambda p: " · ".join(
             str(r.get("reason", "")) for r in (p.get("reasons") or [])[:3]
             if isinstance(r, dict)))
_declare(EventType.SCORE_CHANGED, gettext_lazy("Score changed"), L, our_action=True,
         detail=scalars)
_declare(EventType.CAMPAIGN_ENTERED, gettext_lazy("Entered a campaign"), L, kind="campaign",
         our_action=True,
         title=lambda p: _("Entered the campaign %(campaign)s") % {
             "campaign": p.get("campaign") or p.get("campaign_id") or "?"})
_declare(EventType.CAMPAIGN_LEFT, gettext_lazy("Left a campaign"), L, kind="campaign",
         our_action=True, detail=_prop("reason"))
_declare(EventType.CAMPAIGN_POINTS, gettext_lazy("Campaign step points"), L,
         kind="campaign", our_action=True,
         title=lambda p: _("Campaign step: %(points)s points") % {"points": p.get("points",
                                                                                 "?")})
_declare(EventType.POINTS_ADJUSTED, gettext_lazy("Points adjusted"), L, our_action=True,
         detail=scalars)
_declare(EventType.WON, gettext_lazy("Deal won"), L, kind="won", our_action=True,
         detail=_prop("reason"))
_declare(EventType.LOST, gettext_lazy("Deal lost"), L, kind="lost", our_action=True,
         detail=_prop("reason"))
_declare(EventType.NOTE, gettext_lazy("Note"), A, kind="sales", our_action=True,
         detail=_prop("text", "note"))
_declare(EventType.QUALITY_FLAGS_CHANGED, gettext_lazy("Data quality flags changed"), L,
         our_action=True)
_declare(EventType.CHANGE_PROPOSED, gettext_lazy("Change proposed (nothing was changed)"), L,
         kind="sales", our_action=True, detail=_proposed,
         title_by=lambda p, who: _("Change proposed by %(who)s (nothing was changed)") % {
             "who": who or _("someone")})
_declare(EventType.PIPELINE_HALTED, gettext_lazy("Automation stopped: rules kept reacting to "
                                                 "each other"), L, our_action=True,
         detail=lambda p: ", ".join(map(str, p.get("undispatched") or [])))
_declare(EventType.EMAIL_FAILED, gettext_lazy("Email could not be sent"), L, kind="email",
         our_action=True, detail=_prop("subject", "error"))
# Its reason reads as emails knows it (EmailsConfig.ready()).
_declare(EventType.EMAIL_SKIPPED, gettext_lazy("Email not sent"), L, kind="email",
         our_action=True, detail=_prop("reason"))


_declare(EventType.EMAIL_BOUNCED, gettext_lazy("Email bounced"), L, kind="email",
         our_action=True,
         title=lambda p: _("Email bounced for good") if p.get("kind") == "hard"
         else _("Email bounced (temporary failure)"),
         detail=lambda p: " · ".join(str(p[k]) for k in ("status", "diagnostic") if p.get(k)))
# Reported by the recipient: theirs, like an unsubscribe (the last touch moves).
_declare(EventType.EMAIL_COMPLAINED, gettext_lazy("Reported an email as spam"), L,
         kind="email", detail=_prop("subject"))
_declare(EventType.CAMPAIGN_STEP_FAILED, gettext_lazy("Campaign step failed"), L,
         kind="campaign", our_action=True, detail=_prop("campaign", "error"))
# A rep's work on a lead (leadflow.sales). The touches a response-time clock stops on.
CALL_OUTCOMES: dict[str, Promise] = {
    "connected": gettext_lazy("connected"), "voicemail": gettext_lazy("left a voicemail"),
    "no_answer": gettext_lazy("no answer"), "wrong_number": gettext_lazy("wrong number"),
}


def _minutes(p: Props) -> str:
    n = p.get("duration")
    return _("%(n)s min") % {"n": n} if isinstance(n, int) and n > 0 else ""


def _touch(*parts: Callable[[Props], str]) -> Callable[[Props], str]:
    return lambda p: " · ".join(x for x in (f(p) for f in parts) if x)


def _outcome(p: Props) -> str:
    code = str(p.get("outcome") or "")
    return str(CALL_OUTCOMES.get(code, code))


def _deal(p: Props) -> str:
    return " · ".join(x for x in (str(p.get("name") or ""), _money(p),
                                  str(p.get("product") or "")) if x)


_declare(EventType.CALL_LOGGED, gettext_lazy("Call"), L, kind="sales", our_action=True,
         title_by=lambda p, who: _("Call by %(who)s") % {"who": who} if who else _("Call"),
         detail=_touch(_outcome, _minutes, _prop("text")))
_declare(EventType.EMAIL_LOGGED, gettext_lazy("Email (one-to-one)"), L, kind="sales",
         our_action=True,
         title_by=lambda p, who: _("Email by %(who)s") % {"who": who} if who
         else _("Email (one-to-one)"),
         detail=_touch(_prop("subject"), _prop("text")))
_declare(EventType.MEETING_LOGGED, gettext_lazy("Meeting"), L, kind="sales", our_action=True,
         title_by=lambda p, who: _("Meeting with %(who)s") % {"who": who} if who
         else _("Meeting"),
         detail=_touch(_minutes, _prop("text")))
_declare(EventType.OPPORTUNITY_OPENED, gettext_lazy("Opportunity opened"), L, kind="sales",
         our_action=True, detail=_deal)
_declare(EventType.OPPORTUNITY_CLOSED, gettext_lazy("Opportunity closed"), L, kind="sales",
         our_action=True,
         title=lambda p: _("Opportunity won") if p.get("stage") == "won"
         else _("Opportunity lost"),
         detail=lambda p: " · ".join(x for x in (_deal(p), str(p.get("reason") or "")) if x))
_declare(EventType.MERGED, gettext_lazy("Merged with another lead"), L,
         title=lambda p: _("Merged with lead #%(id)s") % {"id": p.get("merged_lead_id", "?")},
         detail=_taken)
_declare(EventType.MERGE_UNDONE, gettext_lazy("Merge undone"), L,
         title=lambda p: _("Merge undone: lead #%(id)s restored") % {
             "id": p.get("restored_lead_id", "?")})


def _constants() -> set[str]:
    return {v for k, v in vars(EventType).items() if k.isupper() and isinstance(v, str)}


# A type named in EventType but not declared here is still Leadflow's own: refused from
# outside until it is declared (tests/test_event_registry.py asks for the declaration).
_UNDECLARED_OWN = frozenset(_constants() - REGISTRY.keys())

OUR_ACTIONS = frozenset(t for t, spec in REGISTRY.items() if spec.our_action)
# Also the creation, which sets the first and last touch itself (so an import of 100,000
# leads does not revisit each new row).
KEEP_LAST_TOUCH = OUR_ACTIONS | {EventType.LEAD_CREATED}

_PUBLIC_VIAS = frozenset({Event.Via.API, Event.Via.TRACKING})


def recorder(type: str) -> Recorder:
    spec = REGISTRY.get(type)
    if spec is not None:
        return spec.recorder
    return Recorder.LEADFLOW if type in _UNDECLARED_OWN else Recorder.PAGE


def may_record(type: str, source: Recorder) -> bool:
    """Whether `source` (API or PAGE) may record an event of this type."""
    return recorder(type) >= source


def refusal(type: str, source: Recorder) -> str:
    """The message for a type `source` may not record ("" when it may)."""
    if may_record(type, source):
        return ""
    if recorder(type) == Recorder.LEADFLOW:
        return _("%(type)r is recorded by Leadflow itself.") % {"type": type}
    return _("%(type)r may be sent by your server (the API), not by a page.") % {"type": type}


def is_authentic(event: Event) -> bool:
    """False for an event of a Leadflow-only type that came in from outside (stored before
    the registry refused it): nothing may act on it, such as an Undo button."""
    return recorder(event.type) > Recorder.LEADFLOW or event.via not in _PUBLIC_VIAS


def label(type: str) -> str:
    spec = REGISTRY.get(type)
    return str(spec.label) if spec else type.replace("_", " ").capitalize()


@dataclass
class Shown:
    title: str
    detail: str
    kind: str


def describe(type: str, properties: Props, actor: str = "") -> Shown:
    """How one event reads on the timeline: a title, a detail line, a colour. `actor` is
    the name of who recorded it, for the types whose title says so."""
    spec = REGISTRY.get(type)
    if spec is None:
        return Shown(label(type), scalars(properties), "system")
    if spec.title_by:
        title = spec.title_by(properties, actor)
    else:
        title = spec.title(properties) if spec.title else str(spec.label)
    return Shown(title, spec.detail(properties) if spec.detail else "", spec.kind)
