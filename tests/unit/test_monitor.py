"""Monitoring sessions on the fake ARI, with the real controller and call flow: listen,
whisper and barge, the switches between them, and a hang-up by any party at every step of
the session, which always ends with nothing of the session's left behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from hotline.ari.rest import AriRest
from hotline.domain.monitoring import Mode, MonitorState
from hotline.domain.seats import DutyState, seat_dial
from hotline.monitor.service import MonitorRefused, Monitors
from hotline.monitor.session import MONITOR_PREFIX, MonitorSession
from tests.fake_ari import PASSWORD, USER, FakeAri, Req
from tests.harness import FAST, Harness, running

SEATS = [("1001", None, DutyState.ON_DUTY)]
# A real ring (1 s on, 4 s off): FAST's three rings end 0.55 s after arrival, and a seat is
# offered only with a fifth of its ring still to go, so a loaded machine's 0.35 s stall while
# the record was written left the caller to the attendant (CI failed on it twice; the
# requests it printed: the caller answered, no seat ever rung). These tests are about the
# supervisor, not the ring budget.
FLOW = replace(FAST, ring_on_s=1.0, ring_off_s=4.0)


@dataclass
class Audit:
    entries: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    async def audit(self, actor: str, action: str, target: str = "",
                    detail: dict[str, Any] | None = None) -> None:
        self.entries.append((actor, action, target, detail or {}))

    def actions(self) -> list[str]:
        return [a for _, a, _, _ in self.entries]


@dataclass
class World:
    fake: FakeAri
    h: Harness
    monitors: Monitors
    audit: Audit
    caller: str
    operator: str
    bridge: str
    call_id: int


async def until(cond: Callable[[], bool], timeout_s: float = 3.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not cond():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def talking(fake: FakeAri, tmp_path: Path, seat_proxy: str = "") -> AsyncIterator[World]:
    """A caller talking to operator 1001; a supervisor (8001) whose phone answers (rung
    through the SIP proxy at ``seat_proxy``, if any)."""
    fake.seats = {"PJSIP/1001": "answer", seat_dial("8001", seat_proxy): "answer"}
    async with running(fake, tmp_path, FLOW, seats=SEATS) as h:
        caller = await fake.incoming_call()
        try:
            await until(lambda: any(caller in m and len(m) == 2 for m in fake.bridges.values()),
                        timeout_s=10, what="the caller bridged with the seat")  # (a loaded CI)
        except AssertionError as exc:  # seen once in ~250 runs: what the controller asked
            asked = [f"{r.method} {r.path} {dict(r.params)}" for r in fake.requests]
            raise AssertionError(f"{exc}; the requests: {asked}; bridges {fake.bridges}; "
                                 f"channels {list(fake.channels)}") from None
        bridge, members = next((b, m) for b, m in fake.bridges.items() if caller in m)
        operator = next(c for c in members if c != caller)
        row = await h.record_for(caller, ended=False)
        audit = Audit()
        rest = AriRest(f"http://127.0.0.1:{fake.server.port}/ari", USER,  # type: ignore[union-attr]
                       PASSWORD)
        monitors = Monitors(rest, "hotline", audit, seat_proxy=seat_proxy, ring_s=1.0)
        h.controller.monitors = monitors
        try:
            yield World(fake, h, monitors, audit, caller, operator, bridge, row.id)
        finally:
            await monitors.close(2.0)
            await rest.close()


async def started(w: World, mode: Mode = Mode.LISTEN) -> MonitorSession:
    session = await w.monitors.start("8001", "8001", w.call_id, w.caller, mode)
    await until(lambda: session.machine.state in (MonitorState.ACTIVE, MonitorState.ENDED),
                what="the session active")
    return session


def snoops(fake: FakeAri) -> list[Req]:
    return [r for r in fake.requests if r.path.endswith("/snoop")]


def leftovers(fake: FakeAri) -> list[str]:
    """Channels and bridges of monitoring sessions still there."""
    chans = [c for c in fake.channels if c.startswith(MONITOR_PREFIX)]
    return chans + [b for b, m in fake.bridges.items() if any(
        c.startswith(MONITOR_PREFIX) for c in m if c in fake.channels)]


async def ended(w: World, session: MonitorSession) -> None:
    await until(lambda: session.machine.state is MonitorState.ENDED, what="the session ended")
    await until(lambda: not leftovers(w.fake), what="the session's channels released")
    await until(lambda: session.id not in w.monitors.sessions, what="the session forgotten")


async def test_listen_snoops_both_ways_on_the_operator_and_bridges_the_supervisor(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session = await started(w)
        [snoop] = snoops(fake_ari)
        assert snoop.path == f"/ari/channels/{w.operator}/snoop"
        assert (snoop.params["spy"], snoop.params["whisper"]) == ("both", "none")
        assert snoop.params["appArgs"] == "monitor"
        own = session.bridge
        assert own is not None and own != w.bridge
        assert sorted(fake_ari.bridges[own]) == sorted([session.leg, snoop.params["snoopId"]])
        assert fake_ari.bridges[w.bridge] == [w.caller, w.operator], "the call is untouched"
        [dial] = [r for r in fake_ari.requests if r.params.get("endpoint") == "PJSIP/8001"]
        assert dial.params["appArgs"] == "monitor"
        w.monitors.of(session.id, "8001").stop()
        await ended(w, session)
        assert w.caller in fake_ari.channels and w.operator in fake_ari.channels
    assert w.audit.actions() == ["monitor_start", "monitor_end"]
    start, end = w.audit.entries
    assert start[:3] == ("8001", "monitor_start", str(w.call_id))
    assert start[3]["mode"] == "listen"
    assert end[3]["ended_by"] == "stop" and end[3]["modes"] == ["listen"]


@pytest.mark.parametrize(("proxy", "phone"), [
    ("", "PJSIP/8001"),
    ("127.0.0.1:5190", "PJSIP/8001/sip:8001@127.0.0.1:5190")])
async def test_the_supervisors_phone_is_rung_through_the_seat_proxy_when_there_is_one(
        fake_ari: FakeAri, tmp_path: Path, proxy: str, phone: str) -> None:
    """In a cluster (HOTLINE_SEAT_PROXY) the supervisor's phone registered at the proxy,
    maybe through another node: the node rings it by the proxy, as it rings a seat."""
    async with talking(fake_ari, tmp_path, seat_proxy=proxy) as w:
        session = await started(w)
        assert session.machine.state is MonitorState.ACTIVE
        [dial] = [r for r in fake_ari.calls_to("/ari/channels")
                  if r.params.get("appArgs") == "monitor"]
        assert dial.params["endpoint"] == phone
        w.monitors.of(session.id, "8001").stop()
        await ended(w, session)


async def test_switching_listen_whisper_barge_and_back(fake_ari: FakeAri,
                                                       tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session = await started(w)

        async def switched(mode: Mode) -> None:
            session.ask(mode)
            await until(lambda: session.machine.mode is mode
                        and session.machine.state is MonitorState.ACTIVE, what=mode.value)

        await switched(Mode.WHISPER)
        first, second = snoops(fake_ari)
        assert second.params["whisper"] == "out" and second.params["spy"] == "both"
        assert first.params["snoopId"] not in fake_ari.channels  # the old snoop is gone
        assert session.leg in fake_ari.bridges[session.bridge or ""]
        await switched(Mode.BARGE)
        assert fake_ari.bridges[w.bridge] == [w.caller, w.operator, session.leg]
        assert second.params["snoopId"] not in fake_ari.channels and session.snoop is None
        assert session.leg not in fake_ari.bridges[session.bridge or ""]
        await switched(Mode.LISTEN)
        assert fake_ari.bridges[w.bridge] == [w.caller, w.operator]
        assert snoops(fake_ari)[-1].params["whisper"] == "none"
        await fake_ari.caller_hangs_up(w.caller)  # the call ends: so does the session
        await ended(w, session)
    assert w.audit.actions() == ["monitor_start", "monitor_mode", "monitor_mode",
                                 "monitor_mode", "monitor_end"]
    assert [d["mode"] for _, a, _, d in w.audit.entries if a == "monitor_mode"] == [
        "whisper", "barge", "listen"]
    end = w.audit.entries[-1][3]
    assert end["modes"] == ["listen", "whisper", "barge", "listen"]
    assert end["ended_by"] in ("caller", "operator")  # the seat is hung up with the caller


async def test_barge_from_the_start_joins_the_call_bridge_without_a_snoop(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session = await started(w, Mode.BARGE)
        assert not snoops(fake_ari)
        assert fake_ari.bridges[w.bridge] == [w.caller, w.operator, session.leg]
        await fake_ari.caller_hangs_up(session.leg)  # the supervisor hangs up
        await ended(w, session)
        assert fake_ari.bridges[w.bridge] == [w.caller, w.operator]
    assert w.audit.entries[-1][3]["ended_by"] == "supervisor"


async def test_an_unanswered_supervisor_phone_ends_the_session(fake_ari: FakeAri,
                                                               tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        fake_ari.seats["PJSIP/8001"] = "no_answer"
        session = await w.monitors.start("8001", "8001", w.call_id, w.caller,
                                         Mode.LISTEN)
        await ended(w, session)
    assert w.audit.actions() == ["monitor_end"]  # never started: no start, but the attempt
    assert w.audit.entries[0][3]["ended_by"] == "unanswered"


async def test_one_session_per_supervisor_and_only_a_call_in_a_conversation(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session = await started(w)
        with pytest.raises(MonitorRefused, match="already"):
            await w.monitors.start("8001", "8001", w.call_id, w.caller, Mode.BARGE)
        with pytest.raises(MonitorRefused, match="not talking"):
            await w.monitors.start("8002", "8002", 999, "no-such-channel", Mode.LISTEN)
        with pytest.raises(KeyError):
            w.monitors.of(session.id, "8002")  # another supervisor's session is not theirs
        session.stop()
        await ended(w, session)


async def test_a_stray_monitor_channel_is_hung_up(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path):
        fake_ari.channels["mon-sup-stray"] = {"id": "mon-sup-stray", "name": "PJSIP/8001-1",
                                              "state": "Up"}
        await fake_ari.emit({"type": "StasisStart", "args": ["monitor"],
                             "channel": fake_ari.channels["mon-sup-stray"]})
        await until(lambda: "mon-sup-stray" not in fake_ari.channels, what="the stray gone")


# How many ARI requests a listen session makes from its start through a switch to whisper,
# one to barge and its release (test_a_full_session_makes fails if that changes).
FULL_SESSION = 14
RELEASE_FROM = 12  # the first request of its release (after the stop)


async def drive(w: World, step: int, party: str) -> tuple[MonitorSession, bool, int]:
    """listen → whisper → barge → stop, with ``party`` hanging up just before the session's
    ``step``-th ARI request (0: nobody hangs up); the session, whether the party was there
    to hang up, and how many requests were seen until then."""
    fake = w.fake
    holder: list[MonitorSession] = []
    seen = [0]
    fired = asyncio.Event()
    hung: list[str] = []

    async def before(req: Req) -> None:
        if not holder or fired.is_set():
            return
        seen[0] += 1
        if seen[0] != step:
            return
        s = holder[0]
        victim = {"caller": w.caller, "operator": w.operator, "supervisor": s.leg,
                  "snoop": s.snoop or ""}[party]
        fired.set()
        if victim in fake.channels:
            hung.append(victim)
            await fake.caller_hangs_up(victim)

    session = MonitorSession(w.monitors.rest, "hotline", await w.monitors.target(
        w.call_id, w.caller), "8001", "PJSIP/8001", Mode.LISTEN, w.audit, 1.0)
    holder.append(session)
    w.monitors.sessions[session.id] = session
    fake.before_request = before
    task = asyncio.create_task(session.run())
    try:
        for mode in (Mode.WHISPER, Mode.BARGE):
            with contextlib.suppress(AssertionError):
                await until(lambda: session.machine.state in (
                    MonitorState.ACTIVE, MonitorState.ENDED), timeout_s=1.5)
            if not session.machine.live:
                break
            session.ask(mode)
            with contextlib.suppress(AssertionError):
                await until(lambda m=mode: session.machine.mode is m and session.machine.state
                            in (MonitorState.ACTIVE, MonitorState.ENDED), timeout_s=1.5)
        if session.machine.live:
            session.stop()
        await asyncio.wait_for(task, 5)
    finally:
        fake.before_request = None
        w.monitors.sessions.pop(session.id, None)
    return session, bool(hung), seen[0]


async def test_a_full_session_makes(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session, _, seen = await drive(w, 0, "caller")
        assert session.machine.modes == [Mode.LISTEN, Mode.WHISPER, Mode.BARGE]
        assert seen == FULL_SESSION
        assert not leftovers(fake_ari)
        assert w.caller in fake_ari.channels and w.operator in fake_ari.channels


@pytest.mark.parametrize("party", ["caller", "operator", "supervisor", "snoop"])
@pytest.mark.parametrize("step", range(1, FULL_SESSION + 1))
async def test_a_hang_up_at_every_step_leaves_nothing_behind(
        fake_ari: FakeAri, tmp_path: Path, party: str, step: int) -> None:
    async with talking(fake_ari, tmp_path) as w:
        session, fired, _ = await drive(w, step, party)
        await until(lambda: not leftovers(fake_ari), what="the session's channels released")
        assert session.machine.state is MonitorState.ENDED
        assert session.leg not in fake_ari.bridges.get(w.bridge, [])
        if step >= RELEASE_FROM:  # the supervisor had stopped: a hang-up now changes nothing
            assert session.machine.ended_by == "stop"
        elif party in ("caller", "operator") and fired:
            assert session.machine.ended_by == party
        elif party == "supervisor" and fired:
            assert session.machine.ended_by in ("supervisor", "unanswered")
            assert w.caller in fake_ari.channels, "a supervisor's hang-up ends only theirs"
            assert w.operator in fake_ari.channels
        elif party == "snoop" and fired:
            assert session.machine.ended_by == "snoop"
            assert w.caller in fake_ari.channels and w.operator in fake_ari.channels
    ends = [d for _, a, _, d in w.audit.entries if a == "monitor_end"]
    assert len(ends) == 1, w.audit.entries
