"""The cluster (`hotline sandbox cluster`, two nodes): Kamailio in front of two sandbox
Asterisks, each with its `hotline serve`, on one PostgreSQL.

- 40 callers through the proxy: all answered within three rings, spread over both nodes,
  every record in the one database;
- a node's Asterisk killed (SIGKILL) mid-run: every new call is answered by the other;
- an operator whose phone registered through the proxy is rung by either node, and the
  node's ACK and BYE reach the phone by the proxy (the dialog is record-routed there);
- two calls arriving together at both nodes for one free seat, whose phone registered
  through the proxy: only one node rings it, and that node's caller talks to the seat;
- an operator added on node-1 while the cluster runs reaches node-2's Asterisk by node-2's
  own seat-sync task (no reconnect): the phone registers through the proxy and node-2 rings
  it; a new password and the seat's removal reach node-2 the same way;
- an operator whose console is open on node-2 gets the pop-up of a call node-1 offers them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.ari.rest import AriRest
from hotline.cluster.cluster import Cluster
from hotline.cluster.topology import BIND, PROXY_PORT, NodePlan, plan
from hotline.errors import AriNotFound
from hotline.sandbox.instance import Sandbox
from hotline.seats.sync import SEAT_SYNC_S
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository
from tests.cluster_run import callers, make_cluster, records, reset_schema
from tests.console import client, login
from tests.sipp import SCENARIOS, free_udp_port, sipp, sipp_seat

THREE_RINGS_MS = 11_000
NODE_1, NODE_2 = plan(2)


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Cluster, str]]:
    url = os.environ.get("HOTLINE_TEST_PG_URL", "")
    assert url, "HOTLINE_TEST_PG_URL is not set: run the suite with scripts/test.sh"
    asyncio.run(reset_schema(url))
    c = make_cluster(url)
    asyncio.run(c.up(2))
    try:
        yield c, url
    finally:
        c.down()


def since_now() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


async def test_forty_callers_spread_over_both_nodes_and_a_node_killed_mid_run(
        cluster: tuple[Cluster, str], tmp_path: Path) -> None:
    c, url = cluster
    status = await c.status()
    assert [n["running"] for n in status["nodes"]] == [True, True], status
    since = since_now()
    forty = await callers(tmp_path / "forty", calls=40, rate=10, hold_ms=2500,
                          caller="13900000040")
    assert (forty.successful, forty.failed) == (40, 0), forty.output[-2000:]
    assert len(forty.answer_ms) == 40 and max(forty.answer_ms) < THREE_RINGS_MS
    rows = await records(url, "13900000040", 40, since)
    assert len(rows) == 40  # every node's records in one place
    by_node = Counter(r.node for r in rows)
    assert set(by_node) == {NODE_1.name, NODE_2.name} and min(by_node.values()) >= 10, by_node
    assert all(r.answered_at is not None and r.rings <= 3 for r in rows)

    # node-1's Asterisk dies while calls are up on both nodes; every call placed after it
    # is answered, by node-2, within three rings (the first ones fail over on fr_timer
    # until the probes take node-1 out)
    since = since_now()
    during = asyncio.create_task(callers(tmp_path / "during", calls=8, rate=8,
                                         hold_ms=6000, caller="13900000041"))
    await asyncio.sleep(2.0)
    await asyncio.to_thread(c.kill, NODE_1.name)
    after = await callers(tmp_path / "after", calls=20, rate=10, hold_ms=1500,
                          caller="13900000042")
    await during
    assert (after.successful, after.failed) == (20, 0), after.output[-2000:]
    assert max(after.answer_ms) < THREE_RINGS_MS, after.answer_ms
    later = await records(url, "13900000042", 20, since)
    assert len(later) == 20 and {r.node for r in later} == {NODE_2.name}
    assert all(r.answered_at is not None and r.rings <= 3 for r in later)
    status = await c.status()
    assert [n["asterisk"] for n in status["nodes"]] == [False, True], status
    await c.up(2)  # node-1's Asterisk back; its controller reconnects on its own
    await wait_connected(NODE_1.console_url)


async def wait_connected(console_url: str, timeout_s: float = 30) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    async with aiohttp.ClientSession() as http:
        while loop.time() < deadline:
            try:
                async with http.get(f"{console_url}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError(f"{console_url} did not reconnect to its Asterisk")


def hotline_cli(c: Cluster, url: str, node_index: int, *args: str, stdin: str = "") -> str:
    node = plan(2)[node_index]
    env = c._controller_env(node, url)
    done = subprocess.run([sys.executable, "-m", "hotline", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def add_operator(c: Cluster, url: str, job: str) -> str:
    """A seat on duty, added on node-1 and known to both nodes' Asterisks; its SIP password.
    `operators add` pushes it into node-1's Asterisk; each controller's seat-sync task
    pushes it into its own (node-2's is the only way it gets there)."""
    out = hotline_cli(c, url, 0, "operators", "add", job, "--name", f"话务员{job}")
    password = out.split("password ", 1)[1].split()[0]
    hotline_cli(c, url, 0, "operators", "duty", job, "on")
    digest = await digest_of(url, job)
    for node in (NODE_1, NODE_2):
        await until_held(c, url, node, job, digest)
    # node-1's task pushes the seat once more at its next look (the command's push was not
    # its own): let that pass before a REGISTER may be relayed to node-1
    await asyncio.sleep(SEAT_SYNC_S + 1)
    return password


async def digest_of(url: str, job: str) -> str:
    db = Database(url)
    try:
        return (await OperatorRepository(db).get(job)).sip_digest
    finally:
        await db.close()


async def held_digest(c: Cluster, url: str, node: NodePlan, job: str) -> str | None:
    """The seat's digest in ``node``'s Asterisk (ARI's dynamic configuration); None: no
    such seat there."""
    box = Sandbox(c.node_settings(node, url)).load_state()
    assert box is not None
    async with AriRest(box.ari_url, box.ari_user, box.ari_password) as rest:
        try:
            auth = await rest.request("GET", f"/asterisk/config/dynamic/res_pjsip/auth/{job}")
        except AriNotFound:
            return None
    return {f["attribute"]: f["value"] for f in auth}.get("md5_cred")


async def until_held(c: Cluster, url: str, node: NodePlan, job: str, digest: str | None,
                     timeout_s: float = SEAT_SYNC_S * 5) -> None:
    """Until ``node``'s Asterisk holds the seat with ``digest`` (None: holds no such seat)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while (held := await held_digest(c, url, node, job)) != digest:
        assert loop.time() < deadline, (
            f"{node.name}'s Asterisk holds seat {job} with {held!r}, not {digest!r}:\n"
            + "\n".join(serve_log(c, node).splitlines()[-20:]))
        await asyncio.sleep(0.2)


def serve_log(c: Cluster, node: NodePlan) -> str:
    log = c.node_home(node) / "serve.log"
    return log.read_text(errors="replace") if log.exists() else "(no serve log)"


async def ari_reconnects(node: NodePlan) -> float:
    """How often ``node``'s controller reconnected to its Asterisk (its /metrics)."""
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{node.console_url}/metrics") as r:
        assert r.status == 200  # loopback: no token needed
        families = {m.name: m for m in text_string_to_metric_families(await r.text())}
    [sample] = families["hotline_ari_reconnects"].samples
    return sample.value


async def register(job: str, password: str, port: int) -> None:
    """The operator's phone registers through the proxy (the nodes check the digest)."""
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{PROXY_PORT}", "-sf", str(SCENARIOS / "register.xml"),
        "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-au", job, "-ap", password,
        "-key", "job", job, "-timeout", "15s", "-timeout_error", "-nostdin",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]


async def events(url: str, record_id: int) -> list[tuple[str, dict]]:
    db = Database(url)
    try:
        full = await CallRepository(db).get(record_id)
        return [(e.kind, e.data) for e in full.events]
    finally:
        await db.close()


def received(trace: Path, method: str) -> list[str]:
    """The requests of ``method`` a sipp received, as its -trace_msg file logged them (each
    message after a line of dashes and a "UDP message received [N] bytes :" line)."""
    if not trace.exists():
        return []
    found = []
    for block in re.split(r"^-{10,}.*$", trace.read_text(errors="replace"), flags=re.M):
        head, _, message = block.strip().partition("\n")
        if "message received" in head and message.lstrip().startswith(method + " "):
            found.append(message)
    return found


def proxy_log(c: Cluster, lines: int = 40) -> str:
    log = c.proxy_dir / "kamailio.log"
    text = log.read_text(errors="replace") if log.exists() else "(no proxy log)"
    return "\n".join(text.splitlines()[-lines:])


async def test_an_operator_registered_through_the_proxy_is_rung_by_either_node(
        cluster: tuple[Cluster, str], tmp_path: Path) -> None:
    c, url = cluster
    password = await add_operator(c, url, "1101")
    port = free_udp_port()
    await register("1101", password, port)
    proxy_via = f"Via: SIP/2.0/UDP {BIND}:{PROXY_PORT}"
    try:
        for node in (NODE_1, NODE_2):  # a caller on each node in turn, straight to the node
            since = since_now()
            errors, trace = tmp_path / f"seat-{node.name}.err", tmp_path / f"seat-{node.name}.msg"
            async with sipp_seat("seat_answer", port=port, timeout_s=40,
                                 extra=["-trace_err", "-error_file", str(errors),
                                        "-trace_msg", "-message_file", str(trace)]) as (
                    _, seat_done):
                caller = await sipp(node.sip_port, hold_ms=9000, timeout_s=40,
                                    caller="13900000051")
                assert caller.successful == 1, caller.output[-2000:]
                seat = await asyncio.wait_for(seat_done, 20)
            why = (errors.read_text()[-2000:] if errors.exists() else seat.output[-1500:])
            assert seat.successful == 1, f"{why}\n--- proxy:\n{proxy_log(c)}"
            [row] = await records(url, "13900000051", 1, since)
            assert (row.node, row.answered_by) == (node.name, "1101")
            # the phone echoed the proxy's Record-Route: the node's ACK and BYE came by it
            for method in ("ACK", "BYE"):  # (repeated if a 200 OK was retransmitted)
                messages = received(trace, method)
                assert messages and all(proxy_via in m for m in messages), (method, messages)
    finally:
        hotline_cli(c, url, 0, "operators", "duty", "1101", "off", "--confirm")


async def test_one_free_seat_two_calls_at_both_nodes_at_once_only_one_rings_it(
        cluster: tuple[Cluster, str], tmp_path: Path) -> None:
    c, url = cluster
    password = await add_operator(c, url, "1102")
    port = free_udp_port()
    await register("1102", password, port)
    try:
        since = since_now()
        async with sipp_seat("seat_answer", port=port, calls=1, timeout_s=40) as (_, seat_done):
            both = await asyncio.gather(
                sipp(NODE_1.sip_port, hold_ms=8000, timeout_s=40, caller="13900000061"),
                sipp(NODE_2.sip_port, hold_ms=8000, timeout_s=40, caller="13900000062"))
            assert [r.successful for r in both] == [1, 1], [r.output[-1500:] for r in both]
            seat = await asyncio.wait_for(seat_done, 20)
        assert seat.successful == 1, seat.output[-2000:]  # rung once, answered once
        rows = (await records(url, "13900000061", 1, since)
                + await records(url, "13900000062", 1, since))
        assert sorted(r.node for r in rows) == [NODE_1.name, NODE_2.name]
        offered = [(r.node, d["job_number"]) for r in rows
                   for kind, d in await events(url, r.id) if kind == "seat_offered"
                   and d["job_number"] == "1102"]
        assert len(offered) == 1, offered  # one node rang the seat; the other never did
        [answered] = [r for r in rows if r.answered_by == "1102"]
        assert answered.node == offered[0][0]
    finally:
        hotline_cli(c, url, 0, "operators", "duty", "1102", "off", "--confirm")


async def test_an_operator_added_while_the_cluster_runs_is_rung_by_node_2_without_a_reconnect(
        cluster: tuple[Cluster, str], tmp_path: Path) -> None:
    c, url = cluster
    reconnects = [await ari_reconnects(node) for node in (NODE_1, NODE_2)]
    password = await add_operator(c, url, "1103")  # on node-1; node-2 learns it by itself
    port = free_udp_port()
    await register("1103", password, port)
    removed = False
    try:
        since = since_now()
        async with sipp_seat("seat_answer", port=port, timeout_s=40) as (_, seat_done):
            caller = await sipp(NODE_2.sip_port, hold_ms=9000, timeout_s=40,
                                caller="13900000071")
            assert caller.successful == 1, caller.output[-2000:]
            seat = await asyncio.wait_for(seat_done, 20)
        assert seat.successful == 1, f"{seat.output[-1500:]}\n--- proxy:\n{proxy_log(c)}"
        [row] = await records(url, "13900000071", 1, since)
        assert (row.node, row.answered_by) == (NODE_2.name, "1103")
        # a new password, then the seat's removal, on node-1: node-2 follows by itself
        hotline_cli(c, url, 0, "operators", "passwd", "1103")
        await until_held(c, url, NODE_2, "1103", await digest_of(url, "1103"))
        hotline_cli(c, url, 0, "operators", "duty", "1103", "off", "--confirm")
        hotline_cli(c, url, 0, "operators", "remove", "1103")
        removed = True
        await until_held(c, url, NODE_2, "1103", None)
        assert [await ari_reconnects(node) for node in (NODE_1, NODE_2)] == reconnects
    finally:
        if not removed:
            hotline_cli(c, url, 0, "operators", "duty", "1103", "off", "--confirm")


async def test_an_operator_on_node_2s_console_gets_the_pop_up_of_a_call_node_1_offers_them(
        cluster: tuple[Cluster, str], tmp_path: Path) -> None:
    """The desk pop-up crosses nodes: the call runs on node-1, which offers it to the seat;
    the operator's console is open on node-2 (the live hub over PostgreSQL NOTIFY)."""
    c, url = cluster
    password = await add_operator(c, url, "1104")
    console_password = "Desk-" + secrets.token_urlsafe(12)
    hotline_cli(c, url, 0, "users", "add", "1104", "--role", "operator", "--password-stdin",
                stdin=console_password + "\n")
    port = free_udp_port()
    await register("1104", password, port)
    try:
        async with client() as http:
            assert await login(http, NODE_2.console_url, "1104", console_password) in (302, 303)
            async with http.ws_connect(f"{NODE_2.console_url}/desk/live") as ws:

                async def pop_up() -> dict:
                    async for msg in ws:
                        m = json.loads(msg.data)
                        if m.get("type") == "offered":
                            return m
                    raise AssertionError("node-2's desk socket closed before any pop-up")

                popped = asyncio.create_task(asyncio.wait_for(pop_up(), 40))
                since = since_now()
                async with sipp_seat("seat_answer", port=port, timeout_s=40) as (_, seat_done):
                    caller = await sipp(NODE_1.sip_port, hold_ms=8000, timeout_s=40,
                                        caller="13900000071")
                    assert caller.successful == 1, caller.output[-2000:]
                    await asyncio.wait_for(seat_done, 20)
                offered = await popped
        [row] = await records(url, "13900000071", 1, since)
        assert (row.node, row.answered_by) == (NODE_1.name, "1104")
        assert offered["call"]["id"] == row.id  # node-1's call, on node-2's desk
    finally:
        hotline_cli(c, url, 0, "operators", "duty", "1104", "off", "--confirm")
