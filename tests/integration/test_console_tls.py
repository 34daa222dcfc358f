"""The console over HTTPS with the sandbox's self-signed certificate: in Chromium (the cookie's
flags as the browser keeps them, the softphone still registering over the sandbox's loopback
ws://, the desk's feed over wss://, and closed when an admin disables the operator), and as
`hotline serve` itself (HOTLINE_TLS_CERT/_KEY), where a session survives a SIGKILL restart."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import aiohttp
from playwright.async_api import Browser
from playwright.async_api import TimeoutError as PlaywrightTimeout

from hotline.config import Settings, replace
from hotline.sandbox.instance import Sandbox
from hotline.store.database import Database
from hotline.store.users_repo import Role, UserRepository
from tests.integration.conftest import serving
from tests.integration.test_console_browser import add_browser_seat, browser  # noqa: F401
from tests.serve_process import hotline_serve, serve_env
from tests.sipp import free_udp_port

PASSWORDS = {"1001": "operator-pass-1", "9001": "admin-pass-1"}


def tls_settings(settings: Settings) -> tuple[Settings, Path]:
    cert, key = Sandbox(settings).console_cert()  # what `make demo` serves with
    return replace(settings, tls_cert=str(cert), tls_key=str(key)), cert


async def login(http: aiohttp.ClientSession, base: str, user: str) -> str:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", allow_redirects=False, data={
            "operator_id": user, "password": PASSWORDS[user], "csrf": token.group(1)}) as r:
        assert r.status == 302
        assert "Strict-Transport-Security" in r.headers
        cookie = next(c for c in r.headers.getall("Set-Cookie")
                      if c.startswith("hotline_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    return cookie.split(";")[0].split("=", 1)[1]


async def test_the_console_on_https_in_chromium(settings: Settings,
                                                browser: Browser) -> None:  # noqa: F811
    tls, cert = tls_settings(settings)
    async with serving(tls) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        assert base.startswith("https://127.0.0.1:")
        await services.users.add("1001", Role.OPERATOR, PASSWORDS["1001"])
        await services.users.add("9001", Role.ADMIN, PASSWORDS["9001"])
        await add_browser_seat(services, "1001", "sip-secret-1001")
        context = await browser.new_context(locale="zh-CN", ignore_https_errors=True)
        op = await context.new_page()
        said: list[str] = []  # the browser's console, for a failure's message
        op.on("console", lambda m: said.append(m.text))
        await op.goto(f"{base}/login")
        await op.fill("input[name=operator_id]", "1001")
        await op.fill("input[name=password]", PASSWORDS["1001"])
        await op.click("button[type=submit]")
        await op.wait_for_url(f"{base}/desk")
        # the sandbox's ws://127.0.0.1 softphone from an https page (loopback: not mixed)
        try:
            await op.wait_for_selector("#softphone[data-state=registered]", timeout=15000)
        except PlaywrightTimeout:
            raise AssertionError(f"softphone not registered: {said}") from None
        await op.wait_for_selector("#desk[data-live=open]", timeout=5000)  # wss://
        kept = {c["name"]: c for c in await context.cookies()}["hotline_session"]
        assert (kept["secure"], kept["httpOnly"], kept["sameSite"]) == (True, True, "Strict")
        assert "hotline_session" not in await op.evaluate("document.cookie")

        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust),
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as admin:
            await login(admin, base, "9001")
            async with admin.get(f"{base}/users") as r:
                token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
            assert token is not None
            async with admin.post(f"{base}/users/1001/disabled", data={
                    "csrf": token.group(1), "disabled": "yes"}) as r:
                assert r.status == 200
        await op.wait_for_selector("#desk[data-live=closed]", timeout=5000)
        await op.goto(f"{base}/desk")
        assert "/login" in op.url
        await context.close()


async def test_hotline_serve_on_tls_keeps_sessions_across_a_sigkill(
        settings: Settings, tmp_path: Path) -> None:
    tls, cert = tls_settings(settings)
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}"
    db = Database(db_url)
    await db.upgrade()
    await UserRepository(db).add("1001", Role.OPERATOR, PASSWORDS["1001"])
    await db.close()
    port = free_udp_port()
    env = serve_env(db_url, port) | {"HOTLINE_TLS_CERT": tls.tls_cert,
                                     "HOTLINE_TLS_KEY": tls.tls_key}
    base = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(cert))
    log = tmp_path / "serve.log"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with hotline_serve(env, log) as first:
            await login(http, base, "1001")
            async with http.get(f"{base}/tickets") as r:
                assert r.status == 200
            first.kill()
            await first.wait()
        async with hotline_serve(env, log):
            async with http.get(f"{base}/tickets", allow_redirects=False) as r:
                assert r.status == 200, "the session did not survive the restart"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
            async with aiohttp.ClientSession() as plain:  # not on plain HTTP as well
                try:
                    async with plain.get(f"http://127.0.0.1:{port}/login") as r:
                        raise AssertionError(f"plain HTTP answered {r.status}")
                except aiohttp.ClientError:
                    pass
