"""Console sessions over the database (hotline/store/sessions_repo.py), shared by every node.

The cookie carries a random token; the database keeps only its SHA-256, and the CSRF token is
derived from the token too, so a copy of the database lets nobody in. A session ends after
``idle_s`` without a request or ``absolute_s`` after login, whichever comes first. The user's
role and disabled flag are read again from the database at least every ``recheck_s`` (30 s):
the only state a node keeps is that short cache and the list of its own open WebSockets.

Revoking (logout, a password change, a disable, a removal) deletes the rows; on this node the
session is refused at once and its open WebSockets are closed at once. With several nodes on
PostgreSQL (``revocations``: hotline/live/pg_revocations.py) the node then announces the
user's name over NOTIFY, and every other node drops that user's cached sessions (their next
request reads them again, and a deleted one is refused) and reads the sessions of that
user's open WebSockets again, closing those that are gone: at once, not within
``recheck_s``. `hotline users passwd|disable|remove` announces the same from the command
line (hotline/live/pg_revocations.py, ``announce_from_cli``). A change that is not announced
(a lone SQLite node) is honoured within ``recheck_s``; each open WebSocket also checks its
session against the database every ``socket_check_s``.

The user's name travels, not the token's hash: the hash is the session's key (its row, the
cache, the sockets), so it stays on the node that holds it and never goes on the wire; the
name says no more than the audit log does. The cost is that one user's other sessions on the
other nodes are read once more. A read of the database that overlapped a revocation heard
from another node (``_revoked``, a count of them, moved) is used for that request but not
cached, so a row read just before its deletion is not kept for ``recheck_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from aiohttp import WSCloseCode, web

from hotline.errors import StoreError
from hotline.ports import Clock
from hotline.store.sessions_repo import SessionRecord, SessionRepository
from hotline.store.users_repo import Role

log = logging.getLogger(__name__)
CACHE_MAX = 20_000  # sessions remembered at once on a node (more are read again, not lost)


@dataclass(frozen=True)
class SessionPolicy:
    idle_s: float = 30 * 60
    absolute_s: float = 8 * 3600
    recheck_s: float = 30.0  # role and disabled are at most this old
    socket_check_s: float = 15.0  # an open WebSocket's session is checked this often

    @property
    def touch_s(self) -> float:
        """How often a session's last request is written (not at every request): the idle
        timeout is honoured to within this."""
        return min(60.0, self.idle_s / 10)


@dataclass(frozen=True)
class Session:
    user: str
    role: Role
    csrf: str
    key: str  # the token's hash: the database row, the cache and the sockets


class Revocations(Protocol):
    """Tells the other nodes whose sessions ended here, and hears theirs."""

    def announce(self, user: str) -> None: ...

    def listen(self, heard: Callable[[str], Coroutine[Any, Any, None]]) -> None: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def csrf_of(token: str) -> str:
    return hashlib.sha256(b"csrf\0" + token.encode("utf-8", "surrogateescape")).hexdigest()[:43]


class Sessions:
    def __init__(self, repo: SessionRepository, clock: Clock,
                 policy: SessionPolicy | None = None,
                 revocations: Revocations | None = None) -> None:
        self.repo = repo
        self.clock = clock
        self.policy = policy or SessionPolicy()
        self.revocations = revocations
        self._revoked = 0  # other nodes' revocations heard (a read overlapping one: uncached)
        if revocations is not None:
            revocations.listen(self.revoked_elsewhere)
        self._cache: dict[str, tuple[float, SessionRecord]] = {}  # key -> (read at, row)
        self._sockets: dict[str, set[web.WebSocketResponse]] = {}  # key -> open sockets
        self._owners: dict[str, str] = {}  # key -> user, for the keys with open sockets

    async def create(self, user: str, role: Role) -> tuple[str, Session]:
        """A new session (a new token at every login: no fixation)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.repo.purge(now - timedelta(seconds=self.policy.idle_s),
                              now - timedelta(seconds=self.policy.absolute_s))
        await self.repo.create(token_hash(token), user, now)
        return token, Session(user, role, csrf_of(token), token_hash(token))

    async def get(self, token: str | None, fresh: bool = False) -> Session | None:
        """The live session of this cookie's token, or None (unknown, expired, revoked, or
        its user disabled or removed)."""
        if not token or len(token) > 128:
            return None
        key = token_hash(token)
        record = None if fresh else self._cached(key)
        if record is None or self._expired(record):
            revoked = self._revoked
            record = await self.repo.get(key)
            if record is None:
                self._forget(key)
                return None
            if revoked == self._revoked:
                self._cache[key] = (self.clock.monotonic(), record)
                self._bound_cache()
        if self._expired(record) or record.disabled:
            await self.drop(token)
            return None
        now = self.clock.now()
        if (now - record.last_seen_at).total_seconds() >= self.policy.touch_s:
            await self.repo.touch(key, now)
            if key in self._cache:
                self._cache[key] = (self._cache[key][0], replace(record, last_seen_at=now))
        try:
            role = Role(record.role)
        except ValueError:
            return None
        return Session(record.user, role, csrf_of(token), key)

    def _cached(self, key: str) -> SessionRecord | None:
        hit = self._cache.get(key)
        if hit is None or self.clock.monotonic() - hit[0] >= self.policy.recheck_s:
            return None
        return hit[1]

    def _expired(self, record: SessionRecord) -> bool:
        now = self.clock.now()
        return ((now - record.last_seen_at).total_seconds() >= self.policy.idle_s
                or (now - record.created_at).total_seconds() >= self.policy.absolute_s)

    def _bound_cache(self) -> None:
        if len(self._cache) <= CACHE_MAX:
            return
        stale = self.clock.monotonic() - self.policy.recheck_s
        for key in [k for k, (at, _) in self._cache.items() if at < stale]:
            del self._cache[key]
        while len(self._cache) > CACHE_MAX:  # the oldest reads go first
            del self._cache[next(iter(self._cache))]

    async def drop(self, token: str | None) -> None:
        """Logout: the session is gone everywhere, its sockets here closed."""
        if not token:
            return
        key = token_hash(token)
        user = await self._user_of(key) if self.revocations is not None else None
        await self.repo.drop(key)
        self._forget(key)
        await self._close(key)
        if user is not None and self.revocations is not None:
            self.revocations.announce(user)

    async def _user_of(self, key: str) -> str | None:
        hit = self._cache.get(key)
        if hit is not None:
            return hit[1].user
        if key in self._owners:
            return self._owners[key]
        record = await self.repo.get(key)
        return record.user if record is not None else None

    async def revoked_user(self, user: str) -> None:
        """After the user's rows were deleted (users_repo): forget them here and close their
        sockets on this node now; the other nodes are told (``revocations``)."""
        keys = {k for k, (_, r) in self._cache.items() if r.user == user}
        keys |= {k for k, owner in self._owners.items() if owner == user}
        for key in keys:
            self._forget(key)
            await self._close(key)
        if self.revocations is not None:
            self.revocations.announce(user)

    async def revoked_elsewhere(self, user: str) -> None:
        """Another node ended sessions of ``user``: forget theirs here, and close their
        sockets here whose session the database no longer has (or has disabled)."""
        self._revoked += 1
        for key in [k for k, (_, r) in self._cache.items() if r.user == user]:
            self._forget(key)
        for key in [k for k, owner in self._owners.items() if owner == user]:
            try:
                record = await self.repo.get(key)
            except StoreError as exc:  # the socket's own check closes it (socket_check_s)
                log.warning("cannot check %s's open sessions: %s", user, exc)
                return
            if record is None or record.disabled or self._expired(record):
                await self._close(key)

    def _forget(self, key: str) -> None:
        self._cache.pop(key, None)

    async def _close(self, key: str) -> None:
        for ws in list(self._sockets.get(key, ())):
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"session ended")

    @contextlib.asynccontextmanager
    async def socket(self, session: Session, token: str,
                     ws: web.WebSocketResponse) -> AsyncIterator[None]:
        """Hold an open WebSocket to its session: closed when the session ends."""
        self._sockets.setdefault(session.key, set()).add(ws)
        self._owners[session.key] = session.user
        watcher = asyncio.create_task(self._watch(token, ws), name="session-watch")
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            socks = self._sockets.get(session.key, set())
            socks.discard(ws)
            if not socks:
                self._sockets.pop(session.key, None)
                self._owners.pop(session.key, None)

    async def _watch(self, token: str, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.policy.socket_check_s)
            try:
                alive = await self.get(token, fresh=True) is not None
            except StoreError:  # the database is away: the cache decides (recheck_s)
                alive = await self._still_cached(token)
            if not alive:
                await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"session ended")
                return

    async def _still_cached(self, token: str) -> bool:
        record = self._cached(token_hash(token))
        return record is not None and not self._expired(record)

    def open_sockets(self, user: str) -> int:
        return sum(len(self._sockets.get(k, ())) for k, owner in self._owners.items()
                   if owner == user)
