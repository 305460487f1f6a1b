"""Fixtures shared by every app's tests: users and roles, API clients, a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.utils import translation

from leadflow.core import clock


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def _fresh_stage_cache() -> Iterator[None]:
    # The stage definitions are cached per process: a test that edits a stage leaves its
    # rows rolled back but the cache filled, and a cache filled mid-test shifts query counts.
    from leadflow.lifecycle import stages

    stages.clear_cache()
    yield
    stages.clear_cache()


@pytest.fixture(autouse=True)
def _no_webhook_subscription_between_tests() -> Iterator[None]:
    # The webhooks pipeline step skips its query while it knows there is no subscription;
    # a test's rollback removes subscriptions behind its back, and a look in the next
    # test's first batch would shift query counts. Subscriptions made through the
    # service (as every test does) end the pause at once.
    from leadflow.webhooks import services

    services.assume_no_subscription()
    yield
    services.assume_no_subscription()


@pytest.fixture(autouse=True)
def _default_language_between_tests() -> Iterator[None]:
    # LocaleMiddleware leaves the last request's language active in the thread: after a
    # French request, the next test's error messages would be French.
    yield
    translation.deactivate()


@dataclass
class Mailbox:
    """What the real SMTP server received, in order."""

    messages: list[Message] = field(default_factory=list)
    # Recipients the server refuses, with its answer (e.g. "550 5.1.1 No such user").
    refused: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        msg = message_from_bytes(envelope.original_content or envelope.content)
        msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        msg["X-Envelope-From"] = envelope.mail_from
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(settings) -> Iterator[Mailbox]:
    """A real aiosmtpd server on a free port; Django's SMTP backend sends to it."""
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
    }}
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def make_user(db):
    from leadflow.accounts.models import Role, User

    def make(username: str, role: str = Role.SALES_REP, team=None, **extra) -> User:
        user = User.objects.create_user(username=username, password="pw-" + username,
                                        role=role, team=team, **extra)
        return user

    return make


@pytest.fixture
def admin_user(make_user):
    from leadflow.accounts.models import Role

    return make_user("boss", Role.ADMIN, is_staff=True, is_superuser=True)


class ApiClient:
    """A test client that sends a real bearer token to /api/v1/."""

    def __init__(self, token: str):
        self.client = Client()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def get(self, path: str, **params):
        return self.client.get("/api/v1" + path, params, **self.auth)

    def post(self, path: str, data=None):
        return self.client.post("/api/v1" + path, data, content_type="application/json",
                                **self.auth)


@pytest.fixture
def api_for():
    from leadflow.accounts.services import create_token

    def make(user) -> ApiClient:
        return ApiClient(create_token(user)[1])

    return make


@pytest.fixture
def api(admin_user, api_for) -> ApiClient:
    return api_for(admin_user)


@pytest.fixture
def score_rules(db):
    """The example rules of PRODUCT.md, by event type: newsletter sign-up +5, at least one
    email opened +10, demo request +20, unsubscribe -5."""
    from leadflow.scoring.models import Category, ScoreRule

    rules = [
        ScoreRule(name="Newsletter sign-up", event_type="newsletter_signup", points=5,
                  category=Category.ENGAGEMENT),
        ScoreRule(name="At least one email opened", event_type="email_opened", points=10,
                  category=Category.ENGAGEMENT, max_times=1),
        ScoreRule(name="Demo request", event_type="demo_requested", points=20,
                  category=Category.INTEREST),
        ScoreRule(name="Unsubscribed", event_type="unsubscribed", points=-5,
                  category=Category.ENGAGEMENT),
    ]
    return {r.event_type: r for r in ScoreRule.objects.bulk_create(rules)}


@pytest.fixture
def make_lead(db):
    """Create a lead through the service (so it has its lead_created event and routing)."""
    from leadflow.leads.services import upsert_lead

    def make(email: str, **fields):
        return upsert_lead({"email": email, **fields})[0]

    return make
