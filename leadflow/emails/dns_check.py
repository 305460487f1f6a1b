"""The DNS records a sending domain needs (SPF, DKIM, DMARC), and whether DNS has them.

`expected(domain)` says what to publish, from the configuration alone (no I/O): SPF
including LEADFLOW_SPF_INCLUDE (else the SMTP relay's address, else the domain's MX),
the DKIM public key derived from the domain's private key at
<selector>._domainkey.<domain>, and a DMARC record that only monitors, to start.

Asking DNS is I/O: never in a web request. `request_check` makes the domain's `DnsCheck`
row due and wakes a worker (`emails.tasks.check_dns_task`); `run_due`, a periodic job,
claims due rows (core.workqueue), asks the resolver (LEADFLOW_DNS_RESOLVER, short
timeouts) and stores what it found. Each record comes out `ok`, `missing`, `mismatch`,
`unknown` (DNS did not answer) or, for DKIM, `no_key` (nothing to sign with).
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import dns.exception
import dns.rdatatype
import dns.resolver
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from leadflow.core import clock, workqueue
from leadflow.emails import dkim, senders
from leadflow.emails.models import DnsCheck

if TYPE_CHECKING:
    from leadflow.emails.senders import Who

OK, MISSING, MISMATCH, UNKNOWN, NO_KEY = "ok", "missing", "mismatch", "unknown", "no_key"
# Seconds per query, and for all the tries of one name: a worker tick is not held long.
TIMEOUT, LIFETIME = 2.0, 4.0
LEASE = timedelta(minutes=1)
BATCH = 10


@dataclass
class Record:
    """One TXT record the domain needs, and what DNS said of it."""

    kind: str  # spf | dkim | dmarc
    name: str  # where it lives
    expected: str  # the value to publish ("" for DKIM without a key)
    note: str = ""
    status: str = ""
    found: list[str] = field(default_factory=list)
    detail: str = ""


# --- what to publish ----------------------------------------------------------------------

def spf_mechanisms() -> tuple[list[str], str]:
    """The SPF mechanisms that authorise Leadflow's mail, and a note when they are a guess."""
    configured = settings.LEADFLOW_SPF_INCLUDE
    if configured:
        return [_mechanism(v) for v in configured], ""
    mailer: dict[str, Any] = dict(settings.MAILERS["default"])
    host = str(mailer.get("OPTIONS", {}).get("host", ""))
    guess = _("Set LEADFLOW_SPF_INCLUDE to your relay's or provider's SPF domain or address.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host and host != "localhost" and "." in host:
            return [f"a:{host.lower()}"], guess
        return ["mx"], guess
    if address.is_global:
        return [_mechanism(str(address))], guess
    return ["mx"], guess


def _mechanism(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return f"include:{value}"
    whole = network.prefixlen == network.max_prefixlen
    text = str(network.network_address) if whole else str(network)
    return f"ip{network.version}:{text}"


def dmarc_report_address(domain: str) -> str:
    return settings.LEADFLOW_DMARC_RUA or f"dmarc@{domain}"


def expected(domain: str) -> list[Record]:
    """The records `domain` needs, in the order a person sets them up."""
    mechanisms, spf_note = spf_mechanisms()
    dkim_value = dkim.public_key_record(domain) or ""
    return [
        Record("spf", domain, "v=spf1 " + " ".join(mechanisms) + " ~all", spf_note),
        Record("dkim", f"{settings.LEADFLOW_DKIM_SELECTOR}._domainkey.{domain}", dkim_value,
               "" if dkim_value else _("No DKIM key for this domain: add "
                                       "<LEADFLOW_DKIM_KEYS_DIR>/%(domain)s.pem.")
               % {"domain": domain}),
        Record("dmarc", f"_dmarc.{domain}",
               f"v=DMARC1; p=none; rua=mailto:{dmarc_report_address(domain)}",
               _("p=none only reports; move to p=quarantine once the reports show your "
                 "mail passes.")),
    ]


# --- what DNS says ------------------------------------------------------------------------

class LookupFailed(Exception):
    """DNS did not answer (a timeout, no server): neither present nor missing."""


def resolver() -> dns.resolver.Resolver:
    configured = settings.LEADFLOW_DNS_RESOLVER
    found = dns.resolver.Resolver(configure=configured is None)
    if configured is not None:
        found.nameservers = [configured[0]]
        found.port = configured[1]
    found.timeout, found.lifetime = TIMEOUT, LIFETIME
    return found


def txt(name: str, using: dns.resolver.Resolver) -> list[str]:
    """The TXT records at `name` (each one's strings joined); [] when there is none."""
    try:
        answer = using.resolve(name, dns.rdatatype.TXT, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise LookupFailed(str(exc) or type(exc).__name__) from exc
    if answer.rrset is None:
        return []
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer.rrset]


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        key, _eq, value = part.partition("=")
        tags[key.strip().lower()] = "".join(value.split())
    return tags


def _judge_spf(record: Record, found: list[str]) -> None:
    spf = [r for r in found if r.lower().split(" ", 1)[0] == "v=spf1"]
    record.found = spf
    if not spf:
        record.status = MISSING
        return
    if len(spf) > 1:
        record.status, record.detail = MISMATCH, _(
            "Several SPF records: receivers treat that as an error. Merge them into one.")
        return
    terms = {t.lower().lstrip("+") for t in spf[0].split()}
    absent = [m for m in record.expected.split()[1:-1] if m.lower() not in terms]
    if absent:
        record.status, record.detail = MISMATCH, _("Missing from the record: %(terms)s.") % {
            "terms": " ".join(absent)}
    else:
        record.status = OK


def _judge_dkim(record: Record, found: list[str]) -> None:
    keys = [r for r in found if "p" in _tags(r)]
    record.found = keys
    if not record.expected:
        record.status = NO_KEY
        return
    ours = _tags(record.expected)["p"]
    if not keys:
        record.status = MISSING
    elif any(_tags(r)["p"] == ours for r in keys):
        record.status = OK
    else:
        record.status, record.detail = MISMATCH, _(
            "The published key is not the key Leadflow signs with.")


def _judge_dmarc(record: Record, found: list[str]) -> None:
    dmarc = [r for r in found if r.replace(" ", "").lower().startswith("v=dmarc1")]
    record.found = dmarc
    if not dmarc:
        record.status = MISSING
    elif len(dmarc) > 1:
        record.status, record.detail = MISMATCH, _(
            "Several DMARC records: receivers ignore them all. Keep one.")
    elif not _tags(dmarc[0]).get("p"):
        record.status, record.detail = MISMATCH, _("The record has no policy (p=).")
    else:
        record.status = OK


_JUDGES = {"spf": _judge_spf, "dkim": _judge_dkim, "dmarc": _judge_dmarc}


def check(domain: str) -> list[Record]:
    """Ask DNS for each record `domain` needs and judge what it has (I/O: workers only)."""
    using = resolver()
    records = expected(domain)
    for record in records:
        try:
            found = txt(record.name, using)
        except LookupFailed as exc:
            record.status = UNKNOWN
            record.detail = _("DNS did not answer: %(error)s") % {"error": exc}
            continue
        _JUDGES[record.kind](record, found)
    return records


# --- the work: asked for in the UI or the API, done by a worker -------------------------

def request_check(actor: Who, domain: str) -> DnsCheck:
    """Make the domain's check due now and wake a worker (a look already under way is
    left to finish)."""
    senders.check_may_edit(actor)
    domain = domain.lower()
    with transaction.atomic():
        row, _created = DnsCheck.objects.get_or_create(domain=domain)
        DnsCheck.objects.filter(pk=row.pk, claimed_by="").update(
            due_at=clock.now(), attempts=0, last_error="")
        transaction.on_commit(_wake_worker)
    row.refresh_from_db()
    return row


def _wake_worker() -> None:
    from leadflow.emails.tasks import check_dns_task

    try:
        check_dns_task.enqueue()
    except Exception:  # the periodic tick runs it anyway
        import logging

        logging.getLogger(__name__).exception("could not enqueue check_dns_task")


def run_due(limit: int = BATCH, *, worker: str = "") -> int:
    """Check the due domains (a periodic job of every worker); returns how many."""
    done = 0
    while claim := workqueue.claim(DnsCheck.objects.all(), limit=limit, lease=LEASE,
                                   worker=worker):
        rows = dict(DnsCheck.objects.filter(pk__in=claim.ids).values_list("pk", "domain"))
        for pk in workqueue.each(claim):
            try:
                records = check(rows[pk])
            except Exception as exc:  # a bug, not DNS: kept visible on the row, retried
                workqueue.retry(claim, pk, repr(exc), final={})
                continue
            workqueue.done(claim, pk, results={"records": [asdict(r) for r in records]},
                           checked_at=clock.now(), last_error="")
            done += 1
    return done


def last_check(domain: str) -> DnsCheck | None:
    return DnsCheck.objects.filter(domain=domain.lower()).first()


def report(domain: str) -> dict[str, Any]:
    """What the page and the API show: the records to publish (from the configuration
    now) with the last check's verdict on each, and whether a check is waiting."""
    row = last_check(domain)
    seen = {r["kind"]: r for r in (row.results.get("records", []) if row else [])}
    records = []
    for record in expected(domain):
        last = seen.get(record.kind)
        # A verdict on another value (the key or the settings changed since) is stale.
        if last is not None and last.get("expected") == record.expected:
            record.status, record.found = last["status"], last["found"]
            record.detail = last["detail"]
        records.append(record)
    return {"domain": domain, "selector": settings.LEADFLOW_DKIM_SELECTOR,
            "records": records, "checked_at": row.checked_at if row else None,
            "pending": bool(row and row.due_at is not None),
            "error": row.last_error if row else ""}
