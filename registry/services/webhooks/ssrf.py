"""Which receivers a webhook may reach: https to public addresses, or an allow-listed host.

A URL is checked when a webhook is created or updated and again before every request, on the
addresses its host resolves to then; the sender connects to the very address checked here, so
a DNS answer that changes in between (rebinding) reaches nothing new. Refused: loopback,
private, link-local (cloud metadata at 169.254.169.254 among them), shared, multicast,
reserved and unspecified addresses, IPv6 forms wrapping one of those, and numeric hosts that
are not canonical IP literals (``127.1``, ``0x7f.1``). A ``HOST[:PORT]`` on the allow-list
(``--webhook-allow`` / ``MODELYARD_WEBHOOK_ALLOW``) may be any address and may use http.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from registry.errors import InvalidParameter

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"https": 443, "http": 80}
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+", re.IGNORECASE)


class WebhookUrlRefused(InvalidParameter):
    """The webhook URL is not one a delivery may reach."""


@dataclass(frozen=True)
class AllowList:
    """``HOST[:PORT]`` entries; a host without a port is allowed on any port."""

    entries: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """Read a comma-separated list (``a.svc:8080,b.svc,[::1]:9000``).

        Raises:
            ValueError: an entry's port is not a number from 1 to 65535.
        """
        entries = set()
        for item in (part.strip() for part in text.split(",")):
            if item:
                parts = urlsplit(f"//{item}")
                try:
                    port = parts.port
                except ValueError:
                    raise ValueError(f"webhook allow-list entry {item!r}: bad port") from None
                entries.add(((parts.hostname or "").lower(), port))
        return cls(frozenset(entries))

    def allows(self, host: str, port: int) -> bool:
        """True when ``host`` on ``port`` is on the list."""
        host = host.lower()
        return (host, port) in self.entries or (host, None) in self.entries


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    def url(self) -> str:
        """The URL with the checked address in place of the host name."""
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    def host_header(self) -> str:
        """The ``Host`` header the receiver expects."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if _DEFAULT_PORTS[self.scheme] == self.port else f"{name}:{self.port}"


def is_refused_address(ip: IPAddress) -> bool:
    """True for every address a webhook may not reach unless allow-listed."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def check_url(url: str, allow: AllowList, *, resolve: bool = True) -> Target | None:
    """Check ``url`` and resolve its host; the ``Target`` to connect to.

    With ``resolve`` False (an allow-listed host checked at create time, which may not be
    reachable from here yet) nothing is resolved and None is returned for an allowed host.

    Raises:
        WebhookUrlRefused: the URL's scheme, host or addresses are not allowed.
    """
    parts = _split(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    allowed = allow.allows(host, port)
    if scheme != "https" and not (scheme == "http" and allowed):
        raise WebhookUrlRefused(
            f"Invalid webhook URL scheme: {parts.scheme!r}. Allowed schemes are: https "
            "(http only for a host on the webhook allow-list)."
        )
    if not host:
        raise WebhookUrlRefused(f"Webhook URL must include a hostname: {url!r}")
    _check_canonical(host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if allowed and not resolve:
        return None
    addresses = _resolve(host, port)
    if not allowed:
        for address in addresses:
            if is_refused_address(ipaddress.ip_address(address)):
                raise WebhookUrlRefused(
                    f"Webhook URL host {host!r} resolves to {address}, a private, loopback, "
                    "link-local or reserved address: add HOST[:PORT] to the webhook "
                    "allow-list (--webhook-allow) if it is a receiver you trust."
                )
    return Target(scheme, host, port, path, addresses[0])


def _split(url: str) -> SplitResult:
    if not url.strip():
        raise WebhookUrlRefused(f"Webhook URL cannot be empty or just whitespace: {url!r}")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as err:
        raise WebhookUrlRefused(f"Invalid webhook URL {url!r}: {err}") from None
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused("Webhook URL must not carry credentials: sign with a secret.")
    return parts


def _check_canonical(host: str) -> None:
    numeric = all(_NUMERIC_LABEL.fullmatch(label) for label in host.split("."))
    if ":" in host or numeric:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise WebhookUrlRefused(
                f"Webhook URL host {host!r} is not a canonical IP address literal."
            ) from None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as err:
        raise WebhookUrlRefused(f"Webhook URL host {host!r} does not resolve: {err}") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    if not addresses:
        raise WebhookUrlRefused(f"Webhook URL host {host!r} does not resolve.")
    return addresses
