"""A write the database refuses for what it holds does not poison the journal; a crash in
the middle of a replay writes no event twice; the dead letters and `hotline journal`."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.cli import main
from hotline.domain.calls import NewCall
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database, upgrade
from hotline.store.journal import DeadLetters, JournalingCallStore, dead_letters_path
from tests.unit.test_journal import Switchable

LONG = "1" * 300  # longer than calls.caller (64): PostgreSQL says DataError


def call(channel: str, caller: str = "13900000000") -> NewCall:
    return NewCall(channel, caller, "12345", datetime.now(UTC))


async def test_a_300_character_caller_id_does_not_poison_the_journal(
        pg: Database, tmp_path: Path) -> None:
    repo = CallRepository(pg)
    journal = JournalingCallStore(Switchable(repo), tmp_path / "calls.jsonl")
    counted: list[None] = []
    journal.on_data_error = lambda: counted.append(None)
    bad = await journal.open_call(call("p-bad", LONG))
    assert bad < 0 and journal.pending == 0  # not journaled: waiting will not mend it
    await journal.add_event(bad, "said", {"phrase": "opening"})  # the call goes on
    await journal.update_call(bad, rings=1)
    assert journal.data_errors == len(counted) == 1  # one bug, counted once
    good = await journal.open_call(call("p-good"))  # later writes go straight through
    await journal.add_event(good, "said", {"phrase": "opening"})
    assert good > 0 and journal.pending == 0
    assert [e.kind for e in (await repo.get(good)).events] == ["arrived", "said"]
    letters = journal.dead.all()
    assert [d.entry["op"] for d in letters if d.entry] == ["open", "event", "update"]
    assert "value too long" in letters[0].reason and letters[0].entry is not None
    assert letters[0].entry["call"]["caller"] == LONG  # nothing lost: kept for an admin


async def test_a_poisoned_entry_is_set_aside_and_the_replay_goes_on(
        pg: Database, tmp_path: Path) -> None:
    repo = CallRepository(pg)
    store = Switchable(repo)
    journal = JournalingCallStore(store, tmp_path / "calls.jsonl")
    store.up = False
    bad = await journal.open_call(call("q-bad", LONG))
    await journal.add_event(bad, "said", {"phrase": "opening"})
    good = await journal.open_call(call("q-good"))
    await journal.add_event(good, "said", {"phrase": "opening"})
    assert journal.pending == 4
    store.up = True
    assert await journal.replay() == 4
    assert journal.pending == 0 and journal.dead.count() == 2
    assert journal.data_errors == 1  # the opening; its event follows it aside
    [found] = await repo.recent(5)
    row = await repo.get(found.id)
    assert row.channel_id == "q-good" and [e.kind for e in row.events] == ["arrived", "said"]
    # the next outage journals and replays as usual: nothing stuck behind the bad entry
    store.up = False
    await journal.update_call(good, disposition="resolved")
    store.up = True
    assert await journal.replay() == 1
    assert (await repo.get(row.id)).disposition == "resolved"


class Crash(BaseException):
    """The process dies (not an error anything catches)."""


class CrashAfter(Switchable):
    def __init__(self, repo: CallRepository, writes: int) -> None:
        super().__init__(repo)
        self.left = writes

    def _check(self) -> None:
        super()._check()
        if self.up and self.left is not None:
            if self.left == 0:
                raise Crash
            self.left -= 1

    async def ping(self) -> None:
        if not self.up:
            await super().ping()


async def test_a_crash_mid_replay_writes_no_event_twice(db: Database, tmp_path: Path) -> None:
    repo = CallRepository(db)
    path = tmp_path / "calls.jsonl"
    store = CrashAfter(repo, writes=0)
    journal = JournalingCallStore(store, path, batch=4)
    store.up = False
    records = []
    for n in range(3):
        record = await journal.open_call(call(f"c-{n}"))
        records.append(record)
        for k in range(5):
            await journal.add_event(record, "said", {"k": k})
        await journal.update_call(record, rings=n + 1)
    assert journal.pending == 21
    store.up, store.left = True, 10  # dies in the middle of the third step of four
    with pytest.raises(Crash):
        await journal.replay()
    assert 0 < journal.log.offset < journal.log.end  # two steps acknowledged, not the third

    restarted = JournalingCallStore(CrashAfter(repo, writes=0), path, batch=4)
    restarted.inner.left = None  # type: ignore[attr-defined]
    assert restarted.pending == 21 - 8  # from the offset acknowledged, not from the start
    assert await restarted.replay() == 13 and restarted.pending == 0
    rows = {r.channel_id: await repo.get(r.id) for r in await repo.recent(10)}
    assert sorted(rows) == ["c-0", "c-1", "c-2"]
    for n, channel in enumerate(["c-0", "c-1", "c-2"]):
        kinds = Counter(e.kind for e in rows[channel].events)
        assert kinds == {"arrived": 1, "said": 5}, kinds  # each event once
        assert [e.data["k"] for e in rows[channel].events if e.kind == "said"] == list(range(5))
        assert rows[channel].rings == n + 1


def test_journal_list_retry_drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    journal = tmp_path / "journal" / "calls.jsonl"
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    monkeypatch.setenv("HOTLINE_JOURNAL", str(journal))

    async def record() -> int:
        db = Database(url)
        try:
            return await CallRepository(db).open_call(call("cli-0"))
        finally:
            await db.close()

    existing = asyncio.run(record())
    dead = DeadLetters(dead_letters_path(journal))
    opening = {"op": "open", "provisional": -7, "call": {
        "channel_id": "cli-1", "caller": "13900000001", "called": "12345", "node": "",
        "channel": "phone", "arrived_at": {"__datetime__": datetime.now(UTC).isoformat()}}}
    ids = [dead.add(opening, "a bug since mended"),
           dead.add({"op": "event", "id": -7, "kind": "said", "data": {}, "key": "k1",
                     "at": datetime.now(UTC).isoformat()}, "its record's opening"),
           dead.add({"op": "event", "id": existing, "kind": "said", "data": {}, "key": "k2",
                     "at": datetime.now(UTC).isoformat()}, "a bug since mended"),
           dead.add(None, "an unreadable journal line", raw='{"op": "ev')]
    assert main(["journal", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in listed] == ids
    assert main(["journal", "retry", "nope"]) == 2  # a clear error naming the id
    assert "no dead letter nope" in capsys.readouterr().err
    assert main(["journal", "retry", "--all"]) == 1  # the unreadable one is refused again
    assert [d.id for d in dead.all()] == [ids[3]]
    assert main(["journal", "drop", ids[3]]) == 0 and dead.count() == 0

    async def written() -> list[Any]:
        db = Database(url)
        try:
            repo = CallRepository(db)
            return [await repo.get(r.id) for r in await repo.recent(5)]
        finally:
            await db.close()

    rows = {r.channel_id: [e.kind for e in r.events] for r in asyncio.run(written())}
    assert rows == {"cli-0": ["arrived", "said"], "cli-1": ["arrived", "said"]}
