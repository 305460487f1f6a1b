"""What the acceptance stories (test_stories.py) share: the workers, a person reading their
mail in a browser, and the marketer's setup through the services.

The workers are the real ones, in one of two modes (test_stories runs each story in
both): in the test's thread, their periodic jobs run until nothing is due (score decay,
segment rebuilds, time windows and refresh, the campaign engine `run_due_enrollments`, the outbox
`send_due`, which hands the mail to the real SMTP server of the `smtp_server` fixture);
or two `leadflow worker` processes do it all, and `work()` waits until the database and
the queue say they are idle (story_workers).
A person opens the tracking pixel and follows the links of the messages that server
received, with a browser's user agent from a home address, some minutes after delivery,
so that Leadflow counts the open or click as a person's (emails.engagement); they fill
forms on their public page as a browser would (the hidden fields sent back, after a
while to type).
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from django.test import Client

from leadflow.campaigns.engine import run_due_enrollments
from leadflow.campaigns.models import Campaign, Step
from leadflow.core import clock
from leadflow.emails.outbox import send_due
from leadflow.scoring.decay import apply_decay
from leadflow.segments.builds import run_due as build_segments
from leadflow.segments.services import refresh_due as refresh_segments
from leadflow.segments.windows import check_time_windows

BASE_URL = "https://leads.example.com"
BROWSER_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
              "(KHTML, like Gecko) Version/17.5 Safari/605.1.15")
# How long a person takes to notice an email, or to fill a form: well past the machine
# thresholds (LEADFLOW_MACHINE_CLICK_SECONDS, LEADFLOW_FORM_MIN_SECONDS).
READING = timedelta(minutes=20)
TYPING = timedelta(minutes=1)


# The workers mode's processes (story_workers.StoryWorkers), set by test_stories while a
# story runs in that mode; None: the workers run in the test's thread.
processes: Any = None


def work() -> None:
    """The workers, until nothing is due: decay and segment membership (which enters
    campaigns), campaign steps and email sends, in turns (a sent email lets its step go
    on, which may queue the next), in the order of a worker's tick."""
    if processes is not None:
        processes.wait_idle()
        return
    for _ in range(50):
        done = [apply_decay(), build_segments(), check_time_windows(), refresh_segments(),
                run_due_enrollments(), send_due()]
        if not any(done):
            return
    raise AssertionError("the workers never went idle: a loop in a campaign?")


def later(delta: timedelta) -> None:
    """Time passes, and the workers do what fell due meanwhile."""
    clock.advance(delta)
    work()


# --- received mail --------------------------------------------------------------------

def subject(msg: Message) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def body(msg: Message, content_type: str = "text/html") -> str:
    part = next(p for p in msg.walk() if p.get_content_type() == content_type)
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def text(msg: Message) -> str:
    """The plain-text part, whitespace folded (for reading sentences across lines)."""
    return " ".join(body(msg, "text/plain").split())


def _local(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url.removeprefix(BASE_URL)


class Person:
    """Someone reading their mail and browsing, from their own address and browser."""

    def __init__(self, mailbox: Any, email: str, ip: str = "203.0.113.7"):
        self.mailbox, self.email = mailbox, email
        self.browser = Client(HTTP_USER_AGENT=BROWSER_UA, REMOTE_ADDR=ip)

    def inbox(self) -> list[Message]:
        return self.mailbox.to(self.email)

    def subjects(self) -> list[str]:
        return [subject(m) for m in self.inbox()]

    def last(self, containing: str = "") -> Message:
        """The newest message whose subject contains `containing`."""
        found = [m for m in self.inbox() if containing in subject(m)]
        assert found, f"{self.email} got no message about {containing!r}: {self.subjects()}"
        return found[-1]

    def open(self, msg: Message) -> None:
        """Reads it: the mail app loads its images, the open pixel among them."""
        clock.advance(READING)
        pixel = re.search(r'<img src="([^"]+)"', body(msg))
        assert pixel, "no open pixel"
        r = self.browser.get(_local(html_lib.unescape(pixel[1])))
        assert (r.status_code, r["Content-Type"]) == (200, "image/gif")

    def click(self, msg: Message, words: str) -> str:
        """Opens the message and follows the link whose text contains `words`; returns
        where the tracked link sent the browser."""
        self.open(msg)
        links = re.findall(r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', body(msg), re.DOTALL)
        found = [href for href, label in links if words in re.sub(r"<[^>]+>", "", label)]
        assert found, f"no link {words!r} in {subject(msg)!r}: {[lb for _, lb in links]}"
        r = self.browser.get(_local(html_lib.unescape(found[0])))
        assert r.status_code == 302, r.status_code
        return r["Location"]

    def fill(self, url: str, values: dict[str, str], *, consent: bool = False) -> None:
        """Opens the form page at `url`, types the answers, sends it."""
        r = self.browser.get(_local(url))
        assert r.status_code == 200, r.status_code
        hidden = {name: html_lib.unescape(value) for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.content.decode())}
        clock.advance(TYPING)
        sent = {**hidden, **values, **({"consent": "yes"} if consent else {})}
        r = self.browser.post(url.removeprefix(BASE_URL).split("?")[0], sent)
        assert r.status_code in (200, 302), r.content.decode()[:2000]


# --- campaigns, as the builder would save them ----------------------------------------

def campaign(name: str, steps: list[dict[str, Any]], **fields: Any) -> Campaign:
    """A campaign and its graph: each step a dict of Step fields, positioned 1, 2, ... in
    order; `then` and `else` name the positions of the yes and no paths."""
    c = Campaign.objects.create(name=name, **fields)
    made = [Step.objects.create(campaign=c, position=i, **{
        k: v for k, v in spec.items() if k not in ("then", "else")})
        for i, spec in enumerate(steps, start=1)]
    for step, spec in zip(made, steps, strict=True):
        if "then" in spec or "else" in spec:
            step.next_step = made[spec["then"] - 1] if spec.get("then") else None
            step.no_step = made[spec["else"] - 1] if spec.get("else") else None
            step.save(update_fields=["next_step", "no_step"])
    return c


# --- the automation path of stories 1 and 2 ---------------------------------------------

NEWSLETTER_CONSENT = "Send me the newsletter; I can unsubscribe at any time."
AUTOMATE = "Software to automate tasks"


def automation_path(admin: Any, rep_email: str) -> dict[str, Any]:
    """The marketer's setup of PRODUCT.md's scoring example and the two campaigns of
    Mickaël's path, through the services a marketer's pages call:

    - rules: newsletter sign-up +5, at least one email opened +10, the answer "software to
      automate tasks" +20 (interest: what he said), a demo request +20, reading articles
      +10 (once a day); no email opened and no visit for 3 months -10;
    - stages: MQL at 15 points; a demo request makes an MQL an SQL, and SQL is where
      sales take over (the hand-off stage: the rep is told);
    - forms: the newsletter sign-up, "what do you expect?", the demo request;
    - "Nurture", for the segment "Newsletter readers" (signed up, score not negative):
      the newsletter every 30 days; left on leaving the segment, and when moving on to
      "Targeted" (its goal);
    - "Targeted" (at 15 points): asks what he expects, then offers a demo; converted
      when he asks for one.
    """
    from leadflow.accounts.models import Role, Team, User
    from leadflow.capture.builder import add_question, save_form
    from leadflow.emails.editor import save_template
    from leadflow.leads.models import Category
    from leadflow.lifecycle import rules as stage_rules
    from leadflow.lifecycle.models import StageDefinition
    from leadflow.lifecycle.services import edit_stage
    from leadflow.routing.models import RoutingRule
    from leadflow.scoring.editor import save_group, save_rule
    from leadflow.scoring.jobs import run_due as run_rescores
    from leadflow.scoring.models import ScoreGroup
    from leadflow.segments.services import create_segment

    team = Team.objects.create(name="Automation")
    rep = User.objects.create_user(username="anne", password="pw-anne", role=Role.SALES_REP,
                                   team=team, email=rep_email, first_name="Anne")
    RoutingRule.objects.create(name="Everyone", team=team)

    for rule in (
            {"name": "Newsletter sign-up", "event_type": "newsletter_signup", "points": 5,
             "max_times": 1},
            {"name": "At least one email opened", "event_type": "email_opened",
             "points": 10, "max_times": 1},
            {"name": "Wants software to automate tasks", "kind": "attribute",
             "conditions": [{"field": "custom.expectation", "op": "equals",
                             "value": AUTOMATE}],
             "points": 20, "category": Category.INTEREST},
            {"name": "Demo request", "event_type": "demo_requested", "points": 20,
             "category": Category.INTEREST},
            {"name": "Read an article", "event_type": "page_view", "points": 10,
             "conditions": [{"field": "url", "op": "contains", "value": "/blog/"}],
             "max_times": 1, "per": "day"}):
        save_rule(admin, None, {"category": Category.ENGAGEMENT, **rule}, notify=True)

    # No email opened and no visit for 3 months: -10, once per silent period.
    save_group(admin, ScoreGroup.primary(), {"inactivity_days": 90, "inactivity_points": -10},
               notify=True)

    stage_rules.save_rule(admin, None, {"kind": "score", "stage": "mql", "min_score": 15})
    stage_rules.save_rule(admin, None, {"kind": "event", "stage": "sql",
                                        "event_type": "demo_requested",
                                        "from_stages": ["lead", "mql"]})
    edit_stage(StageDefinition.objects.get(slug="mql"), {"is_handoff": False}, actor=admin)
    edit_stage(StageDefinition.objects.get(slug="sql"), {"is_handoff": True}, actor=admin)

    save_form(admin, None, {"name": "Newsletter", "slug": "newsletter",
                            "event_type": "newsletter_signup",
                            "consent_text": NEWSLETTER_CONSENT})
    expectations = save_form(admin, None, {"name": "Your expectations",
                                           "slug": "expectations"})
    add_question(admin, expectations, {
        "labels": {"en": "What do you expect from us?"}, "key": "expectation",
        "type": "select", "required": True,
        "choices": [AUTOMATE, "Advice on our strategy", "Training for the team"]})
    save_form(admin, None, {"name": "Demo request", "slug": "demo",
                            "event_type": "demo_requested"})

    def template(name: str, subject: str, paragraphs: list[str], link: tuple[str, str]):
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        html += f'<p><a href="{link[1]}">{link[0]}</a></p>'
        return save_template(admin, None, {"name": name, "subject": subject,
                                           "body_format": "html", "body_html": html})[0]

    hello = 'Hello {{ lead.first_name|default:"there" }},'
    newsletter = template("Newsletter", "This month: three tasks to stop doing by hand", [
        hello, "Our readers saved a day a week by letting software send their follow-ups, "
        "score their leads and remind their reps."],
        ("Read the article", "https://www.example.com/blog/three-tasks"))
    ask = template("What do you expect", "What do you expect from marketing automation?", [
        hello, "You have read our newsletter: tell us in one click what you expect from us, "
        "and we will only send you what helps."],
        ("Tell us what you expect", f"{BASE_URL}/f/expectations/"))
    demo = template("Demo offer", "See it working on your own leads: a 30-minute demo", [
        hello, "You told us you want software to automate tasks: one of our experts will "
        "show you, on your own leads, how it is done."],
        ("Book my demo", f"{BASE_URL}/f/demo/"))

    S = Step.Kind
    targeted = campaign("Targeted: automation", [
        {"kind": S.SEND_EMAIL, "template": ask},
        {"kind": S.IF_SUBMITTED, "config": {"form": "expectations",
                                            "within_seconds": 14 * 86400}},
        {"kind": S.SEND_EMAIL, "template": demo},
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 14}}},
    ], entry_score=15, goal_event_type="demo_requested")
    # Nurtured: who signed up and whose score is not negative. Leaving the segment (the
    # score fell below zero) is leaving the campaign; coming back to it, entering again.
    readers = create_segment(admin, name="Newsletter readers", filter={"all": [
        {"event": {"type": "newsletter_signup"}},
        {"field": "score", "op": "gte", "value": 0}]})
    nurture = campaign("Nurture", [
        {"kind": S.SEND_EMAIL, "template": newsletter},
        {"kind": S.WAIT, "config": {"wait": {"kind": "delay", "days": 30}}, "then": 1},
    ], entry_segment=readers, exit_on_segment_leave=True,
        reentry=Campaign.Reentry.AFTER_EXIT,
        goal_event_type="campaign_entered",
        goal_conditions=[{"field": "campaign_id", "op": "equals", "value": targeted.pk}])
    run_rescores()  # the rules' re-score jobs, on no lead yet
    return {"rep": rep, "nurture": nurture, "targeted": targeted, "readers": readers}


def follow_the_targeted_path(person: Person, ask: Message) -> None:
    """Stories 1 and 2 from the targeted campaign's first email: the next day the
    person answers "software to automate tasks" on the form it links to; the demo offer
    arrives at once; the next day they book the demo."""
    later(timedelta(days=1))
    form = person.click(ask, "Tell us what you expect")
    assert form == f"{BASE_URL}/f/expectations/"
    from leadflow.leads.models import Lead

    before = Lead.objects.get(email=person.email).score
    person.fill(form, {"email": person.email, "expectation": AUTOMATE})
    lead = Lead.objects.get(email=person.email)
    assert (lead.score, lead.interest_score) == (before + 20, 20)
    assert lead.custom["expectation"] == AUTOMATE
    work()
    offer = person.last("a 30-minute demo")
    assert "You told us you want software to automate tasks" in text(offer)
    later(timedelta(days=1))
    person.fill(person.click(offer, "Book my demo"), {"email": person.email})

