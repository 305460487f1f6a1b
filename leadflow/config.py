"""Typed, loud reading of the environment.

Every setting Leadflow takes from the outside world is read here, so that a typo in a
variable fails at start-up with a message naming the variable, not later with a stack trace.
"""

from __future__ import annotations

import builtins
import ipaddress
import os
import re
from collections.abc import Mapping
from pathlib import Path


class ConfigError(Exception):
    """A LEADFLOW_* (or DATABASE_URL, REDIS_URL) variable holds a value we cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    def __init__(self, environ: Mapping[builtins.str, builtins.str] | None = None):
        self.environ = os.environ if environ is None else environ

    def str(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        return self.environ.get(name, default).strip()

    def bool(self, name: builtins.str, default: builtins.bool = False) -> builtins.bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        value = raw.strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false (1/0, yes/no), not {raw!r}")

    def int(
        self,
        name: builtins.str,
        default: builtins.int,
        *,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> builtins.int:
        raw = self.environ.get(name)
        if raw is None or not raw.strip():
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if minimum is not None and value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{name} must be at most {maximum}, not {value}")
        return value

    def choice(
        self, name: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self.str(name, default).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str]
    ) -> builtins.list[builtins.str]:
        raw = self.environ.get(name)
        if raw is None:
            return default
        return [part.strip() for part in raw.split(",") if part.strip()]

    def networks(
        self, name: builtins.str
    ) -> builtins.list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """A comma-separated list of IP addresses or CIDR networks ("10.0.0.0/8, ::1")."""
        found = []
        for part in self.list(name, []):
            try:
                found.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ConfigError(
                    f"{name} must be a comma-separated list of IP addresses or networks "
                    f"(e.g. 10.0.0.0/8, 192.168.1.5), and {part!r} is neither"
                ) from None
        return found

    def rates(self, name: builtins.str
              ) -> builtins.dict[builtins.str, tuple[builtins.int, builtins.int]]:
        """Rate limits per domain: "gmail.com=100/s, outlook.com=3000/min, *=500/s" as
        {domain: (messages, seconds)}; `*` is every domain not named."""
        units = {"s": 1, "min": 60, "h": 3600}
        found = {}
        for part in self.list(name, []):
            domain, _, rate = part.partition("=")
            count, _, unit = rate.strip().partition("/")
            if not domain.strip() or not count.strip().isdigit() or unit.strip() not in units \
                    or int(count) < 1:
                raise ConfigError(
                    f"{name} must list DOMAIN=COUNT/UNIT items, the unit being s, min or h "
                    f"(e.g. gmail.com=100/s, *=500/s), and {part!r} is not one")
            found[domain.strip().lower()] = (int(count), units[unit.strip()])
        return found


    def host_port(self, name: builtins.str, default: builtins.str
                  ) -> tuple[builtins.str, builtins.int]:
        """`host:port` (`[::1]:2525` for IPv6): where a server listens."""
        raw = self.str(name, default)
        host, sep, port = raw.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isascii() or not port.isdigit() \
                or not 1 <= int(port) <= 65535:
            raise ConfigError(f"{name} must be host:port (e.g. 127.0.0.1:2525), not {raw!r}")
        return host, int(port)

    def path(self, name: builtins.str, default: Path) -> Path:
        raw = self.str(name)
        return Path(raw).expanduser().resolve() if raw else default

    def url(
        self, name: builtins.str, default: builtins.str, schemes: tuple[builtins.str, ...]
    ) -> builtins.str:
        value = self.str(name, default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in schemes:
            raise ConfigError(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, "
                f"not {value!r}"
            )
        return value

    def dns_name(self, name: builtins.str, default: builtins.str = "") -> builtins.str:
        """A DNS name or label ("leadflow", "spf.provider.example"), lower-cased."""
        value = self.str(name, default).lower().rstrip(".")
        if value and not _DNS_NAME.fullmatch(value):
            raise ConfigError(f"{name} must be a DNS name (letters, digits, - and dots), "
                              f"not {value!r}")
        return value

    def ip_port(
        self, name: builtins.str, default_port: builtins.int
    ) -> tuple[builtins.str, builtins.int] | None:
        """An IP address with an optional port ("127.0.0.1", "127.0.0.1:5353",
        "[::1]:53"); None when unset."""
        raw = self.str(name)
        if not raw:
            return None
        host, port = raw, builtins.str(default_port)
        if raw.startswith("["):
            host, _, rest = raw[1:].partition("]")
            port = rest.removeprefix(":") or port
        elif raw.count(":") == 1:
            host, port = raw.split(":")
        try:
            ipaddress.ip_address(host)
            number = int(port)
        except ValueError:
            raise ConfigError(f"{name} must be an IP address with an optional port "
                              f"(127.0.0.1:53, [::1]:53), not {raw!r}") from None
        if not 0 < number < 65536:
            raise ConfigError(f"{name}: the port must be between 1 and 65535, not {number}")
        return host, number

    def names_or_networks(self, name: builtins.str) -> builtins.list[builtins.str]:
        """A comma-separated list of DNS names and IP addresses or networks."""
        found = []
        for part in self.list(name, []):
            value = part.lower().rstrip(".")
            try:
                value = builtins.str(ipaddress.ip_network(value, strict=False))
            except ValueError:
                if not _DNS_NAME.fullmatch(value):
                    raise ConfigError(f"{name} must list DNS names or IP addresses "
                                      f"(_spf.provider.example, 192.0.2.10), and {part!r} is "
                                      "neither") from None
            found.append(value)
        return found

    def pem_keys(self, name: builtins.str) -> dict[builtins.str, builtins.bytes]:
        """The RSA private keys of a directory of `<domain>.pem` files, by domain (e.g.
        DKIM keys); every file must be a readable PEM RSA key of at least 1024 bits."""
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        raw = self.str(name)
        if not raw:
            return {}
        directory = Path(raw).expanduser()
        if not directory.is_dir():
            raise ConfigError(f"{name} must be a directory of <domain>.pem files, and "
                              f"{raw!r} is not a directory")
        keys = {}
        for path in sorted(directory.glob("*.pem")):
            domain = path.stem.lower()
            try:
                data = path.read_bytes()
                key = load_pem_private_key(data, password=None)
            except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
                raise ConfigError(f"{name}: cannot read the private key {path} "
                                  f"({exc.__class__.__name__}: {exc})") from None
            if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 1024:
                raise ConfigError(f"{name}: {path} must be an RSA private key of at least "
                                  "1024 bits (2048 recommended)")
            if not _DNS_NAME.fullmatch(domain):
                raise ConfigError(f"{name}: {path.name} must be named <domain>.pem")
            keys[domain] = data
        if not keys:
            raise ConfigError(f"{name}: no <domain>.pem file in {raw!r}")
        return keys


_DNS_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)"
                       r"(\.[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)*")
