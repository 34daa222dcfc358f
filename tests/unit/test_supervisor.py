"""The supervisor restarts a failed task with backoff, on the Clock port (no real waits)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hotline.server.supervisor import Supervisor


class FakeClock:
    """Time that moves only when slept through."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []
        self.seen_down: list[list[str]] = []
        self.supervisor: Supervisor | None = None

    def now(self) -> datetime:
        return datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=self.t)

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        if self.supervisor is not None:  # what /healthz would say during the backoff
            self.seen_down.append([s.name for s in self.supervisor.down])
        self.slept.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


def supervised(clock: FakeClock, **kw: float) -> Supervisor:
    sup = Supervisor(clock, clock.sleep, backoff_initial_s=0.5, backoff_max_s=4.0, **kw)
    clock.supervisor = sup
    return sup


async def test_a_failing_task_comes_back_with_a_doubling_backoff() -> None:
    clock = FakeClock()
    sup = supervised(clock)
    runs: list[int] = []
    steady = asyncio.Event()

    async def work() -> None:
        runs.append(len(runs))
        if len(runs) <= 5:
            raise RuntimeError(f"boom {len(runs)}")
        steady.set()
        await asyncio.Event().wait()  # runs on, as a long-lived task does

    sup.start("work", work)
    await asyncio.wait_for(steady.wait(), 1)
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 4.0]  # doubling, up to the ceiling
    assert clock.seen_down == [["work"]] * 5  # down, for /healthz, while it waits
    state = sup.states["work"]
    assert state.running and state.restarts == 5 and state.last_error == "RuntimeError: boom 5"
    assert sup.down == []
    await sup.stop()


async def test_the_backoff_starts_again_after_a_steady_run() -> None:
    clock = FakeClock()
    sup = supervised(clock, steady_s=60)
    runs = 0
    done = asyncio.Event()

    async def work() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            clock.t += 120  # this run lasted two minutes before it failed
        if runs == 5:
            done.set()
            await asyncio.Event().wait()
        raise OSError("lost")

    sup.start("work", work)
    await asyncio.wait_for(done.wait(), 1)
    assert clock.slept == [0.5, 1.0, 0.5, 1.0]
    await sup.stop()


async def test_a_task_that_returns_is_restarted_unless_stopping() -> None:
    clock = FakeClock()
    sup = supervised(clock)
    runs = 0
    again = asyncio.Event()

    async def work() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            again.set()
            sup.stopping = True  # the app is stopping: returning now is the end

    task = sup.start("work", work)
    await asyncio.wait_for(again.wait(), 1)
    await asyncio.wait_for(task, 1)
    assert runs == 2 and sup.states["work"].last_error == "returned"
