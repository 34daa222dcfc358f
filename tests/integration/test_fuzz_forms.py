"""Every form and API of the console under hypothesis against the real server: unknown
fields, wrong types, huge and empty values, invalid UTF-8. Never a 5xx; a refused form
changes nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import aiohttp
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.server.services import Services
from hotline.store.users_repo import Role
from tests.integration.conftest import serving

FIELDS = ["caller_name", "caller_title", "callback_number", "category", "summary", "kind",
          "department", "text", "seat", "entry", "duty", "phone", "complainant_name",
          "request", "csrf", "unknown", "operator_id", "password", "next",
          "r_attitude", "n_attitude", "remarks", "rectification", "follow_up", "job", "confirm",
          "note", "to", "reply", "back"]
values = st.one_of(st.text(max_size=50), st.text(min_size=3000, max_size=6000),
                   st.just(""), st.integers().map(str),
                   st.sampled_from(["投诉", "complaint", "callback", "on_duty", "browser",
                                    "1002", "咨询", "message", "referral"]))
raw_bytes = st.binary(max_size=300)
FORMS = ["/calls/{id}/record", "/calls/{id}/tickets", "/calls/{id}/transfer", "/desk/duty",
         "/desk/phone", "/inspection/calls/{id}", "/inspection/records/{id}/rectified",
         "/duty/state", "/duty/handover", "/duty/handover/{id}/ack", "/duty/stand-in/{id}"]
QUERIES = ["/api/directory", "/calls", "/api/calls", "/api/stats", "/ledger", "/stats",
           "/tickets", "/desk", "/directory/unmatched", "/inspection/sample",
           "/inspection/records", "/duty", "/duty/handover", "/appraisal", "/appraisal/me"]
PARAMS = ["q", "from", "to", "operator", "disposition", "category", "caller", "days",
          "month", "limit", "since", "seed", "job"]


async def test_forms_and_apis_never_fail_and_refusals_change_nothing(
        settings: Settings) -> None:
    async with serving(settings) as (services, server):
        base = str(server.make_url("")).rstrip("/")
        await services.users.add("8001", Role.SUPERVISOR, "supervisor-pass-1")
        now = datetime.now(UTC)
        record = await services.calls.open_call(NewCall("f-1", "13900000001", "12345", now))
        await services.calls.update_call(record, answered_by="8001", owner="8001",
                                         answered_at=now)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await fuzz(services, base, http, record)


async def fuzz(services: Services, base: str, http: aiohttp.ClientSession,
               record: int) -> None:
    async with http.get(f"{base}/login") as r:
        token = re.search(r'name="csrf" value="([^"]+)"', await r.text())
    assert token is not None
    async with http.post(f"{base}/login", data={"operator_id": "8001", "password":
                                                "supervisor-pass-1",
                                                "csrf": token.group(1)}) as r:
        page = await r.text()
    async with http.get(f"{base}/desk") as r:
        csrf = re.search(r'data-csrf="([^"]+)"', await r.text())
    assert csrf is not None and page
    loop = asyncio.get_running_loop()
    seen: list[int] = []

    async def post(path: str, body: dict[str, str] | bytes, ctype: str) -> None:
        before = await services.calls.get(record)
        async with http.post(base + path.replace("{id}", str(record)), data=body,
                             allow_redirects=False,
                             headers={"X-CSRF-Token": csrf.group(1),
                                      "Content-Type": ctype}) as r:
            seen.append(r.status)
            assert r.status < 500, (path, r.status, await r.text())
            if r.status == 400 and path.endswith("/record"):
                after = await services.calls.get(record)
                assert (after.summary, after.category, after.caller_name) == (
                    before.summary, before.category, before.caller_name)

    async def get(path: str, params: dict[str, str]) -> None:
        async with http.get(base + path, params=params, allow_redirects=False) as r:
            seen.append(r.status)
            assert r.status < 500, (path, params, r.status, await r.text())

    @hypothesis_settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(FORMS), st.dictionaries(st.sampled_from(FIELDS), values,
                                                   max_size=6), raw_bytes, st.booleans())
    def forms(path: str, fields: dict[str, str], junk: bytes, as_bytes: bool) -> None:
        body: dict[str, str] | bytes = (junk if as_bytes else fields)
        ctype = "application/x-www-form-urlencoded"
        asyncio.run_coroutine_threadsafe(post(path, body, ctype), loop).result(30)

    @hypothesis_settings(max_examples=150, deadline=None)
    @given(st.sampled_from(QUERIES), st.dictionaries(st.sampled_from(PARAMS), values,
                                                     max_size=4))
    def queries(path: str, params: dict[str, str]) -> None:
        asyncio.run_coroutine_threadsafe(get(path, params), loop).result(30)

    await asyncio.to_thread(forms)
    await asyncio.to_thread(queries)
    assert 400 in seen and any(s < 400 for s in seen)  # both refusals and successes
