"""Fault injection over whole calls on the fake ARI: the Nth ARI request fails, or the leg it
names hangs up, for every N over a call with a seat and a transfer, and over a call with a
lookup and a transfer. Whatever N, the record is closed with a disposition, the seat is
free, no channel of the call is left, and no task is left running."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.calls.commands import TransferRequest
from hotline.domain.seats import DutyState
from tests.fake_ari import FakeAri
from tests.harness import FAST, Harness, running

ON = DutyState.ON_DUTY
DEPT = "PJSIP/departments"


def bridged_with(fake: FakeAri, cid: str, prefix: str) -> bool:
    return any(cid in chans and any(c.startswith(prefix) or fake.channels.get(c, {}).get(
        "name", "").startswith(prefix) for c in chans if c != cid)
        for chans in fake.bridges.values())


async def drive(h: Harness, cid: str, seat: bool) -> None:
    """The operator asks for a warm transfer once bridged (seat); once the department is
    bridged, the caller hangs up. Faults may end the call anywhere before."""
    fake = h.fake
    asked = False
    for _ in range(600):
        if cid not in fake.channels:
            return
        if seat and not asked and bridged_with(fake, cid, "PJSIP/1001"):
            row = await h.record_for(cid, ended=False)
            asked = h.requests.submit(row.id, TransferRequest(
                by="1001", endpoint=DEPT, summary="查询社保", organisation="人社局"))
        if bridged_with(fake, cid, DEPT):
            break
        await asyncio.sleep(0.02)
    await fake.caller_hangs_up(cid)


async def one_call(tmp: Path, *, seat: bool, fail_at: int = 0,
                   hang_up_at: int = 0) -> FakeAri:
    fake = FakeAri(fail_at=fail_at, hang_up_at=hang_up_at)
    fake.seats = {DEPT: "answer", "PJSIP/1001": "answer"}
    await fake.start()
    try:
        async with running(fake, tmp, FAST, seats=[("1001", None, ON)] if seat else [],
                           utterances=[] if seat else ["人社局", "对", "好的"]) as h:
            cid = await fake.incoming_call()
            await drive(h, cid, seat)
            row = await h.record_for(cid, timeout_s=20)
            assert row.ended_at is not None and row.disposition, row
            for _ in range(300):
                if not h.controller.tasks and not fake.channels:
                    break
                await asyncio.sleep(0.02)
            assert not h.controller.tasks, "a task of the call is left running"
            assert not fake.channels, f"channels left: {list(fake.channels)}"
            board = h.controller.flow.deps.seats  # type: ignore[attr-defined]
            assert await board.take("1001"), "the seat is still taken"
    finally:
        await fake.close()
    return fake


@pytest.mark.parametrize("seat", [True, False], ids=["seat+transfer", "lookup+transfer"])
async def test_the_whole_call_runs_without_faults(tmp_path: Path, seat: bool) -> None:
    fake = await one_call(tmp_path, seat=seat)
    briefed = [r.params.get("media", "") for r in fake.requests
               if r.path.startswith("/ari/channels/seat-") and "/play/" in r.path]
    assert any(m.startswith("sound:test/transfer_brief") for m in briefed), \
        "the department hears the brief"
    assert fake.bridges == {}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 60), hang=st.booleans(), seat=st.booleans())
def test_any_request_may_fail_or_any_leg_hang_up(
        tmp_path_factory: pytest.TempPathFactory, n: int, hang: bool, seat: bool) -> None:
    tmp = tmp_path_factory.mktemp("fault")
    asyncio.run(one_call(tmp, seat=seat, fail_at=0 if hang else n,
                         hang_up_at=n if hang else 0))
