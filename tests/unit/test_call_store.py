"""The call-record store on both databases: SQLite here, PostgreSQL from scripts/test.sh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.calls.reconcile import parse_unattended
from hotline.domain.calls import NewCall
from hotline.errors import StoreError
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database


async def test_record_lifecycle(db: Database) -> None:
    repo = CallRepository(db)
    t0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    cid = await repo.open_call(NewCall("chan-1", "13900000001", "12345", t0))
    assert await repo.open_call(NewCall("chan-1", "13900000001", "12345", t0)) == cid
    await repo.update_call(cid, answered_at=t0 + timedelta(seconds=1), rings=1,
                           answered_by="9000")
    await repo.add_event(cid, "said", {"phrase": "opening"})
    await repo.update_call(cid, ended_at=t0 + timedelta(seconds=30), disposition="resolved",
                           satisfaction=5)
    row = await repo.get(cid)
    assert row.answered_at == t0 + timedelta(seconds=1)
    assert row.arrived_at.tzinfo is not None
    assert (row.disposition, row.satisfaction, row.rings) == ("resolved", 5, 1)
    assert [e.kind for e in row.events] == ["arrived", "said"]
    assert [r.id for r in await repo.recent(10)] == [cid]
    assert await repo.open_calls() == []


async def test_unknown_field_is_refused(db: Database) -> None:
    repo = CallRepository(db)
    cid = await repo.open_call(NewCall("c", "1", "12345", datetime.now(UTC)))
    with pytest.raises(ValueError, match="unknown call fields"):
        await repo.update_call(cid, colour="red")


async def test_database_down_is_a_store_error(tmp_path: Path) -> None:
    database = Database("postgresql+asyncpg://nobody:x@127.0.0.1:9/none")
    with pytest.raises(StoreError, match="unreachable"):
        await database.ping()
    await database.close()


def test_unattended_keys_parse_and_bad_ones_are_refused() -> None:
    call = parse_unattended("1795324950.3_1795324951_12345_+8613900000009", "node-a")
    assert call is not None and call.channel_id == "1795324950.3"
    assert (call.caller, call.called, call.node) == ("+8613900000009", "12345", "node-a")
    assert call.arrived_at == datetime.fromtimestamp(1795324951, UTC)
    assert parse_unattended("1795324950.3_1795324951_12345_", "") is not None  # no caller id
    for bad in ("", "x", "1.2_notepoch_12345_139", "_1795324951_12345_139", "a_1_2_3_4"):
        assert parse_unattended(bad, "") is None


async def test_stale_records_close_at_their_last_event_and_unattended_once(
        db: Database) -> None:
    repo = CallRepository(db)
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    call_id = await repo.open_call(NewCall("c-1", "13900000001", "12345", at, "node-a"))
    await repo.update_call(call_id, answered_at=at + timedelta(seconds=2))
    await repo.add_event(call_id, "said", {"phrase": "opening"})
    other = await repo.open_call(NewCall("c-2", "13900000002", "12345", at, "node-b"))
    assert [c.id for c in await repo.open_calls("node-a", before=at + timedelta(1))] == [
        call_id]
    assert await repo.open_calls("node-a", before=at) == []
    await repo.close_stale(call_id, "gone")
    row = await repo.get(call_id)
    assert row.disposition == "failed" and row.ended_at is not None
    assert row.ended_at >= at + timedelta(seconds=2)  # the last thing known, not the arrival
    assert [e.kind for e in row.events][-1] == "reconciled"
    assert (await repo.get(other)).ended_at is None
    unattended = NewCall("c-3", "13900000003", "12345", at, "node-a")
    first = await repo.record_unattended(unattended)
    assert first is not None and await repo.record_unattended(unattended) is None
    assert (await repo.get(first)).disposition == "unattended"


async def test_answer_counts_are_the_stats_figures(db: Database) -> None:
    repo = CallRepository(db)
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    for n, rings in enumerate((1, 3, 5, None)):
        call_id = await repo.open_call(NewCall(f"a-{n}", "13900000001", "12345", at))
        if rings is not None:
            await repo.update_call(call_id, answered_at=at, rings=rings)
    assert await repo.answer_counts(at, at + timedelta(hours=1)) == (4, 3, 2)
    assert await repo.answer_counts(at + timedelta(hours=1), at + timedelta(hours=2)) == (0, 0, 0)


async def test_the_holder_of_a_call_is_the_latest_colleague_it_went_to(db: Database) -> None:
    repo = CallRepository(db)
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    kept, moved, to_unit = [await repo.open_call(NewCall(f"h-{n}", "13900000001", "12345", at))
                            for n in range(3)]
    await repo.add_event(moved, "transferred", {"by": "1001", "seat": "1002", "to": "PJSIP/1002"})
    await repo.add_event(moved, "transferred", {"by": "1002", "seat": "1003", "to": "PJSIP/1003"})
    await repo.add_event(to_unit, "transferred", {"by": "1001", "seat": "", "to": "PJSIP/x"})
    assert await repo.holders([kept, moved, to_unit]) == {moved: "1003"}
    assert await repo.holders([]) == {}



async def test_the_wallboards_emergencies_are_the_latest_outcome_of_each_call(
        db: Database) -> None:
    repo = CallRepository(db)
    at = datetime.now(UTC)
    quiet, sos = [await repo.open_call(NewCall(f"e-{n}", "13900000001", "12345", at))
                  for n in range(2)]
    await repo.add_event(quiet, "said", {"phrase": "opening"})
    await repo.add_event(sos, "emergency", {"line": "119", "outcome": "dialling"})
    await repo.add_event(sos, "emergency", {"line": "119", "outcome": "bridged"})
    got = await repo.emergencies(at - timedelta(minutes=1))
    assert [(c, caller, d["line"], d["outcome"]) for c, caller, _, d in got] == \
        [(sos, "13900000001", "119", "bridged")]
    assert await repo.emergencies(at + timedelta(hours=1)) == []
