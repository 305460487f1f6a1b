"""One POST to a subscriber, safe from server-side request forgery.

The host is resolved here, on every delivery, and every address it resolves to is
checked; the connection then goes to the checked address (not to the name again), so a
DNS answer that changes between the check and the connection (rebinding) cannot reach
a private address. The Host header and TLS SNI / certificate check still use the name.
Redirects are not followed (http.client never does)."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT = 10.0
BODY_KEPT = 2000


class Refused(Exception):
    """The address may not be called (private, loopback...): retrying cannot help."""


@dataclass
class Answer:
    status: int
    body: str


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to, after checking every address `host` resolves to."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise OSError(f"cannot resolve {host}: {e}") from None
    addresses = [str(info[4][0]) for info in found]
    if not addresses:
        raise OSError(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%")[0])):
                raise Refused(f"{host} resolves to {address}, a private or reserved address")
    return addresses[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with SNI and the certificate checked for the name."""

    def __init__(self, name: str, address: str, port: int, timeout: float):
        super().__init__(name, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool,
         timeout: float = TIMEOUT) -> Answer:
    """POST `body`; raises Refused, OSError (network) or http.client.HTTPException."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"not an http(s) URL: {url}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = resolve(host, port, allow_private=allow_private)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = _PinnedHTTPS(host, address, port, timeout)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    default_port = 443 if parts.scheme == "https" else 80
    host_header = host if port == default_port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" + ("" if port == default_port else f":{port}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers={
            **headers, "Host": host_header, "Content-Type": "application/json",
            "User-Agent": "Leadflow-Webhooks/1"})
        response = conn.getresponse()
        text = response.read(BODY_KEPT * 4).decode("utf-8", "replace")[:BODY_KEPT]
        return Answer(response.status, text)
    finally:
        conn.close()
