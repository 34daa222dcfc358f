"""One small supervisor for the hotline's long-lived tasks (the ARI event stream, the call
controller, the journal replay, the sweeps, the directory rebuild, the metrics).

A task that raises (or returns, which a long-lived task must not) is logged and started
again after a backoff that doubles up to a ceiling, and starts from the floor again once a
run lasted ``steady_s``. While it is down, /healthz reports the hotline degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hotline.ports import Clock

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Work = Callable[[], Awaitable[None]]


@dataclass
class TaskState:
    name: str
    running: bool = False
    restarts: int = 0
    last_error: str = ""
    down_since: float | None = None  # the clock's monotonic time it failed

    def as_json(self) -> dict[str, object]:
        return {"running": self.running, "restarts": self.restarts,
                "last_error": self.last_error}


class Supervisor:
    def __init__(self, clock: Clock, sleep: Sleep = asyncio.sleep, *,
                 backoff_initial_s: float = 0.5, backoff_max_s: float = 30.0,
                 steady_s: float = 60.0) -> None:
        self.clock = clock
        self._sleep = sleep
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._steady_s = steady_s
        self.states: dict[str, TaskState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.stopping = False  # a task that returns now is done, not failed

    def start(self, name: str, work: Work) -> asyncio.Task[None]:
        """Run ``work()`` under supervision, under this name (unique)."""
        if name in self._tasks:
            raise ValueError(f"a task named {name!r} is supervised already")
        self.states[name] = TaskState(name)
        task = asyncio.create_task(self._keep(name, work), name=name)
        self._tasks[name] = task
        return task

    @property
    def down(self) -> list[TaskState]:
        return [s for s in self.states.values() if not s.running]

    async def _keep(self, name: str, work: Work) -> None:
        state = self.states[name]
        delay = self._backoff[0]
        while True:
            state.running, state.down_since = True, None
            started = self.clock.monotonic()
            failure: Exception | None = None
            try:
                await work()
                if self.stopping:
                    return
                error = "returned"
            except Exception as exc:  # whatever it was, the task comes back
                failure, error = exc, f"{type(exc).__name__}: {exc}"
            if self.clock.monotonic() - started >= self._steady_s:
                delay = self._backoff[0]  # it ran well for a while: a new failure, not a run
            log.error("task %s %s; restarting it in %.1f s", name,
                      "failed" if failure else "returned", delay, exc_info=failure)
            state.running, state.restarts, state.last_error = False, state.restarts + 1, error
            state.down_since = self.clock.monotonic()
            await self._sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    async def stop(self, *names: str) -> None:
        """Cancel the named tasks (all if none) and wait for them."""
        self.stopping = True
        chosen = [self._tasks[n] for n in names] if names else list(self._tasks.values())
        for task in chosen:
            task.cancel()
        for task in chosen:
            with contextlib.suppress(asyncio.CancelledError):
                await task
