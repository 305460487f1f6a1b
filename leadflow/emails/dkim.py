"""DKIM signing (RFC 6376) of outgoing email, with the keys of LEADFLOW_DKIM_KEYS_DIR.

One PEM RSA private key per sending domain (`<domain>.pem`), all published under the
selector LEADFLOW_DKIM_SELECTOR: read and checked at start (leadflow.config.pem_keys).
A message whose From domain has no key goes unsigned.

dkimpy canonicalises (relaxed/relaxed) and writes the DKIM-Signature header. Its RSA step
is pure Python (about 7 ms per 2048-bit signature here, a ceiling of ~140 messages per
second per worker), so the signature itself is made by `cryptography` (OpenSSL, ~0.3 ms):
RSASSA-PKCS1-v1_5 is deterministic, the bytes are the same (tests compare them).

`SignedEmail` is the Django email to send: its `message()` serialises the message once,
signs those bytes and hands them back unchanged, so the signature covers exactly the bytes
the SMTP backend sends (`message(policy=SMTP).as_bytes()`).
"""

from __future__ import annotations

import email.policy
import functools
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import Policy
from email.utils import parseaddr
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"reply-to",
                  b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version",
                  b"content-type")
_CANONICALIZE = (b"relaxed", b"relaxed")


def key_for(domain: str) -> bytes | None:
    """The PEM private key configured for `domain`, or None."""
    return settings.LEADFLOW_DKIM_KEYS.get(domain.lower().rstrip("."))


def sign(message_bytes: bytes, domain: str) -> bytes:
    """`message_bytes` with a DKIM-Signature header for `domain` in front, or unchanged
    when `domain` has no key. Line endings are kept (CRLF for SMTP)."""
    pem = key_for(domain)
    if pem is None:
        return message_bytes
    linesep = b"\r\n" if b"\r\n" in message_bytes[:2000] else b"\n"
    header = dkim.sign(message_bytes, settings.LEADFLOW_DKIM_SELECTOR.encode(),
                       domain.lower().rstrip(".").encode(), pem,
                       canonicalize=_CANONICALIZE, include_headers=list(SIGNED_HEADERS),
                       linesep=linesep)
    return header + message_bytes


def public_key_record(domain: str) -> str | None:
    """The TXT record to publish at <selector>._domainkey.<domain>: the public half of
    the domain's key (None when it has none)."""
    pem = key_for(domain)
    if pem is None:
        return None
    return f"v=DKIM1; k=rsa; p={public_key_base64(pem)}"


def public_key_base64(pem: bytes) -> str:
    import base64

    der = _private_key(pem).public_key().public_bytes(Encoding.DER,
                                                      PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode("ascii")


@functools.lru_cache(maxsize=32)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)  # checked at start (config.pem_keys)
    return key


@functools.lru_cache(maxsize=32)
def _key_of_numbers(modulus: int, private_exponent: int, prime1: int, prime2: int,
                    exponent1: int, exponent2: int, coefficient: int,
                    public_exponent: int) -> rsa.RSAPrivateKey:
    public = rsa.RSAPublicNumbers(public_exponent, modulus)
    return rsa.RSAPrivateNumbers(prime1, prime2, private_exponent, exponent1, exponent2,
                                 coefficient, public).private_key()


def openssl_rsa_sign(hash_obj: Any, private_key: dict[str, int]) -> bytes:
    """dkimpy's RSASSA_PKCS1_v1_5_sign(hash, key) done by OpenSSL: the same signature
    (rsa-sha256 only: the one algorithm `sign` asks for)."""
    key = _key_of_numbers(private_key["modulus"], private_key["privateExponent"],
                          private_key["prime1"], private_key["prime2"],
                          private_key["exponent1"], private_key["exponent2"],
                          private_key["coefficient"], private_key["publicExponent"])
    if hash_obj.name.lower() != "sha256":
        raise ValueError(f"rsa-{hash_obj.name} is not signed here: use rsa-sha256")
    return key.sign(hash_obj.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))


# dkimpy looks the function up in its module when it signs: this is the one place that
# swaps the pure-Python RSA step for OpenSSL's (verification stays dkimpy's own).
dkim.RSASSA_PKCS1_v1_5_sign = openssl_rsa_sign


class SignedMessage(EmailMessage):
    """A message whose bytes are fixed once signed: serialising it again could refold a
    header and break the signature. Its headers are readable as usual."""

    signed_bytes: bytes = b""

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None) -> bytes:
        return self.signed_bytes

    def __bytes__(self) -> bytes:
        return self.signed_bytes


class SignedEmail(EmailMultiAlternatives):
    """An EmailMultiAlternatives signed with the key of its From domain, if any."""

    def message(self, *, policy: Policy | None = email.policy.default) -> EmailMessage:
        policy = policy or email.policy.default
        msg = super().message(policy=policy)
        domain = parseaddr(str(msg["From"] or ""))[1].rpartition("@")[2]
        if not domain or key_for(domain) is None:
            return msg
        signed = sign(msg.as_bytes(), domain)
        parsed = BytesParser(_class=SignedMessage, policy=policy).parsebytes(
            signed, headersonly=True)
        assert isinstance(parsed, SignedMessage)
        parsed.signed_bytes = signed
        return parsed
