"""The database away for 30 s while calls come and go: the flow journals its record writes
locally and the journal is replayed, in order, when the database answers again."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

from hotline.config import Settings, replace
from tests.integration.conftest import serving
from tests.sipp import sipp
from tests.tcp_proxy import TcpProxy


def through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@127.0.0.1:{port}"))


async def test_thirty_seconds_without_the_database(settings: Settings,
                                                   shared_pg: str) -> None:
    target = urlsplit(shared_pg)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    port = await proxy.start()
    real = replace(settings, db_url=through(shared_pg, port))
    try:
        async with serving(real) as (services, _):
            before = await sipp(real.sandbox_sip_port, caller="13900000061", hold_ms=1500)
            assert before.successful == 1
            proxy.cut()
            started = asyncio.get_running_loop().time()
            during = await sipp(real.sandbox_sip_port, calls=3, rate=2, limit=3,
                                hold_ms=3000, caller="13900000062", timeout_s=60)
            assert during.successful == 3, during.output[-2000:]  # served all the same
            assert services.journal.pending > 0
            journaled = services.journal.pending
            await asyncio.sleep(max(0.0, 30 - (asyncio.get_running_loop().time() - started)))
            proxy.restore()
            for _ in range(100):
                if services.journal.pending == 0:
                    break
                await asyncio.sleep(0.2)
            assert services.journal.pending == 0 and services.journal.replayed >= journaled
            rows = [await services.calls.get(r.id) for r in await services.calls.recent(20)]
    finally:
        await proxy.close()
    assert len([r for r in rows if r.caller == "13900000062"]) == 3
    for r in rows:  # whole records: answered, closed, and their events in the order written
        kinds = [e.kind for e in r.events]
        assert r.answered_at is not None and r.ended_at is not None and r.rings <= 3, kinds
        assert kinds[0] == "arrived" and "said" in kinds and r.disposition, kinds
        assert [e.at for e in r.events] == sorted(e.at for e in r.events)
