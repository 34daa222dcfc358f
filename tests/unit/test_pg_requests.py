"""Warm-transfer requests across nodes over the test PostgreSQL's LISTEN/NOTIFY: an operator
whose console is on node-b asks for the transfer of a call node-a holds; node-a's flow gets
the request and node-b's handler the answer. A call no node answers for times out with a
clear error; a call its node does not have in a conversation is refused; a malformed message
is logged (never its content) and ignored."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from hotline.calls.commands import Answer, CallRequests, TransferRequest
from hotline.config import Settings
from hotline.domain.calls import NewCall
from hotline.live.hub import LiveHub
from hotline.live.notify import NotifyBus, asyncpg_dsn
from hotline.live.pg_hub import PgLiveHub
from hotline.live.pg_requests import (
    CHANNEL,
    AskMessage,
    PgCallRequests,
    ReplyMessage,
    from_wire,
    to_wire,
)
from hotline.live.pg_revocations import PgRevocations
from hotline.server.root import build_services, console_app
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from hotline.web.auth import SESSIONS
from tests.console import add_users, client, console, console_services, csrf, login
from tests.nodes import pg_url, running

NO_PBX = {"ari_url": "http://127.0.0.1:9/ari", "ari_user": "u", "ari_password": "p"}  # unused
# to a colleague's seat: no endpoint, the node that rings it dials it (seat_dial)
BRIEF = TransferRequest("1001", "", "来电人问社保转移，已查到经办窗口", seat="1002")


def test_the_wire_form_round_trips_and_refuses_what_is_not_a_message() -> None:
    ask = AskMessage("c0ffee", "node-b", "node-a", 17, BRIEF)
    reply = ReplyMessage("c0ffee", "node-a", "node-b", Answer.REFUSED)
    assert from_wire(to_wire(ask)) == ask and from_wire(to_wire(reply)) == reply
    body = to_wire(ask)
    for bad, why in (("{broken", "not JSON"), ("[1]", "not an object"),
                     (body.replace('"v":1', '"v":2'), "unknown version"),
                     (body.replace('"kind":"ask"', '"kind":"grab"'), "unknown kind"),
                     (body.replace('"call":17', '"call":"17"'), "call is not a number"),
                     (body.replace('"call":17', '"call":true'), "call is not a number"),
                     (body.replace('"summary":', '"summary":1,"x":'), "summary is not"),
                     (to_wire(reply).replace("refused", "no_answer"), "unknown answer")):
        with pytest.raises(ValueError, match=why):
            from_wire(bad)


async def test_node_a_takes_up_node_bs_request_and_node_b_hears_it_was(pg: Database) -> None:
    bus_a, bus_b = NotifyBus(pg_url()), NotifyBus(pg_url())
    on_a, on_b = PgCallRequests(bus_a, "node-a"), PgCallRequests(bus_b, "node-b")
    on_a.open(17)  # node-a's call 17 is in a conversation
    async with running(bus_a, bus_b):
        assert await on_b.ask(17, "node-a", BRIEF) == Answer.ACCEPTED
        assert await asyncio.wait_for(on_a.next(17), 1) == BRIEF
        for _ in range(4):  # its inbox holds four; the fifth is refused, and said so
            assert await on_b.ask(17, "node-a", BRIEF) == Answer.ACCEPTED
        assert await on_b.ask(17, "node-a", BRIEF) == Answer.REFUSED
        assert await on_b.ask(18, "node-a", BRIEF) == Answer.REFUSED  # not live there
        on_b.open(19)  # node-b's own call: submitted here, nothing on the wire
        sent = bus_b.sent
        assert await on_b.ask(19, "node-b", BRIEF) == Answer.ACCEPTED
        assert bus_b.sent == sent and await on_b.next(19) == BRIEF


async def test_a_request_for_a_call_no_node_answers_for_times_out(pg: Database) -> None:
    bus_b = NotifyBus(pg_url())
    on_b = PgCallRequests(bus_b, "node-b", reply_timeout_s=0.5)
    async with running(bus_b):
        started = time.monotonic()
        assert await on_b.ask(17, "node-gone", BRIEF) == Answer.NO_ANSWER
        assert 0.5 <= time.monotonic() - started < 2
        assert not on_b._pending  # nothing left waiting for a late reply


async def test_a_malformed_message_is_logged_without_its_content_and_ignored(
        pg: Database, caplog: pytest.LogCaptureFixture) -> None:
    bus_a, bus_b = NotifyBus(pg_url()), NotifyBus(pg_url())
    on_a, on_b = PgCallRequests(bus_a, "node-a"), PgCallRequests(bus_b, "node-b")
    on_a.open(17)
    wrong = to_wire(AskMessage("1", "node-b", "node-a", 17, BRIEF)).replace(
        '"call":17', '"call":"身份证 110101199001011234"')
    async with running(bus_a, bus_b):
        conn = await asyncpg.connect(asyncpg_dsn(pg_url()))
        try:
            with caplog.at_level(logging.WARNING, "hotline.live.pg_requests"):
                for payload in ("{broken", '{"v": 1, "kind": "ask"}', wrong):
                    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                assert await on_b.ask(17, "node-a", BRIEF) == Answer.ACCEPTED
        finally:
            await conn.close()
    assert await asyncio.wait_for(on_a.next(17), 1) == BRIEF  # the malformed one took none
    assert on_a._waiting[17].empty()
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert len(ignored) >= 6  # three payloads, heard by both nodes
    assert not any("身份证" in m or "1101" in m for m in ignored)


async def test_the_console_on_node_b_transfers_node_as_call(pg: Database) -> None:
    """The production console (its handler, roles, CSRF and audit) on node-b; node-a holds
    the calls. Accepted: node-a's flow gets the request. Not held by any node: a clear 504
    within the reply timeout. Held but not in a conversation: 409."""
    await add_users(pg)
    await OperatorRepository(pg).add("1002", "李四", "digest")
    bus_a, bus_b = NotifyBus(pg_url()), NotifyBus(pg_url())
    on_a = PgCallRequests(bus_a, "node-a")
    services = console_services(pg, requests=PgCallRequests(bus_b, "node-b", 0.5))
    calls = {}
    for n, node in ((1, "node-a"), (2, "node-gone"), (3, "node-a")):
        calls[n] = await services.calls.open_call(NewCall(f"a-{n}", "13900000001", "12345",
                                                          datetime.now(UTC), node=node))
        await services.calls.update_call(calls[n], answered_by="1001")
    on_a.open(calls[1])
    async with running(bus_a, bus_b), console(services) as (base, _), client() as http:
        assert await login(http, base, "1001") == 302
        form = {"csrf": await csrf(http, base), "seat": "1002", "summary": BRIEF.summary}
        async with http.post(f"{base}/calls/{calls[1]}/transfer", data=form) as r:
            assert r.status == 200, await r.text()
            assert await r.json() == {"call": calls[1], "to": "1002", "state": "ringing"}
        assert await asyncio.wait_for(on_a.next(calls[1]), 1) == BRIEF
        started = time.monotonic()
        async with http.post(f"{base}/calls/{calls[2]}/transfer", data=form) as r:
            assert r.status == 504
            assert "node node-gone, which holds the call, did not answer" in await r.text()
        assert time.monotonic() - started < 2
        async with http.post(f"{base}/calls/{calls[3]}/transfer", data=form) as r:
            assert (r.status, await r.text()) == (409, "the call is not in a conversation")
    audited = [e for e in await services.users.audit_log() if e.action == "transfer"]
    assert [e.target for e in audited] == [str(calls[1])]  # only what was asked for


async def test_the_composition_root_carries_all_three_on_one_bus(pg: Database,
                                                                 tmp_path: Path) -> None:
    """PostgreSQL and HOTLINE_NODE: the hub, the requests and the revocations share the
    node's one NOTIFY connection, and the console's sessions announce on it; SQLite: none."""
    services, _ = build_services(Settings(home=tmp_path, db_url=pg_url(), node="node-a",
                                          record_calls="no", **NO_PBX))
    try:
        assert services.bus is not None
        assert isinstance(services.hub, PgLiveHub) and services.hub.bus is services.bus
        assert isinstance(services.requests, PgCallRequests)
        assert services.requests.bus is services.bus
        assert isinstance(services.revocations, PgRevocations)
        assert services.revocations.bus is services.bus
        assert console_app(services)[SESSIONS].revocations is services.revocations
    finally:
        await services.rest.close()
        await services.db.close()
    one, _ = build_services(Settings(home=tmp_path, node="node-a", record_calls="no",
                                     db_url=f"sqlite+aiosqlite:///{tmp_path / 'one.db'}",
                                     **NO_PBX))
    try:
        assert one.bus is None and one.revocations is None
        assert type(one.requests) is CallRequests and type(one.hub) is LiveHub
    finally:
        await one.rest.close()
        await one.db.close()
