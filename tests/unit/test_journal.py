"""The journal that keeps the flow's record writes while the database is away."""

from __future__ import annotations

import asyncio
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.calls import NewCall
from hotline.errors import StoreUnavailable
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.journal import JournalingCallStore


class Switchable:
    """A CallStore over the real repository that can be switched off like a lost server."""

    def __init__(self, repo: CallRepository) -> None:
        self.repo = repo
        self.up = True

    def _check(self) -> None:
        if not self.up:
            raise StoreUnavailable("database unreachable: connection refused")

    async def open_call(self, call: NewCall) -> int:
        self._check()
        return await self.repo.open_call(call)

    async def update_call(self, call_id: int, **fields: Any) -> None:
        self._check()
        await self.repo.update_call(call_id, **fields)

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None, *, key: str | None = None) -> None:
        self._check()
        await self.repo.add_event(call_id, kind, data, at, key=key)

    async def ping(self) -> None:
        self._check()


async def test_writes_during_an_outage_are_replayed_in_order(db: Database,
                                                             tmp_path: Path) -> None:
    repo = CallRepository(db)
    store = Switchable(repo)
    path = tmp_path / "journal" / "calls.jsonl"
    journal = JournalingCallStore(store, path)
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    before = await journal.open_call(NewCall("j-0", "13900000000", "12345", at))
    assert before > 0 and journal.pending == 0
    store.up = False
    during = await journal.open_call(NewCall("j-1", "13900000001", "12345", at))
    assert during < 0  # provisional
    await journal.update_call(during, answered_at=at + timedelta(seconds=1), rings=1)
    await journal.add_event(during, "said", {"phrase": "opening"})
    await journal.update_call(before, ended_at=at, disposition="resolved", state="ended")
    assert journal.pending == 4 and path.stat().st_mode & 0o777 == 0o600
    assert await journal.replay() == 0 and journal.pending == 4  # still down: kept

    restarted = JournalingCallStore(store, path)  # a controller restart keeps the journal
    assert restarted.pending == 4
    store.up = True
    assert await restarted.replay() == 4 and restarted.pending == 0
    assert path.read_text() == ""
    rows = {r.channel_id: r for r in await repo.recent(10)}
    assert rows["j-0"].disposition == "resolved"
    written = await repo.get(rows["j-1"].id)
    assert written.rings == 1 and written.answered_at == at + timedelta(seconds=1)
    assert [e.kind for e in written.events] == ["arrived", "said"]
    # later writes with the provisional id reach the real record
    await restarted.update_call(during, disposition="abandoned")
    assert (await repo.get(rows["j-1"].id)).disposition == "abandoned"


async def test_a_torn_last_line_is_skipped_not_fatal(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"op": "event", "id": 1, "kind": "x", "data": {}}\n{"op": "upd')
    journal = JournalingCallStore(Switchable(CallRepository(db)), path)
    assert journal.pending == 1
    assert path.read_text().endswith("}\n")  # the next line is not glued to the torn one


async def test_an_outage_burst_is_one_fsync_in_a_worker_thread(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = CallRepository(db)
    store = Switchable(repo)
    journal = JournalingCallStore(store, tmp_path / "calls.jsonl")
    record = await journal.open_call(NewCall("g-0", "13900000000", "12345", datetime.now(UTC)))
    store.up = False
    loop_thread = threading.get_ident()
    fsync_threads: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        fsync_threads.append(threading.get_ident())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    await asyncio.gather(*(journal.add_event(record, "said", {"n": n}) for n in range(50)))
    assert journal.pending == 50
    assert fsync_threads and loop_thread not in fsync_threads  # never on the event loop
    assert journal.log.fsyncs == len(fsync_threads) <= 3  # group commit, not one per write
    store.up = True
    assert await journal.replay() == 50
    events = (await repo.get(record)).events
    assert [e.data.get("n") for e in events if e.kind == "said"] == list(range(50))


class Slow(Switchable):
    """Each write takes a while, as a database far away would."""

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None, *, key: str | None = None) -> None:
        await asyncio.sleep(0.005)
        await super().add_event(call_id, kind, data, at, key=key)


async def test_live_writes_do_not_wait_for_the_whole_replay(db: Database,
                                                          tmp_path: Path) -> None:
    repo = CallRepository(db)
    store = Slow(repo)
    journal = JournalingCallStore(store, tmp_path / "calls.jsonl", batch=10)
    record = await journal.open_call(NewCall("r-0", "13900000000", "12345", datetime.now(UTC)))
    store.up = False
    for n in range(100):
        await journal.add_event(record, "said", {"n": n})
    store.up = True
    replay = asyncio.create_task(journal.replay())
    for _ in range(1000):  # the replay under way, acknowledged step by step
        if journal.log.offset:
            break
        await asyncio.sleep(0.005)
    assert journal.log.offset < journal.log.end
    await asyncio.wait_for(journal.add_event(record, "said", {"n": "live"}), 0.5)
    assert not replay.done()  # the live write went behind it, and did not wait for it
    assert await replay == 101 and journal.pending == 0
    said = [e.data["n"] for e in (await repo.get(record)).events if e.kind == "said"]
    assert said == [*range(100), "live"]  # in the order written
    assert (tmp_path / "calls.jsonl").stat().st_size == 0  # emptied once caught up


async def test_the_journal_is_bounded_and_says_so(db: Database, tmp_path: Path) -> None:
    store = Switchable(CallRepository(db))
    journal = JournalingCallStore(store, tmp_path / "calls.jsonl", max_bytes=4096)
    refusals: list[None] = []
    journal.on_refused = lambda: refusals.append(None)
    record = await journal.open_call(NewCall("b-0", "13900000000", "12345", datetime.now(UTC)))
    store.up = False
    for n in range(100):  # the call goes on: a refused write raises nothing
        await journal.add_event(record, "said", {"phrase": "x" * 40, "n": n})
    assert journal.bytes <= 4096 and 0 < journal.pending < 100
    assert journal.refused == len(refusals) == 100 - journal.pending and journal.full
    store.up = True
    await journal.replay()
    assert journal.pending == 0 and not journal.full
