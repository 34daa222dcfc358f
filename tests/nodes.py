"""Several nodes in one test process: each node's NOTIFY bus (hotline/live/notify.py) on the
test PostgreSQL from scripts/test.sh, run while the test needs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

from hotline.live.notify import NotifyBus


def pg_url() -> str:
    url = os.environ.get("HOTLINE_TEST_PG_URL", "")
    assert url, "HOTLINE_TEST_PG_URL is not set: run the suite with scripts/test.sh"
    return url


@contextlib.asynccontextmanager
async def running(*buses: NotifyBus) -> AsyncIterator[None]:
    """The buses listening (each as its node's supervised task would run it)."""
    tasks = [asyncio.create_task(bus.run(retry_s=0.1)) for bus in buses]
    try:
        for bus in buses:
            await asyncio.wait_for(bus.listening.wait(), 10)
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
