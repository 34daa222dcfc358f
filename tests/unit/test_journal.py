"""The journal that keeps the flow's record writes while the database is away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hotline.domain.calls import NewCall
from hotline.errors import StoreError
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
            raise StoreError("database unreachable: connection refused")

    async def open_call(self, call: NewCall) -> int:
        self._check()
        return await self.repo.open_call(call)

    async def update_call(self, call_id: int, **fields: Any) -> None:
        self._check()
        await self.repo.update_call(call_id, **fields)

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None) -> None:
        self._check()
        await self.repo.add_event(call_id, kind, data, at)

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
