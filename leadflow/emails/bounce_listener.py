"""`leadflow bounces`: the inbound SMTP server that receives bounce and complaint reports.

The MX of LEADFLOW_BOUNCE_DOMAIN points here. Only a signed VERP address of one of our
messages is accepted as a recipient (550 for any other: nobody can use this server to
suppress addresses of their choosing, nor as a relay); each message is parsed and
recorded by emails.bounces. A message that is not a report (an auto-reply) is accepted
and dropped, so that the sending server neither retries nor bounces it back.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.db import close_old_connections

from leadflow.accounts.permissions import Actor
from leadflow.emails import bounces, dsn, verp
from leadflow.emails.models import Bounce

log = logging.getLogger(__name__)

# A report returns at most the original message: far below this.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
CHANNEL = "bounces:smtp"


class BounceHandler:
    """aiosmtpd's handler: RCPT checks the VERP address, DATA records the report."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if verp.message_of(address) is None:
            return "550 5.1.1 Not a bounce address of this server"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's API)
        raw = envelope.original_content or envelope.content
        # The ORM is synchronous: the report is recorded in a worker thread.
        return await sync_to_async(receive, thread_sensitive=False)(
            bytes(raw), list(envelope.rcpt_tos))


def receive(raw: bytes, recipients: list[str]) -> str:
    """Record one received message; returns the SMTP answer."""
    try:
        _report, outcomes = bounces.record_report(raw, via=Bounce.Via.SMTP,
                                                  actor=Actor.public(CHANNEL),
                                                  envelope_to=recipients)
    except dsn.NotAReport as exc:
        log.info("bounce listener: a message to %s is not a report: %s", recipients,
                 exc.message)
        return "250 OK: not a delivery or complaint report, ignored"
    except Exception:
        log.exception("bounce listener: could not record a report to %s", recipients)
        return "451 4.3.0 Could not record the report now, try again later"
    finally:
        close_old_connections()
    return f"250 OK: {len(outcomes)} recorded"


def start(host: str, port: int) -> Controller:
    """Listen on host:port in a background thread; `stop()` the controller to end."""
    controller = Controller(BounceHandler(), hostname=host, port=port,
                            data_size_limit=MAX_MESSAGE_BYTES, ready_timeout=10)
    controller.start()
    return controller
