"""Reading bounce and complaint reports: DSNs (RFC 3464) and ARF reports (RFC 5965).

Both are a `multipart/report`: a DSN (`report-type=delivery-status`) has one block of
fields per recipient (Action, Status, Final-Recipient, Diagnostic-Code); an ARF report
(`report-type=feedback-report`) one block (Feedback-Type, Original-Rcpt-To,
Original-Mail-From). Either may return the original message or its headers, whose
Message-ID names our message. Pure functions over the stdlib `email` package: no database.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput

HARD, SOFT, COMPLAINT = "hard", "soft", "complaint"
# Feedback types that are a person calling the message spam (RFC 5965 section 7.3);
# "not-spam", "auth-failure" (DMARC) and "virus" are not.
_COMPLAINT_TYPES = {"abuse", "fraud", "other"}
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
# Where the address a report was sent to shows, when the envelope is not known (a report
# posted over HTTP): the VERP address of our message.
_DELIVERED_TO = ("X-Original-To", "Delivered-To", "Envelope-To", "To")


class NotAReport(InvalidInput):
    """The input is not a delivery status notification nor a complaint report (a 422
    naming the body, through the API)."""

    def __init__(self, message: str):
        super().__init__(message, field="body")


@dataclass(frozen=True)
class Recipient:
    address: str
    kind: str  # HARD, SOFT or COMPLAINT
    status: str = ""  # "5.1.1"
    diagnostic: str = ""
    # Action: delayed: the sending server is still trying (not a final answer).
    delayed: bool = False


@dataclass
class Report:
    type: str  # "delivery-status" or "feedback-report"
    recipients: list[Recipient]
    # Where the report says it was sent (our VERP address, when it is one).
    sent_to: list[str] = field(default_factory=list)
    # The Message-ID of the message the report is about, from its returned headers.
    message_id: str = ""
    # Names this report: the same report received twice has the same key.
    key: str = ""


def parse(raw: bytes) -> Report:
    """The report in `raw` (a whole message, headers and body). Raises NotAReport."""
    if not raw.strip():
        raise NotAReport(_("The message is empty."))
    msg = email.message_from_bytes(raw, policy=compat32)
    if msg.get_content_type() != "multipart/report":
        raise NotAReport(_("Not a multipart/report message (a delivery status notification "
                          "or an ARF complaint report)."))
    report_type = str(msg.get_param("report-type") or "").lower()
    parts: Any = msg.get_payload()
    if not isinstance(parts, list):
        raise NotAReport(_("A multipart/report without parts."))
    if report_type == "delivery-status":
        recipients, sent_to = _dsn(parts)
    elif report_type == "feedback-report":
        recipients, sent_to = _arf(parts)
    else:
        raise NotAReport(_("report-type %(type)s is neither delivery-status nor "
                           "feedback-report.") % {"type": report_type or "(none)"})
    returned = _returned_headers(parts)
    sent_to += [_bare(v) for name in _DELIVERED_TO for v in msg.get_all(name, [])]
    if returned is not None:
        sent_to += [_bare(v) for v in returned.get_all("Return-Path", [])]
    own_id = str(msg.get("Message-ID", "")).strip()
    key = own_id or hashlib.sha256(raw).hexdigest()
    return Report(report_type, recipients, [a for a in sent_to if a],
                  str(returned.get("Message-ID", "")).strip() if returned is not None else "",
                  f"{report_type}:{key}"[:160])


def _dsn(parts: list[Any]) -> tuple[list[Recipient], list[str]]:
    status = _part(parts, "message/delivery-status")
    blocks = status.get_payload() if status is not None else None
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise NotAReport(_("A delivery-status report without per-recipient fields."))
    recipients = []
    for block in blocks[1:]:  # the first block is about the message, the others each a recipient
        action = _field(block, "Action").lower()
        if action not in ("failed", "delayed"):
            continue  # delivered, relayed, expanded: not a bounce
        match = _STATUS.search(_field(block, "Status"))
        code = ".".join(match.groups()) if match else ""
        kind = HARD if action == "failed" and not code.startswith("4") else SOFT
        address = _typed(_field(block, "Original-Recipient") or _field(block, "Final-Recipient"))
        if address:
            recipients.append(Recipient(address.lower(), kind, code,
                                        _typed(_field(block, "Diagnostic-Code"))[:1000],
                                        delayed=action == "delayed"))
    if not recipients and not any(_field(b, "Action") for b in blocks[1:]):
        raise NotAReport(_("A delivery-status report without an Action field."))
    return recipients, []


def _arf(parts: list[Any]) -> tuple[list[Recipient], list[str]]:
    feedback = _part(parts, "message/feedback-report")
    blocks = feedback.get_payload() if feedback is not None else None
    if not isinstance(blocks, list) or not blocks:
        raise NotAReport(_("A feedback report without its message/feedback-report part."))
    fields = blocks[0]
    feedback_type = _field(fields, "Feedback-Type").lower()
    if not feedback_type:
        raise NotAReport(_("A feedback report without Feedback-Type."))
    sent_to = [_bare(_field(fields, "Original-Mail-From"))]
    if feedback_type not in _COMPLAINT_TYPES:
        return [], sent_to
    returned = _returned_headers(parts)
    address = _bare(_field(fields, "Original-Rcpt-To")) or (
        _bare(str(returned.get("To", ""))) if returned is not None else "")
    return [Recipient(address.lower(), COMPLAINT, "", f"feedback-type: {feedback_type}")], \
        sent_to


def _part(parts: list[Any], content_type: str) -> Any:
    return next((p for p in parts if p.get_content_type() == content_type), None)


def _returned_headers(parts: list[Any]) -> Message | None:
    """The original message's headers, from a text/rfc822-headers or message/rfc822 part."""
    for part in parts:
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            text = part.get_payload(decode=True) or b""
            return HeaderParser(policy=compat32).parsestr(
                text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
    return None


def _field(block: Any, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _typed(value: str) -> str:
    """`rfc822; ana@example.com` -> `ana@example.com` (an address or diagnostic type)."""
    return value.split(";", 1)[1].strip() if ";" in value else value.strip()


def _bare(value: str) -> str:
    """An address without its display name and angle brackets."""
    return email.utils.parseaddr(_typed(value) if ";" in value else value)[1].strip()
