"""Every node's Asterisk follows the seats in the shared database (hotline/seats/sync.py):
seats added, changed or removed on any node reach this node's (fake) Asterisk within one
look, on a virtual clock; the database or ARI away is logged and retried, never the end of
the task. The seats are read by the real repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from hotline.domain.seats import BROWSER_PHONE, DutyState, SeatConfig
from hotline.errors import AriUnavailable, StoreUnavailable
from hotline.seats.sync import SeatSync
from hotline.store.database import Database
from hotline.store.operators_repo import OperatorRepository

EVERY_S = 2.0


class Ticking:
    """The task's sleep on a virtual clock: time moves only when the test moves it, and then
    the test waits until the task is asleep again (its look done)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.naps: list[float] = []
        self._moved = asyncio.Event()
        self._asleep = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        until = self.now + seconds
        while self.now < until:
            self._moved.clear()
            self._asleep.set()
            await self._moved.wait()

    async def advance(self, seconds: float) -> None:
        await asyncio.wait_for(self._asleep.wait(), 5)
        self._asleep.clear()
        self.now += seconds
        self._moved.set()
        await asyncio.wait_for(self._asleep.wait(), 5)


@dataclass
class FakeAsterisk:
    """This node's Asterisk as the seats' dynamic configuration sees it."""

    seats: dict[str, SeatConfig] = field(default_factory=dict)
    pushes: list[str] = field(default_factory=list)
    down: bool = False

    async def push(self, op: SeatConfig) -> None:
        if self.down:
            raise AriUnavailable("ARI PUT: connection refused")
        self.pushes.append(op.job_number)
        self.seats[op.job_number] = op

    async def remove(self, job_number: str) -> None:
        if self.down:
            raise AriUnavailable("ARI DELETE: connection refused")
        self.seats.pop(job_number, None)


class Flaky:
    """The seats' repository, with the database switched away and back."""

    def __init__(self, repo: OperatorRepository) -> None:
        self.repo = repo
        self.down = False
        self.reads = 0

    async def configs(self) -> list[SeatConfig]:
        self.reads += 1
        if self.down:
            raise StoreUnavailable("database unreachable: connection refused")
        return await self.repo.configs()


@dataclass
class Node:
    repo: OperatorRepository
    source: Flaky
    asterisk: FakeAsterisk
    clock: Ticking
    sync: SeatSync
    connected: asyncio.Event


@contextlib.asynccontextmanager
async def node(db: Database) -> AsyncIterator[Node]:
    """A node whose controller connected to its Asterisk (every seat pushed), its seat-sync
    task running and asleep."""
    repo = OperatorRepository(db)
    source, asterisk, clock = Flaky(repo), FakeAsterisk(), Ticking()
    sync = SeatSync(source, asterisk, every_s=EVERY_S, sleep=clock.sleep)
    connected = asyncio.Event()
    connected.set()
    await sync.push_all()
    task = asyncio.create_task(sync.keep_in_step(connected))
    try:
        yield Node(repo, source, asterisk, clock, sync, connected)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert clock.naps and set(clock.naps) == {EVERY_S}


async def test_a_seat_added_changed_or_removed_elsewhere_reaches_this_asterisk_in_one_look(
        db: Database) -> None:
    repo = OperatorRepository(db)
    await repo.add("1001", "张三", "a" * 32)
    async with node(db) as n:
        assert list(n.asterisk.seats) == ["1001"]  # pushed at connect
        # another node's `hotline operators add`, `passwd` and `phone`: the database only
        await repo.add("1002", "李四", "b" * 32, backup_of="1001")
        await n.clock.advance(EVERY_S)
        assert n.asterisk.seats["1002"] == SeatConfig("1002", "b" * 32)
        await repo.set_digest("1001", "c" * 32)
        await repo.set_phone("1002", BROWSER_PHONE)
        n.asterisk.pushes.clear()
        await n.clock.advance(EVERY_S)
        assert n.asterisk.seats == {"1001": SeatConfig("1001", "c" * 32),
                                    "1002": SeatConfig("1002", "b" * 32, phone=BROWSER_PHONE)}
        assert sorted(n.asterisk.pushes) == ["1001", "1002"]
        await repo.set_duty("1001", DutyState.ON_DUTY)  # not the seat's PJSIP configuration
        n.asterisk.pushes.clear()
        await n.clock.advance(EVERY_S)
        assert n.asterisk.pushes == [], "an unchanged seat is not pushed again"
        await repo.remove("1002")
        await n.clock.advance(EVERY_S)
        assert list(n.asterisk.seats) == ["1001"]


async def test_nothing_is_read_before_the_interval_nor_while_ari_is_away(db: Database) -> None:
    async with node(db) as n:
        reads = n.source.reads
        await n.clock.advance(EVERY_S / 2)
        assert n.source.reads == reads
        n.connected.clear()  # the reconnect pushes every seat: no look meanwhile
        await n.clock.advance(EVERY_S * 3)
        assert n.source.reads == reads
        n.connected.set()
        await n.clock.advance(EVERY_S)
        assert n.source.reads == reads + 1


async def test_the_database_away_is_logged_once_and_the_seats_follow_when_it_is_back(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    async with node(db) as n:
        n.source.down = True
        await n.repo.add("1003", "王五", "d" * 32)  # written before the outage was seen
        with caplog.at_level(logging.INFO, logger="hotline.seats.sync"):
            for _ in range(3):
                await n.clock.advance(EVERY_S)
            assert n.source.reads >= 4 and n.asterisk.seats == {}
            n.source.down = False
            await n.clock.advance(EVERY_S)
        assert list(n.asterisk.seats) == ["1003"]
    warnings = [r for r in caplog.records if "cannot read them" in r.getMessage()]
    assert len(warnings) == 1 and "connection refused" in warnings[0].getMessage()
    assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_a_push_or_removal_that_fails_is_tried_again_at_the_next_look(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    repo = OperatorRepository(db)
    await repo.add("1001", "张三", "a" * 32)
    async with node(db) as n:
        n.asterisk.down = True
        await repo.add("1004", "赵六", "e" * 32)
        await repo.remove("1001")
        with caplog.at_level(logging.ERROR, logger="hotline.seats.sync"):
            await n.clock.advance(EVERY_S)
            await n.clock.advance(EVERY_S)
        assert list(n.asterisk.seats) == ["1001"]
        n.asterisk.down = False
        await n.clock.advance(EVERY_S)
        assert list(n.asterisk.seats) == ["1004"]
    failures = [r.getMessage() for r in caplog.records if "could not" in r.getMessage()]
    assert sorted(f.split(" seat ")[1][:4] for f in failures) == ["1001", "1004"], failures


async def test_a_reconnect_pushes_every_seat_again_and_removes_one_gone_meanwhile(
        db: Database) -> None:
    repo = OperatorRepository(db)
    await repo.add("1001", "张三", "a" * 32)
    await repo.add("1005", "钱七", "f" * 32)
    async with node(db) as n:
        n.connected.clear()  # ARI away (the controller's connection, not Asterisk)
        await repo.remove("1005")
        await n.clock.advance(EVERY_S)
        assert sorted(n.asterisk.seats) == ["1001", "1005"]  # no look while away
        n.connected.set()
        changes = await n.sync.push_all()
        assert (changes.pushed, changes.removed) == (("1001",), ("1005",))
        assert n.asterisk.seats == {"1001": SeatConfig("1001", "a" * 32)}


async def test_a_reconnect_while_the_database_is_away_leaves_the_next_look_to_push_them(
        db: Database) -> None:
    repo = OperatorRepository(db)
    await repo.add("1001", "张三", "a" * 32)
    async with node(db) as n:
        n.asterisk.seats.clear()  # its Asterisk restarted, and the database is away
        n.source.down = True
        with pytest.raises(StoreUnavailable):
            await n.sync.push_all()
        n.source.down = False
        await n.clock.advance(EVERY_S)
        assert n.asterisk.seats == {"1001": SeatConfig("1001", "a" * 32)}


async def test_the_repository_reads_each_seats_configuration(db: Database) -> None:
    repo = OperatorRepository(db)
    await repo.add("1002", "李四", "b" * 32, contact="sip:1002@192.0.2.7:5060")
    await repo.add("1001", "张三", "a" * 32, phone=BROWSER_PHONE)
    assert await repo.configs() == [
        SeatConfig("1001", "a" * 32, phone=BROWSER_PHONE),
        SeatConfig("1002", "b" * 32, contact="sip:1002@192.0.2.7:5060")]
