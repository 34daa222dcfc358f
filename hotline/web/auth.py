"""Console sessions: login with a rate limit, server-side sessions in HttpOnly SameSite
cookies (a new session id at every login: no fixation), a CSRF token per session checked on
every state-changing request, and role checks for pages and API alike."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from hotline.store.users_repo import Role, UserRepository

COOKIE = "hotline_session"
SESSION_S = 8 * 3600
# /try checks that it is switched on; /metrics checks loopback or its bearer token
OPEN_PATHS = ("/login", "/healthz", "/static/", "/favicon.ico", "/try", "/metrics")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Session:
    user: str
    role: Role
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    expires: float = field(default_factory=lambda: time.monotonic() + SESSION_S)


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}

    def create(self, user: str, role: Role) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        self._by_id[sid] = session = Session(user, role)
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        session = self._by_id.get(sid or "")
        if session is None or session.expires < time.monotonic():
            self._by_id.pop(sid or "", None)
            return None
        return session

    def drop(self, sid: str | None) -> None:
        self._by_id.pop(sid or "", None)


class RateLimit:
    """At most ``attempts`` failed logins per ``window_s`` for one address or one user."""

    def __init__(self, attempts: int = 5, window_s: float = 60.0) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        for key in keys:
            q = self._failures[key]
            while q and q[0] < now - self.window_s:
                q.popleft()
            if len(q) >= self.attempts:
                return True
        return False

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._failures[key].append(time.monotonic())


SESSIONS = web.AppKey("sessions", Sessions)
SESSION = web.RequestKey("session", Session)
LIMITER = web.AppKey("login_limit", RateLimit)
USERS = web.AppKey("users", UserRepository)


def session_of(request: web.Request) -> Session:
    session = request.get(SESSION)
    if not isinstance(session, Session):
        raise web.HTTPUnauthorized(text="login required")
    return session


def require(request: web.Request, *roles: Role) -> Session:
    session = session_of(request)
    if session.role not in roles:
        raise web.HTTPForbidden(text=f"{session.role} may not use this")
    return session


async def check_csrf(request: web.Request, session: Session) -> None:
    """Forms send the token as the field ``csrf``; scripts as the header X-CSRF-Token."""
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in ("application/x-www-form-urlencoded",
                                             "multipart/form-data"):
        sent = str((await request.post()).get("csrf", ""))
    if not hmac.compare_digest(sent, session.csrf):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page")


@web.middleware
async def bad_input_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A body that is not UTF-8 (forms are decoded lazily, wherever they are read) is the
    sender's error: 400, never a 500."""
    try:
        return await handler(request)
    except UnicodeDecodeError:
        raise web.HTTPBadRequest(text="the request is not valid UTF-8") from None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(OPEN_PATHS):
        return await handler(request)
    session = request.app[SESSIONS].get(request.cookies.get(COOKIE))
    if session is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(text="login required")
        raise web.HTTPFound(f"/login?next={request.path}")
    request[SESSION] = session
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, session)
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def set_session_cookie(response: web.StreamResponse, sid: str, secure: bool) -> None:
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Strict", secure=secure,
                        max_age=SESSION_S, path="/")
