"""Who is asking: the client's address (X-Forwarded-For believed only from the configured
trusted proxies), the login rate limit over it (bounded, keys hashed), the loopback-or-token
rule of /metrics and /healthz's detail, and secrets compared without tripping on non-ASCII."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from aiohttp import web

from hotline.ports import Clock
from hotline.web.sessions import SessionPolicy

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class ConsoleSecurity:
    """The console's security settings (HOTLINE_SESSION_*, HOTLINE_TRUSTED_PROXIES, TLS)."""

    sessions: SessionPolicy = field(default_factory=SessionPolicy)
    trusted_proxies: tuple[IPNetwork, ...] = ()
    tls: bool = False  # served over HTTPS itself: HSTS and Secure cookies


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``10.0.0.1, 192.168.0.0/24, ::1`` -> networks; ValueError names the bad entry."""
    nets = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(nets)


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(request: web.Request, trusted: tuple[IPNetwork, ...]) -> str:
    """The peer's address; if the peer is a trusted proxy, the nearest address in
    X-Forwarded-For that is not one (read right to left: the left is the client's to write)."""
    if not from_trusted_proxy(request, trusted):
        return request.remote or ""
    peer = request.remote or ""
    hops = [h for value in request.headers.getall("X-Forwarded-For", ())
            for h in value.split(",")]
    for hop in reversed(hops):
        addr = _address(hop)
        if addr is None:
            break  # garbage: trust nothing further left
        if not any(addr in net for net in trusted):
            return str(addr)
    return peer


def from_trusted_proxy(request: web.Request, trusted: tuple[IPNetwork, ...]) -> bool:
    peer = _address(request.remote or "")
    return peer is not None and any(peer in net for net in trusted)


def scheme_of(request: web.Request, trusted: tuple[IPNetwork, ...]) -> str:
    """http or https as the browser sees it: a trusted proxy's X-Forwarded-Proto counts."""
    if from_trusted_proxy(request, trusted):
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            return proto
    return request.scheme


def same_secret(sent: str, expected: str) -> bool:
    """hmac.compare_digest on the UTF-8 bytes (on str it raises TypeError for non-ASCII)."""
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"),
                               expected.encode("utf-8", "surrogateescape"))


def local_or_token(request: web.Request, token: str, trusted: tuple[IPNetwork, ...]) -> bool:
    """From this machine (the client, not a local proxy), or with the bearer token."""
    sent = request.headers.get("Authorization", "")
    if token and same_secret(sent, f"Bearer {token}"):
        return True
    addr = _address(client_address(request, trusted))
    return addr is not None and addr.is_loopback


class RateLimit:
    """At most ``attempts`` failed logins per ``window_s`` for one address or one user.

    Keys are kept as hashes (no user names or addresses in memory dumps, and an attacker's
    long strings cost 16 bytes each), and at most ``max_keys`` of them: the least recently
    failed are evicted first."""

    def __init__(self, clock: Clock, attempts: int = 5, window_s: float = 60.0,
                 max_keys: int = 10_000) -> None:
        self.clock = clock
        self.attempts = attempts
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: OrderedDict[bytes, deque[float]] = OrderedDict()

    @staticmethod
    def _key(key: str) -> bytes:
        return hashlib.blake2b(key.encode("utf-8", "surrogateescape"), digest_size=16).digest()

    def blocked(self, *keys: str) -> bool:
        now = self.clock.monotonic()
        for key in map(self._key, keys):
            q = self._failures.get(key)
            if q is None:
                continue
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if not q:
                del self._failures[key]
            elif len(q) >= self.attempts:
                return True
        return False

    def failed(self, *keys: str) -> None:
        now = self.clock.monotonic()
        for key in map(self._key, keys):
            q = self._failures.pop(key, None) or deque(maxlen=self.attempts)
            q.append(now)
            self._failures[key] = q  # the most recent last
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
