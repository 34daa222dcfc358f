"""Console sessions: login with a rate limit, sessions in the database (hotline/web/sessions.py)
in HttpOnly SameSite=Strict cookies, Secure on TLS (a new session id at every login: no
fixation), a CSRF token per session checked on every state-changing request, role checks for
pages and API alike, and the security headers on every response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web
from aiohttp.web_urldispatcher import StaticResource

from hotline.errors import StoreError
from hotline.store.users_repo import Role, UserRepository
from hotline.web.access import ConsoleSecurity, RateLimit, same_secret, scheme_of
from hotline.web.sessions import Session, Sessions

COOKIE = "hotline_session"
# Exactly these paths (and the static files) are open: /try checks that it is switched on;
# /metrics checks loopback or its bearer token; /healthz gives detail only on the same terms.
OPEN_PATHS = frozenset({"/login", "/healthz", "/favicon.ico", "/try", "/metrics"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# On every response (pages add their own, fuller Content-Security-Policy: console.page)
FRAME_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HSTS = "max-age=31536000"

SESSIONS = web.AppKey("sessions", Sessions)
SESSION = web.RequestKey("session", Session)
TOKEN = web.RequestKey("session_token", str)
LIMITER = web.AppKey("login_limit", RateLimit)
USERS = web.AppKey("users", UserRepository)
SECURITY = web.AppKey("console_security", ConsoleSecurity)


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
    if not same_secret(sent, session.csrf):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page")


def local_path(value: str) -> str:
    """``next=``: a path on this site, or "/" (never //host, /\\host, a scheme, or a
    control character a browser would drop to make one of those)."""
    if (not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value
            or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)):
        return "/"
    parts = urlsplit(value)
    return value if not (parts.scheme or parts.netloc) else "/"


def is_open(request: web.Request) -> bool:
    if request.path in OPEN_PATHS:
        return True
    route = request.match_info.route
    return isinstance(route.resource, StaticResource) and request.path.startswith("/static/")


UNIT_PATHS = ("/unit", "/tickets", "/api/tickets")  # and below them


def unit_may_open(path: str) -> bool:
    """A unit user's whole console: its dashboard, the tickets (each route checks the
    ticket is its unit's), the ticket API, and logging out."""
    return path in ("/", "/logout") or any(
        path == p or path.startswith(p + "/") for p in UNIT_PATHS)


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
    if is_open(request):
        return await handler(request)
    token = request.cookies.get(COOKIE)
    try:
        session = await request.app[SESSIONS].get(token)
    except StoreError:
        raise web.HTTPServiceUnavailable(
            text="the database is unavailable, so sessions cannot be checked; try again "
                 "shortly") from None
    if session is None or token is None:
        if request.path.startswith("/api/"):
            raise web.HTTPUnauthorized(text="login required")
        raise web.HTTPFound(f"/login?next={quote(request.path)}")
    request[SESSION] = session
    request[TOKEN] = token
    if session.role == Role.UNIT and not unit_may_open(request.path):
        raise web.HTTPForbidden(text="a unit user sees its unit's tickets only")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request, session)
    response = await handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, errors, static files and WebSocket handshakes
    included."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    policy = headers.get("Content-Security-Policy")
    if policy is None:
        headers["Content-Security-Policy"] = FRAME_POLICY
    elif "frame-ancestors" not in policy:
        headers["Content-Security-Policy"] = f"{policy}; {FRAME_POLICY}"
    if on_tls(request):
        headers.setdefault("Strict-Transport-Security", HSTS)


def on_tls(request: web.Request) -> bool:
    """Served over HTTPS (by us, or by a trusted proxy in front): HSTS, Secure cookies."""
    security = request.app[SECURITY]
    return security.tls or scheme_of(request, security.trusted_proxies) == "https"


def secure_cookies(request: web.Request) -> bool:
    return on_tls(request)


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict",
                        secure=secure_cookies(request),
                        max_age=int(request.app[SECURITY].sessions.absolute_s), path="/")
