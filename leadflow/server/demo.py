"""Demo data: a small company's last 90 days in Leadflow, made through the real services.

`load_demo()` sets up two sales teams, routing, the scoring rules of PRODUCT.md, the MQL
threshold, a welcome nurture campaign with its emails and two hosted forms, then replays
about 300 leads' journeys in time order with the clock moved to each moment: leads arrive
from several sources, sign up to the newsletter, get the campaign's emails (the campaign
steps really run), open and click them, request demos, are accepted or rejected by their
rep, and some are won or lost. Scores, stages, owners and timelines are therefore real.
The people (names, companies, titles, valid phone numbers of their country, and the few
data problems a real list has) come from demo_people.

The random seed is fixed, so two loads give the same data. Nothing is loaded when the
database already has leads. The emails of that replayed past are not delivered (the
recipients are invented, at `.example` domains); emails due from now on are sent by the
worker through the configured mailer.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.test.utils import override_settings

from leadflow.accounts.models import Role, Team, User
from leadflow.campaigns.models import Campaign, Enrollment, Step
from leadflow.capture.models import Form
from leadflow.core import clock
from leadflow.emails.models import EmailMessage, EmailTemplate
from leadflow.leads.models import Category, Lead
from leadflow.leads.stages import Stage
from leadflow.lifecycle.models import StageThreshold
from leadflow.routing.models import RoutingRule
from leadflow.scoring.models import ScoreRule
from leadflow.server import demo_people
from leadflow.server import demo_reasons as reasons
from leadflow.server.demo_assessment import smart_audit
from leadflow.tracking.models import Event, EventType

SEED = 20_240_917
LEADS = 300
DAYS = 90
ENTERPRISE_COUNTRIES = ["FR", "BE", "CH", "DE", "LU", "AT", "NL"]
# Marketing emails of the replayed past go nowhere (see the module docstring), and the
# "run the campaigns now" tasks each enrollment queues are dropped: the replay ran them, and
# the worker's periodic tick picks up whatever is due after it.
_NO_DELIVERY = {"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
_NO_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}

# (team, description, manager, reps); each person is (username, first name, last name).
Person = tuple[str, str, str]
TEAMS: list[tuple[str, str, Person, list[Person]]] = [
    ("Enterprise", "Accounts in France, Benelux and the DACH countries.",
     ("claire.martin", "Claire", "Martin"),
     [("julien.bernard", "Julien", "Bernard"), ("sophie.dubois", "Sophie", "Dubois"),
      ("lukas.meyer", "Lukas", "Meyer")]),
    ("SMB", "Every other market.",
     ("david.smith", "David", "Smith"),
     [("emma.jones", "Emma", "Jones"), ("omar.haddad", "Omar", "Haddad"),
      ("lucia.garcia", "Lucía", "García")]),
]
MARKETING_USER: Person = ("marie.laurent", "Marie", "Laurent")

SCORE_RULES = [
    # (name, event type, conditions, points, category, once per lead)
    ("Newsletter sign-up", EventType.NEWSLETTER_SIGNUP, {}, 5, Category.ENGAGEMENT, False),
    # A person's opens and clicks only: not a privacy proxy's nor a link scanner's.
    ("At least one email opened", EventType.EMAIL_OPENED, {"engagement": "human"}, 10,
     Category.ENGAGEMENT, True),
    ("Email clicked", EventType.EMAIL_CLICKED, {"engagement": "human"}, 5,
     Category.ENGAGEMENT, False),
    ("Demo requested", EventType.DEMO_REQUESTED, {}, 20, Category.INTEREST, False),
    ("Unsubscribed", EventType.UNSUBSCRIBED, {}, -5, Category.ENGAGEMENT, False),
    ("Viewed the pricing page", EventType.PAGE_VIEW, {"path": "/pricing"}, 5,
     Category.INTEREST, True),
    ("Attended a webinar", "webinar_attended", {}, 10, Category.ENGAGEMENT, False),
    ("Referred by a partner", EventType.LEAD_CREATED, {"source": "partner"}, 10,
     Category.FIT, True),
    ("Met at a trade show", EventType.LEAD_CREATED, {"source": "trade show"}, 5,
     Category.FIT, True),
]

# (source, channel, medium, campaign, weight, how the lead arrives)
SOURCES = [
    ("google", "paid_search", "cpc", "search-lead-management", 20, Event.Via.FORM),
    ("google", "organic_search", "organic", "", 14, Event.Via.FORM),
    ("linkedin", "social", "paid_social", "linkedin-marketing-leaders", 14, Event.Via.FORM),
    ("trade show", "event", "booth", "salon-marketing-paris", 10, Event.Via.IMPORT),
    ("newsletter", "web", "form", "", 16, Event.Via.FORM),
    ("partner", "referral", "partner", "partner-program", 10, Event.Via.API),
    ("webinar", "web", "webinar", "webinar-scoring-101", 16, Event.Via.FORM),
]
COUNTRIES = [("FR", 26), ("BE", 6), ("CH", 5), ("DE", 8), ("LU", 2), ("NL", 4), ("GB", 10),
             ("US", 15), ("ES", 6), ("IT", 6), ("CA", 5), ("MA", 3), ("SE", 4), ("AT", 2)]
PAGES = ["/", "/features", "/features/scoring", "/features/automation", "/pricing",
         "/blog/what-is-marketing-automation", "/blog/setting-up-a-lead-scoring-model",
         "/customers", "/white-paper/marketing-automation-strategy"]


@dataclass
class DemoSummary:
    leads: int
    events: int
    emails: int
    stages: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        stages = ", ".join(f"{n} {s}" for s, n in sorted(self.stages.items(), key=lambda x: -x[1]))
        return (f"{self.leads} leads ({stages}), {self.events} events, "
                f"{self.emails} campaign emails")


@dataclass
class _Setup:
    users: dict[str, User]
    newsletter: Form
    demo_form: Form
    campaign: Campaign


def load_demo(*, seed: int = SEED, leads: int = LEADS, days: int = DAYS) -> DemoSummary | None:
    """Load the demo data unless the database already has leads (then return None)."""
    if Lead.objects.exists():
        return None
    end = clock.now()
    start = end - timedelta(days=days)
    with override_settings(MAILERS=_NO_DELIVERY, TASKS=_NO_TASKS), transaction.atomic():
        if Lead.objects.select_for_update().exists():  # a concurrent load won
            return None
        with clock.travel(start):
            setup = _configure()
        _Replay(random.Random(seed), setup, start, end).run(leads)
    stages = Counter(Lead.objects.values_list("stage", flat=True))
    return DemoSummary(leads=Lead.objects.count(), events=Event.objects.count(),
                       emails=EmailMessage.objects.count(), stages=dict(stages))


# -- configuration -------------------------------------------------------------------------


def _user(username: str, first: str, last: str, role: str, team: Team | None = None) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"first_name": first, "last_name": last, "role": role,
                                     "team": team, "email": f"{username}@leadflow.example"})
    if created:
        # Demo colleagues cannot sign in until an administrator gives them a password.
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _configure() -> _Setup:
    users: dict[str, User] = {}
    for priority, (name, description, manager, reps) in enumerate(TEAMS, start=1):
        team, _ = Team.objects.get_or_create(name=name, defaults={"description": description})
        username, first, last = manager
        users[username] = _user(username, first, last, Role.SALES_MANAGER, team)
        for username, first, last in reps:
            users[username] = _user(username, first, last, Role.SALES_REP, team)
        RoutingRule.objects.get_or_create(
            name=f"{name} territory", team=team,
            defaults={"priority": priority * 10,
                      "countries": ENTERPRISE_COUNTRIES if name == "Enterprise" else []})
    username, first, last = MARKETING_USER
    users[username] = _user(username, first, last, Role.MARKETING)

    for name, event_type, conditions, points, category, once in SCORE_RULES:
        ScoreRule.objects.get_or_create(
            name=name, event_type=event_type,
            defaults={"conditions": [{"field": k, "op": "equals", "value": v}
                                     for k, v in conditions.items()],
                      "points": points, "category": category, "max_times": 1 if once else None})
    StageThreshold.objects.get_or_create(stage=Stage.MQL, defaults={"min_score": 15})

    welcome, _ = EmailTemplate.objects.get_or_create(name="Welcome to the newsletter", defaults={
        "subject": "Welcome, {{ lead.first_name|default:'and thank you' }}!",
        "body_text": (
            "Hello {{ lead.first_name|default:'there' }},\n\n"
            "Thank you for subscribing to the Leadflow newsletter. Once a month you will "
            "get one practical idea to answer your leads faster and qualify them better.\n\n"
            "To start: our guide to setting up a lead scoring model, "
            "https://www.leadflow.example/blog/setting-up-a-lead-scoring-model\n\n"
            "Marie, for the Leadflow team"),
        "body_html": (
            "<p>Hello {{ lead.first_name|default:'there' }},</p>"
            "<p>Thank you for subscribing to the Leadflow newsletter. Once a month you will "
            "get one practical idea to answer your leads faster and qualify them better.</p>"
            "<p>To start: <a href=\"https://www.leadflow.example/blog/setting-up-a-lead-"
            "scoring-model\">our guide to setting up a lead scoring model</a>.</p>"
            "<p>Marie, for the Leadflow team</p>"),
    })
    second, _ = EmailTemplate.objects.get_or_create(name="Nurture: answer leads in minutes",
                                                    defaults={
        "subject": "{{ lead.first_name|default:'Hello' }}, three ways to answer leads in minutes",
        "body_text": (
            "Hello {{ lead.first_name|default:'there' }},\n\n"
            "B2B companies take 42 hours on average to answer a lead's first request. "
            "Here is how {{ lead.company_name|default:'your team' }} can answer in minutes: "
            "route by territory, score by fit and interest, and alert the rep at once.\n\n"
            "Want to see it on your own leads? Book a 20-minute demo: "
            "https://www.leadflow.example/demo\n\nMarie, for the Leadflow team"),
        "body_html": (
            "<p>Hello {{ lead.first_name|default:'there' }},</p>"
            "<p>B2B companies take 42 hours on average to answer a lead's first request. "
            "Here is how {{ lead.company_name|default:'your team' }} can answer in minutes: "
            "route by territory, score by fit and interest, and alert the rep at once.</p>"
            "<p><a href=\"https://www.leadflow.example/demo\">Book a 20-minute demo</a></p>"
            "<p>Marie, for the Leadflow team</p>"),
    })
    campaign, created = Campaign.objects.get_or_create(name="Welcome nurture", defaults={
        "description": "New newsletter subscribers: a welcome email, then two days later a "
                       "first nurturing email. Leaves when the lead requests a demo.",
        "entry_event_type": EventType.NEWSLETTER_SIGNUP,
        "goal_event_type": EventType.DEMO_REQUESTED,
    })
    if created:
        Step.objects.bulk_create([
            Step(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL, template=welcome),
            Step(campaign=campaign, position=2, kind=Step.Kind.WAIT,
                 wait_seconds=2 * 24 * 3600),
            Step(campaign=campaign, position=3, kind=Step.Kind.SEND_EMAIL, template=second),
        ])
    newsletter, _ = Form.objects.get_or_create(slug="newsletter", defaults={
        "name": "Newsletter", "title": "Get the Leadflow newsletter",
        "intro": "One practical idea a month to answer your leads faster.",
        "event_type": EventType.NEWSLETTER_SIGNUP,
        "consent_text": "I agree to receive the Leadflow newsletter and related marketing "
                        "emails. I can unsubscribe at any time with the link in each email.",
        "consent_version": "2024-09",
        "thank_you": "Thank you! Check your inbox for a welcome email.",
        "source": "newsletter",
        # What a French visitor reads (the form's own texts are the English ones).
        "translations": {"fr": {
            "title": "Recevez la newsletter Leadflow",
            "intro": "Une idée concrète par mois pour répondre plus vite à vos leads.",
            "consent_text": "J'accepte de recevoir la newsletter Leadflow et des e-mails "
                            "marketing associés. Je peux me désinscrire à tout moment avec le "
                            "lien présent dans chaque e-mail.",
            "thank_you": "Merci ! Un e-mail de bienvenue vous attend dans votre boîte."}},
    })
    demo_form, _ = Form.objects.get_or_create(slug="demo-request", defaults={
        "name": "Demo request", "title": "Book a demo",
        "intro": "See Leadflow on your own leads in 20 minutes.",
        "event_type": EventType.DEMO_REQUESTED,
        "consent_text": "I agree to be contacted by a Leadflow sales representative.",
        "consent_version": "2024-09",
        "thank_you": "Thank you! Your sales contact will call you shortly.",
        "translations": {"fr": {
            "title": "Réservez une démo",
            "intro": "Découvrez Leadflow sur vos propres leads en 20 minutes.",
            "consent_text": "J'accepte d'être contacté par un commercial de Leadflow.",
            "thank_you": "Merci ! Votre contact commercial vous appelle très vite."}},
    })
    smart_audit()  # the interactive assessment, at /f/smart-audit/
    return _Setup(users=users, newsletter=newsletter, demo_form=demo_form, campaign=campaign)


# -- the replay ----------------------------------------------------------------------------


class _Replay:
    """Runs the planned actions in time order, the clock set to each action's time."""

    # A worker's tick finds due campaign steps within seconds.
    WORKER_DELAY = timedelta(seconds=20)

    def __init__(self, rng: random.Random, setup: _Setup, start: datetime, end: datetime):
        self.rng = rng
        self.setup = setup
        self.start = start
        self.end = end
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = 0
        self.next_campaign_run: datetime | None = None
        self.last_message_id = 0
        self.used_emails: set[str] = set()

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        if when < self.end:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, action))

    def run(self, count: int) -> None:
        span = (self.end - self.start).total_seconds() - 3600
        for _ in range(count):
            # More leads lately: a growing pipeline makes the trends worth reading.
            offset = span * self.rng.random() ** 0.7
            self.at(self.start + timedelta(seconds=offset), self._new_lead_action())
        while self.queue:
            when, _, action = heapq.heappop(self.queue)
            with clock.travel(when):
                action()
            self._plan_campaign_run(when)

    # Campaign steps run when they fall due, as the worker would run them: the emails are
    # "sent" at their time, and some are opened, clicked or end in an unsubscribe.
    def _plan_campaign_run(self, now: datetime) -> None:
        due = (Enrollment.objects.filter(status=Enrollment.Status.ACTIVE)
               .aggregate(due=Min("next_run_at"))["due"])
        if due is None:
            return
        when = max(due, now) + self.WORKER_DELAY
        if self.next_campaign_run is None or when < self.next_campaign_run:
            self.next_campaign_run = when
            self.at(when, self._run_campaigns)

    def _run_campaigns(self) -> None:
        from leadflow.campaigns.engine import run_due_enrollments
        from leadflow.emails.outbox import send_due

        if self.next_campaign_run is not None and clock.now() < self.next_campaign_run:
            return  # superseded by an earlier run
        self.next_campaign_run = None
        # As a worker's ticks do: steps queue emails, the outbox sends them, the steps
        # waiting for them go on.
        while run_due_enrollments() + send_due():
            pass
        for message in EmailMessage.objects.filter(pk__gt=self.last_message_id).order_by("pk"):
            self.last_message_id = message.pk
            if message.status == EmailMessage.Status.SENT and message.sent_at:
                self._react_to_email(message, message.sent_at)

    def _react_to_email(self, message: EmailMessage, sent_at: datetime) -> None:
        rng = self.rng
        if rng.random() < 0.04:
            self.at(sent_at + timedelta(hours=rng.uniform(1, 48)),
                    lambda: self._unsubscribe(message))
            return
        if rng.random() < 0.5:
            opened = sent_at + timedelta(minutes=rng.expovariate(1 / 300))
            self.at(opened, lambda: self._open(message))
            if rng.random() < 0.4:
                self.at(opened + timedelta(minutes=rng.uniform(0.5, 10)),
                        lambda: self._click(message))

    def _open(self, message: EmailMessage) -> None:
        from leadflow.emails import tokens
        from leadflow.emails.services import record_open

        record_open(tokens.open_token(message.pk))

    def _click(self, message: EmailMessage) -> None:
        from leadflow.tracking.services import record_event

        _, created = record_event(
            EventType.EMAIL_CLICKED, lead=message.lead, via=Event.Via.EMAIL,
            idempotency_key=f"email_clicked:{message.pk}",
            properties={"message_id": message.pk, "campaign_id": message.campaign_id,
                        "url": "https://www.leadflow.example/blog/setting-up-a-lead-scoring-model",
                        "engagement": "human"})
        if created:
            EmailMessage.objects.filter(pk=message.pk).update(clicked_at=clock.now())

    def _unsubscribe(self, message: EmailMessage) -> None:
        from leadflow.emails import tokens
        from leadflow.emails.services import unsubscribe

        unsubscribe(tokens.unsubscribe_token(message.lead_id, message.campaign_id))

    # one lead's journey, planned when it arrives
    def _new_lead_action(self) -> Callable[[], None]:
        rng = self.rng
        source, channel, medium, campaign, _, via = rng.choices(
            SOURCES, weights=[s[4] for s in SOURCES])[0]
        country = rng.choices([c for c, _ in COUNTRIES], weights=[w for _, w in COUNTRIES])[0]
        profile = demo_people.person(rng, country)
        profile["email"] = self._email(profile["first_name"], profile["last_name"],
                                       demo_people.email_domain(rng, profile["company_name"]))
        profile.update(source=source, channel=channel, medium=medium, campaign=campaign)
        return lambda: self._arrive(profile, via)

    def _email(self, first: str, last: str, domain: str) -> str:
        slug = demo_people.slug
        base = f"{slug(first)}.{slug(last)}@{domain}"
        email, n = base, 1
        while email in self.used_emails:
            n += 1
            email = base.replace("@", f"{n}@")
        self.used_emails.add(email)
        return email

    def _arrive(self, profile: dict[str, str], via: str) -> None:
        from leadflow.capture.services import submit_form
        from leadflow.leads.services import upsert_lead
        from leadflow.tracking.services import record_event

        rng, now = self.rng, clock.now()
        lead, _ = upsert_lead(profile, via=via)
        if profile["source"] == "newsletter":
            # The sign-up form: consent with its proof, newsletter_signup, the campaign.
            values = {k: profile[k] for k in ("email", "first_name", "last_name",
                                              "company_name")}
            submit_form(self.setup.newsletter, self._submission(values, "/newsletter"))
        elif profile["source"] == "webinar":
            record_event("webinar_attended", lead=lead, via=Event.Via.IMPORT,
                         properties={"webinar": profile["campaign"]})
        lead_id = lead.pk
        # Visits over the following weeks.
        for _ in range(rng.choices([0, 1, 2, 4, 7], weights=[20, 30, 25, 15, 10])[0]):
            path = rng.choice(PAGES)
            self.at(now + timedelta(hours=rng.uniform(0.1, 24 * 40)),
                    partial(self._visit, lead_id, path))
        # Some sign up to the newsletter later on.
        if profile["source"] != "newsletter" and rng.random() < 0.3:
            self.at(now + timedelta(hours=rng.uniform(1, 24 * 20)),
                    lambda: self._newsletter(lead_id))
        # Demo requests: more likely from the warmer sources.
        chance = {"partner": 0.35, "trade show": 0.3, "webinar": 0.25, "google": 0.18,
                  "linkedin": 0.12}.get(profile["source"], 0.1)
        if rng.random() < chance:
            self.at(now + timedelta(hours=rng.uniform(0.05, 24 * 30)),
                    lambda: self._demo_request(lead_id))
        # A weekly look at the MQLs by their rep; students are weeded out by marketing.
        self.at(now + timedelta(days=rng.uniform(3, 10)), lambda: self._follow_up(lead_id))
        if profile["title"] in demo_people.STUDENT_TITLES:
            self.at(now + timedelta(hours=rng.uniform(2, 72)),
                    lambda: self._disqualify(lead_id, reasons.NOT_A_TARGET))
        elif rng.random() < 0.03:
            self.at(now + timedelta(hours=rng.uniform(2, 72)),
                    lambda: self._disqualify(lead_id, reasons.CONTACT_DATA_INCORRECT))
        # Still no sign of interest a month later: a nurture lead (not a bad lead).
        self.at(now + timedelta(days=rng.uniform(28, 35)), lambda: self._age(lead_id))

    def _submission(self, values: dict[str, str], page: str) -> Any:
        from leadflow.capture.services import Submission

        ip = f"198.51.100.{self.rng.randint(1, 254)}"  # documentation range (RFC 5737)
        return Submission(values=values, consent=True, ip=ip, trusted=True,
                          page_url=f"https://www.leadflow.example{page}")

    def _lead(self, lead_id: int) -> Lead:
        return Lead.objects.select_related("owner").get(pk=lead_id)

    def _visit(self, lead_id: int, path: str) -> None:
        from leadflow.tracking.services import record_event

        record_event(EventType.PAGE_VIEW, lead=self._lead(lead_id), via=Event.Via.TRACKING,
                     properties={"url": f"https://www.leadflow.example{path}", "path": path})

    def _newsletter(self, lead_id: int) -> None:
        from leadflow.capture.services import submit_form

        lead = self._lead(lead_id)
        if lead.do_not_email:
            return
        submit_form(self.setup.newsletter,
                    self._submission({"email": lead.email or ""}, "/blog"))

    def _demo_request(self, lead_id: int) -> None:
        from leadflow.capture.services import submit_form

        lead = self._lead(lead_id)
        if lead.stage in (Stage.CUSTOMER, Stage.LOST, Stage.DISQUALIFIED):
            return
        submit_form(self.setup.demo_form, self._submission(
            {"email": lead.email or "", "phone": lead.phone}, "/demo"))
        # Speed to lead: the rep calls back within minutes to a day and a half.
        self.at(clock.now() + timedelta(hours=self.rng.expovariate(1 / 6)),
                lambda: self._follow_up(lead_id, after_demo_request=True))

    def _disqualify(self, lead_id: int, reason: str) -> None:
        from leadflow.lifecycle.services import change_stage

        lead = self._lead(lead_id)
        if lead.stage in (Stage.LEAD, Stage.NURTURE):
            change_stage(lead, Stage.DISQUALIFIED, reason=reason,
                         actor=self.setup.users[MARKETING_USER[0]])

    def _age(self, lead_id: int) -> None:
        from leadflow.lifecycle.services import change_stage

        lead = self._lead(lead_id)
        if lead.stage == Stage.LEAD:
            change_stage(lead, Stage.NURTURE, actor=self.setup.users[MARKETING_USER[0]],
                         reason=reasons.AGED)

    def _note(self, lead: Lead, text: str) -> None:
        from leadflow.tracking.services import record_event

        record_event(EventType.NOTE, lead=lead, via=Event.Via.UI, actor=lead.owner,
                     properties={"text": text})

    def _follow_up(self, lead_id: int, *, after_demo_request: bool = False) -> None:
        """The rep's first contact with an MQL: accept the hand-off or send it back."""
        from leadflow.lifecycle.services import change_stage

        lead, rng = self._lead(lead_id), self.rng
        if lead.stage != Stage.MQL or lead.owner is None:
            return
        self._note(lead, "Called back after the demo request" if after_demo_request else
                   rng.choice(["Called: interested, wants a proposal",
                               "First call done, next step agreed"]))
        roll = rng.random()
        if roll < 0.15:
            change_stage(lead, Stage.NURTURE, actor=lead.owner,
                         reason=reasons.REJECTED_BY_SALES.format(rng.choice(reasons.REJECTED)))
        elif roll < 0.2:
            change_stage(lead, Stage.DISQUALIFIED, actor=lead.owner,
                         reason=reasons.CONTACT_DATA_INCORRECT)
        else:
            change_stage(lead, Stage.SAL, actor=lead.owner, reason=reasons.ACCEPTED)
            self.at(clock.now() + timedelta(days=rng.uniform(1, 7)),
                    lambda: self._qualify(lead_id))

    def _qualify(self, lead_id: int) -> None:
        from leadflow.lifecycle.services import change_stage

        lead, rng = self._lead(lead_id), self.rng
        if lead.stage != Stage.SAL:
            return
        if rng.random() < 0.65:
            change_stage(lead, Stage.SQL, actor=lead.owner,
                         reason=reasons.QUALIFIED)
            self.at(clock.now() + timedelta(days=rng.uniform(2, 10)),
                    lambda: self._open_deal(lead_id))
        elif rng.random() < 0.5:
            change_stage(lead, Stage.NURTURE, actor=lead.owner,
                         reason=reasons.NOT_NOW)

    def _open_deal(self, lead_id: int) -> None:
        from leadflow.lifecycle.services import change_stage

        lead, rng = self._lead(lead_id), self.rng
        if lead.stage != Stage.SQL:
            return
        if rng.random() < 0.75:
            change_stage(lead, Stage.OPPORTUNITY, actor=lead.owner,
                         reason=reasons.PROPOSAL)
            self.at(clock.now() + timedelta(days=rng.uniform(5, 30)),
                    lambda: self._close(lead_id))

    def _close(self, lead_id: int) -> None:
        from leadflow.lifecycle.services import mark_outcome

        lead, rng = self._lead(lead_id), self.rng
        if lead.stage != Stage.OPPORTUNITY:
            return
        roll = rng.random()
        if roll < 0.5:
            mark_outcome(lead, "won", actor=lead.owner, reason=reasons.SIGNED)
        elif roll < 0.85:
            mark_outcome(lead, "lost", actor=lead.owner, reason=rng.choice(reasons.LOST))


# -- the demo administrator (make run) -------------------------------------------------------


@dataclass
class DemoCredentials:
    username: str
    password: str
    token: str


def ensure_demo_admin(path: Path, username: str = "admin") -> DemoCredentials:
    """The demo administrator and its API token, kept in `path` (JSON, mode 600) so that
    every `make run` prints the same login. Creates or repairs what is missing."""
    from leadflow.accounts.services import create_admin, create_token, user_for_token

    saved: dict[str, Any] = {}
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            saved = {}
    if saved.get("username") != username:
        saved = {}
    password = saved.get("password") or secrets.token_urlsafe(12)
    user = User.objects.filter(username=username).first()
    if user is None or not user.is_active or not user.check_password(password):
        user = create_admin(username, password, email=f"{username}@localhost")
    token = saved.get("token") or ""
    owner = user_for_token(token) if token else None
    if owner is None or owner.pk != user.pk:
        token = create_token(user, name="make run")[1]
    creds = DemoCredentials(username=username, password=password, token=token)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"username": username, "password": password, "token": token}, out, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return creds
