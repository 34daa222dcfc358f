"""The console's edge, on the production console app: HTTPS with a self-signed certificate
(Secure cookies, HSTS), the security headers on every response, the login rate limit
(bounded, hashed keys, trusted proxies), exact open routes, secrets that are not ASCII,
/healthz's detail, next= and argon2 off the event loop."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from argon2 import PasswordHasher

from hotline.config import Settings, load_settings
from hotline.errors import ConfigError
from hotline.server.root import tls_context
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserRepository
from hotline.web.access import (
    ConsoleSecurity,
    RateLimit,
    client_address,
    local_or_token,
    parse_networks,
    same_secret,
)
from hotline.web.auth import local_path
from tests.console import (
    VirtualClock,
    add_users,
    client,
    console,
    console_services,
    login,
    status_of,
)


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    await db.upgrade()
    await add_users(db)
    yield db
    await db.close()


def self_signed(into: Path) -> tuple[Path, Path]:
    cert, key = into / "console.crt", into / "console.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def assert_edge_headers(headers: aiohttp.typedefs.LooseHeaders, where: str) -> None:
    h = dict(headers)  # type: ignore[arg-type]
    assert h.get("X-Content-Type-Options") == "nosniff", where
    policy = h.get("Content-Security-Policy", "")
    for directive in ("frame-ancestors 'none'", "base-uri", "form-action 'self'"):
        assert directive in policy, f"{where}: {policy!r}"


async def test_on_tls_the_cookies_are_secure_and_every_response_has_the_headers(
        sqlite: Database, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings(tls_cert=str(cert), tls_key=str(key))
    server_ctx = tls_context(settings)
    assert server_ctx is not None
    trust = ssl.create_default_context(cafile=str(cert))
    services = console_services(sqlite, ConsoleSecurity(tls=True))
    async with console(services, VirtualClock(), ssl_context=server_ctx) as (base, _), \
            client(trust) as http:
        assert base.startswith("https://")
        async with http.get(f"{base}/login") as r:
            assert r.status == 200
            assert "Secure" in r.headers["Set-Cookie"]  # the login CSRF cookie too
            assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        async with http.get(f"{base}/login") as r:
            token = (await r.text()).split('name="csrf" value="')[1].split('"')[0]
        async with http.post(f"{base}/login", allow_redirects=False, data={
                "operator_id": "8001", "password": "supervisor-pass-1", "csrf": token}) as r:
            assert r.status == 302
            cookie = next(c for c in r.headers.getall("Set-Cookie")
                          if c.startswith("hotline_session="))
        flags = [f.strip().lower() for f in cookie.split(";")]
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= set(flags), cookie
        assert "max-age=28800" in flags
        for path, status in (("/tickets", 200), ("/nowhere", 404), ("/static/desk.js", 200),
                             ("/", 302), ("/healthz-not", 404)):
            async with http.get(f"{base}{path}", allow_redirects=False) as r:
                assert r.status == status, path
                assert_edge_headers(r.headers, path)
                assert "Strict-Transport-Security" in r.headers, path
        async with http.post(f"{base}/logout", allow_redirects=False) as r:
            assert r.status == 403  # an error response has them too
            assert_edge_headers(r.headers, "403")
        ws = await http.ws_connect(f"{base.replace('https', 'wss')}/desk/live")
        await ws.close()  # the desk's feed over wss
        async with client() as untrusting:  # a client that checks the certificate
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await untrusting.get(f"{base}/login")


async def test_on_plain_http_no_secure_flag_no_hsts_but_the_headers(sqlite: Database) -> None:
    async with console(console_services(sqlite), VirtualClock()) as (base, _), \
            client() as http:
        assert await login(http, base, "1001") == 302
        for path in ("/login", "/tickets", "/static/desk.js", "/nowhere"):
            async with http.get(f"{base}{path}", allow_redirects=False) as r:
                assert_edge_headers(r.headers, path)
                assert "Strict-Transport-Security" not in r.headers
                assert "Secure" not in r.headers.get("Set-Cookie", "")
        async with http.get(f"{base}/tickets") as r:  # a page keeps its full policy
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]


def test_tls_settings_are_both_or_neither_and_bad_files_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_TLS_KEY"):
        load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_TLS_CERT": "/x.crt"})
    with pytest.raises(ConfigError, match="HOTLINE_TLS_CERT"):
        tls_context(Settings(tls_cert=str(tmp_path / "none.crt"), tls_key="/k"))
    (tmp_path / "bad.crt").write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"HOTLINE_TLS_CERT.*PEM"):
        tls_context(Settings(tls_cert=str(tmp_path / "bad.crt"),
                             tls_key=str(tmp_path / "bad.crt")))
    assert tls_context(Settings()) is None
    for bad in ({"HOTLINE_SESSION_IDLE_S": "10"}, {"HOTLINE_SESSION_ABSOLUTE_S": "100"},
                {"HOTLINE_SESSION_IDLE_S": "7200", "HOTLINE_SESSION_ABSOLUTE_S": "3600"},
                {"HOTLINE_TRUSTED_PROXIES": "10.0.0.1, proxy.example"}):
        with pytest.raises(ConfigError) as err:
            load_settings({"HOTLINE_HOME": str(tmp_path), **bad})
        assert next(iter(bad)) in str(err.value)  # the field at fault


# -- the rate limiter -----------------------------------------------------------------------------
def test_the_rate_limiter_is_bounded_evicts_the_oldest_and_keeps_only_hashes() -> None:
    clock = VirtualClock()
    limit = RateLimit(clock, attempts=3, window_s=60, max_keys=100)
    for n in range(5000):
        limit.failed(f"ip:10.0.{n // 256}.{n % 256}", "user:" + "x" * 1000 + str(n))
    assert len(limit) == 100
    assert all(isinstance(k, bytes) and len(k) == 16 for k in limit._failures)
    assert not limit.blocked("ip:10.0.0.0")  # evicted long ago
    for _ in range(3):
        limit.failed("user:8001")
    assert limit.blocked("user:8001")
    clock.advance(61)
    assert not limit.blocked("user:8001")  # the window passed
    assert "user:8001" not in repr(limit._failures)


def test_the_client_address_believes_x_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = parse_networks("10.0.0.0/24, ::1")

    def req(peer: str, xff: str | None) -> web.Request:
        headers = {"X-Forwarded-For": xff} if xff is not None else {}
        return make_mocked_request("GET", "/", headers=headers,
                                   transport=SimpleNamespace(get_extra_info=lambda name, d=None:
                                                             (peer, 1234) if name == "peername"
                                                             else d))
    assert client_address(req("203.0.113.9", "1.2.3.4"), trusted) == "203.0.113.9"
    assert client_address(req("10.0.0.5", "1.2.3.4"), trusted) == "1.2.3.4"
    # the client writes the left end: the nearest untrusted hop counts
    assert client_address(req("10.0.0.5", "6.6.6.6, 1.2.3.4, 10.0.0.7"), trusted) == "1.2.3.4"
    assert client_address(req("10.0.0.5", "garbage, 10.0.0.7"), trusted) == "10.0.0.5"
    assert client_address(req("10.0.0.5", None), trusted) == "10.0.0.5"
    assert client_address(req("10.0.0.5", "1.2.3.4"), ()) == "10.0.0.5"


async def test_login_limits_count_the_client_behind_a_trusted_proxy(sqlite: Database) -> None:
    async def failures(security: ConsoleSecurity) -> list[int]:
        async with console(console_services(sqlite, security), VirtualClock()) as (base, _), \
                client() as http:
            statuses = [await login(http, base, f"u{n}", "wrong", headers={
                "X-Forwarded-For": "198.51.100.7"}) for n in range(5)]
            statuses.append(await login(http, base, "u9", "wrong", headers={
                "X-Forwarded-For": "198.51.100.7"}))  # the same client: blocked
            statuses.append(await login(http, base, "u9", "wrong", headers={
                "X-Forwarded-For": "198.51.100.8"}))  # another client through the proxy
            return statuses

    behind = await failures(ConsoleSecurity(trusted_proxies=parse_networks("127.0.0.1")))
    assert behind == [401] * 5 + [429, 401]
    direct = await failures(ConsoleSecurity())  # the header is anyone's to write: ignored
    assert direct == [401] * 5 + [429, 429]


# -- the low items --------------------------------------------------------------------------------
async def test_only_the_open_routes_themselves_are_open(sqlite: Database) -> None:
    async def secret(request: web.Request) -> web.Response:
        return web.Response(text="staff only")

    extra = {p: secret for p in ("/login-admin", "/healthz/detail", "/tryout", "/metrics2",
                                 "/favicon.ico.bak", "/staticfiles")}
    async with console(console_services(sqlite), VirtualClock(), routes=extra) as (base, _), \
            client() as http:
        for path in extra:
            async with http.get(f"{base}{path}", allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"].startswith("/login"), path
        assert await status_of(http, f"{base}/static/desk.js") == 200
        assert await status_of(http, f"{base}/login") == 200


async def test_secrets_that_are_not_ascii_are_refused_not_a_server_error(
        sqlite: Database) -> None:
    assert not same_secret("令牌", "abc") and same_secret("令牌", "令牌")
    async with console(console_services(sqlite), VirtualClock()) as (base, _), \
            client() as http:
        await http.get(f"{base}/login")  # the login CSRF cookie
        async with http.post(f"{base}/login", data={"operator_id": "1001",
                                                    "password": "x", "csrf": "令牌"}) as r:
            assert r.status == 403
        assert await login(http, base, "1001") == 302
        async with http.post(f"{base}/logout", data={"csrf": "令牌"}) as r:
            assert r.status == 403
        async with http.post(f"{base}/logout", headers={"X-CSRF-Token": "é".encode().decode(
                "latin-1")}, allow_redirects=False) as r:
            assert r.status == 403
    token_req = make_mocked_request("GET", "/metrics", headers={
        "Authorization": "Bearer \u00e9t\u00e9"}, transport=SimpleNamespace(
            get_extra_info=lambda name, d=None: ("203.0.113.1", 1) if name == "peername" else d))
    assert not local_or_token(token_req, "the-token", ())


async def test_healthz_detail_only_from_loopback_or_with_the_metrics_token(
        sqlite: Database, tmp_path: Path) -> None:
    from hotline.server.supervisor import Supervisor
    from hotline.store.calls_repo import CallRepository
    from hotline.store.journal import JournalingCallStore

    connected = asyncio.Event()
    connected.set()
    services = console_services(
        sqlite, ConsoleSecurity(trusted_proxies=parse_networks("127.0.0.1")),
        stream=SimpleNamespace(connected=connected, last_error=""),
        controller=SimpleNamespace(active_calls=0),
        journal=JournalingCallStore(CallRepository(sqlite), tmp_path / "calls.jsonl"),
        supervisor=Supervisor(VirtualClock()),
        ari_url="http://127.0.0.1:8088/ari", speech_model="", metrics_token="scrape-token")
    async with console(services, VirtualClock()) as (base, _), client() as http:
        async with http.get(f"{base}/healthz") as r:  # this machine
            body = await r.json()
            assert r.status == 200 and body["ari"]["url"] and "database" in body
        far = {"X-Forwarded-For": "203.0.113.50"}  # through the proxy, from elsewhere
        async with http.get(f"{base}/healthz", headers=far) as r:
            assert r.status == 200 and await r.json() == {"status": "ok"}
        async with http.get(f"{base}/healthz", headers={
                **far, "Authorization": "Bearer scrape-token"}) as r:
            assert "ari" in await r.json()
        async with http.get(f"{base}/healthz", headers={
                **far, "Authorization": "Bearer wrong"}) as r:
            assert await r.json() == {"status": "ok"}
        connected.clear()
        async with http.get(f"{base}/healthz", headers=far) as r:
            assert r.status == 503 and await r.json() == {"status": "unavailable"}


@pytest.mark.parametrize(("given", "kept"), [
    ("/calls/3", "/calls/3"), ("/calls?from=2026-11-01", "/calls?from=2026-11-01"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("/\\/evil.example", "/"),
    ("/\t/evil.example", "/"), ("/\n/evil.example", "/"), ("https://evil.example", "/"),
    ("javascript:alert(1)", "/"), ("", "/"), ("/ok\\..", "/"), (" /calls", "/")])
def test_next_is_a_local_path_or_the_home_page(given: str, kept: str) -> None:
    assert local_path(given) == kept


async def test_next_on_the_login_form_and_after_login(sqlite: Database) -> None:
    async with console(console_services(sqlite), VirtualClock()) as (base, _), \
            client() as http:
        async with http.get(f"{base}/login", params={"next": "/\\evil.example"}) as r:
            assert 'name="next" value="/"' in await r.text()
        async with http.get(f"{base}/login", params={"next": "/tickets"}) as r:
            html = await r.text()
        assert 'name="next" value="/tickets"' in html
        token = html.split('name="csrf" value="')[1].split('"')[0]
        async with http.post(f"{base}/login", allow_redirects=False, data={
                "operator_id": "1001", "password": "operator-pass-1", "csrf": token,
                "next": "/\\evil.example"}) as r:
            assert r.status == 302 and r.headers["Location"] == "/"


async def test_argon2_runs_off_the_event_loop(sqlite: Database) -> None:
    threads: list[threading.Thread] = []

    class Spy(PasswordHasher):
        def hash(self, *args: Any, **kw: Any) -> str:
            threads.append(threading.current_thread())
            return super().hash(*args, **kw)

        def verify(self, *args: Any, **kw: Any) -> Literal[True]:
            threads.append(threading.current_thread())
            return super().verify(*args, **kw)

    users = UserRepository(sqlite)
    users.hasher = Spy()
    await users.add("7001", Role.OPERATOR, "a-long-password")
    assert await users.verify("7001", "a-long-password") is not None
    assert await users.verify("nobody", "a-long-password") is None
    await users.set_password("7001", "another-password", by="test")
    assert len(threads) == 5  # add, the dummy hash, 2 verifies, set_password
    assert threading.main_thread() not in threads
