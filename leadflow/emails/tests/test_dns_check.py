"""The DNS check page: the SPF, DKIM and DMARC records a sender's domain needs, and, once
a worker has asked a real (local) DNS server, whether each is there and matches."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.emails import dkim, dns_check
from leadflow.emails.models import DnsCheck, SenderIdentity

pytestmark = pytest.mark.django_db


class DnsServer:
    """A tiny authoritative DNS server on UDP: TXT answers from `records` (name -> list of
    record texts), NXDOMAIN for any other name, SERVFAIL for the names in `failing`."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.failing: set[str] = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return  # closed
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            if name in self.failing:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif name not in self.records:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif question.rdtype == dns.rdatatype.TXT:
                rrset = dns.rrset.RRset(question.name, dns.rdataclass.IN, dns.rdatatype.TXT)
                for text in self.records[name]:
                    rrset.add(dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT,
                                                  _quoted(text)), ttl=300)
                response.answer.append(rrset)
            self.sock.sendto(response.to_wire(), peer)


def _quoted(text: str) -> str:
    # A TXT string holds 255 bytes at most: longer records (a DKIM key) are split, as
    # publishers do, and joined again by whoever reads them.
    return " ".join(f'"{text[i:i + 255]}"' for i in range(0, len(text), 255))


@pytest.fixture
def dns_server(settings) -> Iterator[DnsServer]:
    server = DnsServer()
    server.thread.start()
    settings.LEADFLOW_DNS_RESOLVER = ("127.0.0.1", server.port)
    try:
        yield server
    finally:
        server.sock.close()


@pytest.fixture(scope="module")
def pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@pytest.fixture
def configured(settings, pem):
    settings.LEADFLOW_DKIM_KEYS = {"example.com": pem}
    settings.LEADFLOW_DKIM_SELECTOR = "lf"
    settings.LEADFLOW_SPF_INCLUDE = ["_spf.relay.example", "192.0.2.10"]
    settings.LEADFLOW_DMARC_RUA = "reports@example.com"
    return settings


@pytest.fixture
def sender(db):
    return SenderIdentity.objects.create(name="Sales", from_name="Acme Sales",
                                         from_email="sales@example.com")


def _by_kind(records) -> dict[str, dns_check.Record]:
    return {r.kind: r for r in records}


def test_the_expected_records_come_from_the_configuration(configured, pem):
    records = _by_kind(dns_check.expected("example.com"))

    assert (records["spf"].name, records["spf"].expected) == (
        "example.com", "v=spf1 include:_spf.relay.example ip4:192.0.2.10 ~all")
    assert records["dkim"].name == "lf._domainkey.example.com"
    assert records["dkim"].expected == f"v=DKIM1; k=rsa; p={dkim.public_key_base64(pem)}"
    assert (records["dmarc"].name, records["dmarc"].expected) == (
        "_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:reports@example.com")


def test_without_an_spf_setting_the_public_smtp_relay_is_suggested(settings):
    settings.LEADFLOW_SPF_INCLUDE = []
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "smtp.relay.example", "port": 25}}}

    spf = _by_kind(dns_check.expected("example.com"))["spf"]

    assert spf.expected == "v=spf1 a:smtp.relay.example ~all"
    assert "LEADFLOW_SPF_INCLUDE" in spf.note


def test_records_present_and_matching_are_ok(configured, dns_server):
    dns_server.records = {
        "example.com": ["google-site-verification=abc",
                        "v=spf1 mx include:_spf.relay.example +ip4:192.0.2.10 -all"],
        "lf._domainkey.example.com": [dns_check.expected("example.com")[1].expected],
        "_dmarc.example.com": ["v=DMARC1; p=quarantine; rua=mailto:d@example.com"],
    }

    records = _by_kind(dns_check.check("example.com"))

    assert {k: r.status for k, r in records.items()} == {"spf": "ok", "dkim": "ok",
                                                         "dmarc": "ok"}
    assert records["spf"].found == [
        "v=spf1 mx include:_spf.relay.example +ip4:192.0.2.10 -all"]


def test_missing_records_are_reported_missing(configured, dns_server):
    dns_server.records = {"example.com": ["google-site-verification=abc"]}

    records = dns_check.check("example.com")

    assert [(r.kind, r.status, r.found) for r in records] == [
        ("spf", "missing", []), ("dkim", "missing", []), ("dmarc", "missing", [])]


def test_records_that_do_not_match_say_why(configured, dns_server, pem):
    dns_server.records = {
        "example.com": ["v=spf1 include:_spf.other.example ip4:192.0.2.10 ~all"],
        "lf._domainkey.example.com": ["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"],
        "_dmarc.example.com": ["v=DMARC1; p=none", "v=DMARC1; p=reject"],
    }

    records = _by_kind(dns_check.check("example.com"))

    assert {k: r.status for k, r in records.items()} == {
        "spf": "mismatch", "dkim": "mismatch", "dmarc": "mismatch"}
    assert records["spf"].detail == "Missing from the record: include:_spf.relay.example."
    assert records["dkim"].detail == "The published key is not the key Leadflow signs with."
    assert records["dmarc"].detail.startswith("Several DMARC records")


def test_a_dns_server_that_fails_gives_no_verdict(configured, dns_server):
    dns_server.records = {"example.com": ["v=spf1 include:_spf.relay.example "
                                          "ip4:192.0.2.10 ~all"]}
    dns_server.failing = {"_dmarc.example.com"}

    records = _by_kind(dns_check.check("example.com"))

    assert (records["spf"].status, records["dmarc"].status) == ("ok", "unknown")
    assert records["dmarc"].detail.startswith("DNS did not answer")


def test_a_domain_without_a_key_says_so_for_dkim(configured, dns_server):
    records = _by_kind(dns_check.check("elsewhere.example"))

    assert (records["dkim"].status, records["dkim"].expected) == ("no_key", "")


def _client(make_user, role=Role.MARKETING) -> Client:
    client = Client()
    client.force_login(make_user("mia", role))
    return client


def test_the_page_shows_the_records_to_publish_before_any_check(configured, sender, make_user):
    page = _client(make_user).get(f"/emails/senders/{sender.pk}/dns")

    assert page.status_code == 200
    html = page.content.decode()
    assert "lf._domainkey.example.com" in html and "_dmarc.example.com" in html
    assert "v=spf1 include:_spf.relay.example ip4:192.0.2.10 ~all" in html
    assert dkim.public_key_base64(configured.LEADFLOW_DKIM_KEYS["example.com"]) in html
    assert "Not checked yet." in html
    assert html.count('data-status="unchecked"') == 3


def test_check_now_queues_a_worker_check_and_the_page_shows_its_verdicts(
        configured, sender, make_user, dns_server, django_capture_on_commit_callbacks):
    dns_server.records = {"example.com": ["v=spf1 include:_spf.relay.example "
                                          "ip4:192.0.2.10 ~all"]}
    client = _client(make_user)

    with django_capture_on_commit_callbacks() as wake_ups:
        answer = client.post(f"/emails/senders/{sender.pk}/dns/check")

    assert answer.status_code == 302 and len(wake_ups) == 1
    row = DnsCheck.objects.get(domain="example.com")
    assert row.due_at is not None and row.checked_at is None
    assert "A check is waiting for a worker." in client.get(
        f"/emails/senders/{sender.pk}/dns").content.decode()

    assert dns_check.run_due() == 1

    html = client.get(f"/emails/senders/{sender.pk}/dns").content.decode()
    assert 'id="dns-spf" data-status="ok"' in html
    assert 'id="dns-dkim" data-status="missing"' in html
    assert 'id="dns-dmarc" data-status="missing"' in html
    assert "Last checked:" in html and "waiting for a worker" not in html
    assert dns_check.run_due() == 0  # done: not due again until asked


def test_a_verdict_on_another_key_is_not_shown_as_current(
        configured, sender, dns_server, pem):
    dns_server.records = {"lf._domainkey.example.com": [
        dns_check.expected("example.com")[1].expected]}
    dns_check.request_check(None, "example.com")
    dns_check.run_due()
    assert _by_kind(dns_check.report("example.com")["records"])["dkim"].status == "ok"

    configured.LEADFLOW_DKIM_KEYS = {"example.com": _other_pem()}

    assert _by_kind(dns_check.report("example.com")["records"])["dkim"].status == ""


def _other_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def test_a_sales_rep_neither_sees_the_page_nor_asks_for_a_check(configured, sender, make_user):
    client = _client(make_user, Role.SALES_REP)

    assert client.get(f"/emails/senders/{sender.pk}/dns").status_code == 403
    assert client.post(f"/emails/senders/{sender.pk}/dns/check").status_code == 403
    assert not DnsCheck.objects.exists()


def test_the_api_gives_the_records_and_queues_a_check(configured, sender, api, dns_server):
    answer = api.get(f"/emails/senders/{sender.pk}/dns")

    assert answer.status_code == 200
    body = answer.json()
    assert body["domain"] == "example.com" and body["selector"] == "lf"
    assert [(r["kind"], r["type"], r["name"], r["status"]) for r in body["records"]] == [
        ("spf", "TXT", "example.com", ""), ("dkim", "TXT", "lf._domainkey.example.com", ""),
        ("dmarc", "TXT", "_dmarc.example.com", "")]
    assert body["records"][0]["expected"] == \
        "v=spf1 include:_spf.relay.example ip4:192.0.2.10 ~all"

    queued = api.post(f"/emails/senders/{sender.pk}/dns/check")
    assert queued.status_code == 202 and queued.json()["pending"] is True
    dns_check.run_due()

    checked = api.get(f"/emails/senders/{sender.pk}/dns").json()
    assert [r["status"] for r in checked["records"]] == ["missing", "missing", "missing"]
    assert checked["checked_at"] is not None and checked["pending"] is False


def test_the_api_answers_404_for_an_unknown_sender(api):
    answer = api.get("/emails/senders/999999/dns")

    assert answer.status_code == 404
    assert answer.json()["message"] == "No such sender identity."
