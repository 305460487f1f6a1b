"""DKIM: email from a domain with a configured key is signed, and the signature verifies,
on the bytes a real SMTP server received; a bad key stops Leadflow at start."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import dkim as dkimpy
import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from django.core import mail

from leadflow.config import ConfigError, Env
from leadflow.emails import dkim
from leadflow.emails.dkim import SignedEmail
from leadflow.server.tests.test_cli import cli_env, run_cli


def _pem(bits: int = 2048) -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@pytest.fixture(scope="module")
def pem() -> bytes:
    return _pem()


@pytest.fixture
def keys(settings, pem):
    settings.LEADFLOW_DKIM_KEYS = {"example.com": pem}
    settings.LEADFLOW_DKIM_SELECTOR = "lf2026"
    return settings


def _dns(pem: bytes, selector: str = "lf2026", domain: str = "example.com"):
    """What DNS would answer for the key record, the way dkimpy asks it."""
    record = f"v=DKIM1; k=rsa; p={dkim.public_key_base64(pem)}".encode()

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == f"{selector}._domainkey.{domain}.".encode() else None

    return lookup


MESSAGE = (b"From: Ana <ana@example.com>\r\nTo: bob@example.org\r\nSubject: Hello\r\n"
           b"Date: Mon, 04 May 2026 09:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           b"Hello Bob,\r\nsee you.\r\n")


def test_a_signed_message_verifies_with_the_published_public_key(keys, pem):
    signed = dkim.sign(MESSAGE, "example.com")

    assert signed.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert signed.endswith(MESSAGE)
    assert dkimpy.verify(signed, dnsfunc=_dns(pem))
    tags = dkimpy.util.parse_tag_value(signed.split(b"\r\n\r\n")[0].split(b"From:")[0]
                                       .removeprefix(b"DKIM-Signature:"))
    assert (tags[b"d"], tags[b"s"]) == (b"example.com", b"lf2026")
    assert [h.strip() for h in tags[b"h"].split(b":")] == list(dkim.SIGNED_HEADERS)


def test_a_changed_message_no_longer_verifies(keys, pem):
    signed = dkim.sign(MESSAGE, "example.com")

    assert not dkimpy.verify(signed.replace(b"see you.", b"pay me."), dnsfunc=_dns(pem))
    assert not dkimpy.verify(signed.replace(b"Subject: Hello", b"Subject: Urgent"),
                             dnsfunc=_dns(pem))


def test_a_domain_without_a_key_is_sent_unsigned(keys):
    assert dkim.sign(MESSAGE, "other.example") is MESSAGE
    assert dkim.public_key_record("other.example") is None


def test_the_openssl_signature_is_the_one_dkimpy_computes_in_python(pem):
    parsed = dkimpy.crypto.parse_pem_private_key(pem)
    digest = hashlib.sha256(b"the canonical headers")

    assert dkim.openssl_rsa_sign(digest, parsed) == \
        dkimpy.crypto.RSASSA_PKCS1_v1_5_sign(digest, parsed)


class _RawMailbox:
    """The bytes each message arrived as, exactly."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        self.received.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def raw_smtp(settings) -> Iterator[_RawMailbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = _RawMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 10}}}
    try:
        yield mailbox
    finally:
        controller.stop()


def _email(from_email: str) -> SignedEmail:
    email = SignedEmail(
        subject="Votre sélection · 3 téléviseurs", body="Bonjour Zoé,\n" + "é" * 2000 + "\n"
        + ".line starting with a dot\n", from_email=from_email, to=["zoe@example.org"],
        reply_to=["help@example.com"],
        headers={"Message-ID": "<42@example.com>", "List-Unsubscribe":
                 "<https://lf.example.com/u/" + "x" * 120 + ">",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    email.attach_alternative("<p>Bonjour Zoé</p>", "text/html")
    return email


def test_a_message_received_by_a_real_smtp_server_verifies(keys, pem, raw_smtp):
    sent = mail.mailers.default.send_messages([_email('"Équipe Ventes, Paris" '
                                                      "<ventes@example.com>")])

    assert sent == 1
    [received] = raw_smtp.received
    assert received.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert dkimpy.verify(received, dnsfunc=_dns(pem))
    parsed = message_from_bytes(received, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Équipe Ventes, Paris"
    assert parsed["Subject"] == "Votre sélection · 3 téléviseurs"


def test_a_message_from_a_domain_without_a_key_arrives_unsigned(keys, raw_smtp):
    mail.mailers.default.send_messages([_email("ana@elsewhere.example")])

    [received] = raw_smtp.received
    assert b"DKIM-Signature" not in received


def test_the_keys_directory_gives_each_domains_key(tmp_path, pem):
    (tmp_path / "Example.com.pem").write_bytes(pem)
    (tmp_path / "news.example.org.pem").write_bytes(pem)

    keys = Env({"LEADFLOW_DKIM_KEYS_DIR": str(tmp_path)}).pem_keys("LEADFLOW_DKIM_KEYS_DIR")

    assert keys == {"example.com": pem, "news.example.org": pem}


def _ed25519_pem() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@pytest.mark.parametrize(("content", "message"), [
    (lambda: b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
     "cannot read the private key"),
    (_ed25519_pem, "must be an RSA private key of at least 1024 bits"),
])
def test_a_key_that_is_not_a_usable_rsa_key_names_the_file(tmp_path, content, message):
    (tmp_path / "example.com.pem").write_bytes(content())

    with pytest.raises(ConfigError, match=f"LEADFLOW_DKIM_KEYS_DIR: .*{message}"):
        Env({"LEADFLOW_DKIM_KEYS_DIR": str(tmp_path)}).pem_keys("LEADFLOW_DKIM_KEYS_DIR")


def test_an_unreadable_key_stops_leadflow_at_start_naming_the_file(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "example.com.pem").write_bytes(b"garbage")

    result = run_cli(["migrate"], cli_env(tmp_path, LEADFLOW_DKIM_KEYS_DIR=str(keys)))

    assert result.returncode == 2
    assert "LEADFLOW_DKIM_KEYS_DIR: cannot read the private key" in result.stderr
    assert "example.com.pem" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_keys_directory_stops_leadflow_at_start(tmp_path):
    result = run_cli(["migrate"], cli_env(tmp_path, LEADFLOW_DKIM_KEYS_DIR=str(tmp_path / "no")))

    assert result.returncode == 2
    assert "LEADFLOW_DKIM_KEYS_DIR must be a directory of <domain>.pem files" in result.stderr
