"""The call store the flow writes through when the database may be away.

Every write goes to the database. If the database cannot be reached (StoreUnavailable:
refused, reset, a timeout, the pool exhausted) the write goes to a local journal instead,
and so does every later write until the journal is applied, so the order is kept. A record
opened meanwhile gets a provisional negative id, which the replay maps to the real one.

A write the database refuses for what it holds (StoreDataError, a constraint) is a bug, not
an outage: it is logged with its record id, counted, kept as a dead letter for an admin
(``hotline journal list|retry|drop``), and the call goes on; later writes are not held up.

The journal is written off the event loop with group commit, bounded in size (a write past
the bound is refused and counted), and replayed incrementally in small steps while calls go
on journaling behind it. Every event carries a unique key, so a crash mid-replay never
writes an event twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from hotline.domain.calls import NewCall
from hotline.errors import StoreDataError, StoreError, StoreUnavailable
from hotline.store.journal.apply import JournalTarget, Poisoned, apply_entry
from hotline.store.journal.codec import encode
from hotline.store.journal.deadletters import DeadLetters
from hotline.store.journal.filelog import FileLog, JournalFull, Line

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]
Hook = Callable[[], None]
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def _nothing() -> None:
    return None


_NEVER_OPENED = "its record's opening was refused (a dead letter too)"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return text if isinstance(exc, StoreError | Poisoned) else \
        f"{type(exc).__name__}: {text}".rstrip(": ")


def dead_letters_path(path: Path) -> Path:
    return path.with_name(path.stem + ".dead.jsonl")


class JournalingCallStore:
    def __init__(self, inner: JournalTarget, path: Path, *,
                 max_bytes: int = DEFAULT_MAX_BYTES, batch: int = 20) -> None:
        self.inner = inner
        self.path = path
        self.log = FileLog(path, max_bytes)
        self.dead = DeadLetters(dead_letters_path(path))
        self.batch = max(1, batch)
        self._ids: dict[int, int] = dict(self.log.ids)  # provisional -> real
        self._next_provisional = self.log.lowest_provisional - 1
        self._lost: set[int] = set()  # provisional ids whose opening is a dead letter
        self._replaying = asyncio.Lock()
        self.replayed = 0
        self.data_errors = 0  # writes refused for what they hold, since start
        self.refused = 0  # writes the full journal could not keep, since start
        self.full = False  # a write was refused since the journal last emptied
        self.on_data_error: Hook = _nothing  # the metrics' counters
        self.on_refused: Hook = _nothing
        if self.pending:
            log.warning("%d call-record writes journaled before a restart; replaying them when "
                        "the database answers", self.pending)

    @property
    def pending(self) -> int:
        return self.log.pending

    @property
    def bytes(self) -> int:
        return self.log.size

    # -- the CallStore port ----------------------------------------------------------------
    async def open_call(self, call: NewCall) -> int:
        entry = {"op": "open", "call": encode(
            {"channel_id": call.channel_id, "caller": call.caller, "called": call.called,
             "arrived_at": call.arrived_at, "node": call.node, "channel": call.channel})}
        if not self.pending:  # the usual case: straight to the database
            try:
                return await self.inner.open_call(call)
            except StoreUnavailable as exc:
                log.error("database unavailable, journaling call records: %s", exc)
            except (StoreDataError, IntegrityError) as exc:
                provisional = self._provisional()
                self._lost.add(provisional)
                await self._bury({**entry, "provisional": provisional}, provisional,
                                 _reason(exc))
                return provisional
        provisional = self._provisional()
        await self._journal({**entry, "provisional": provisional}, provisional)
        return provisional

    async def update_call(self, call_id: int, **fields: Any) -> None:
        await self._write({"op": "update", "id": call_id, "fields": encode(fields)},
                          lambda real: self.inner.update_call(real, **fields), call_id)

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)  # the moment it happened, not the moment replayed
        key = uuid.uuid4().hex  # live too: a write that timed out may still have landed
        await self._write({"op": "event", "id": call_id, "kind": kind, "data": encode(data),
                           "at": at.isoformat(), "key": key},
                          lambda real: self.inner.add_event(real, kind, data, at, key=key),
                          call_id)

    async def ping(self) -> None:
        await self.inner.ping()

    def _provisional(self) -> int:
        provisional = self._next_provisional
        self._next_provisional -= 1
        return provisional

    async def _write(self, entry: dict[str, Any], direct: Callable[[int], Awaitable[None]],
                     call_id: int) -> None:
        if call_id in self._lost:  # kept with its opening, for an admin to retry together
            await self._bury(entry, call_id, _NEVER_OPENED, counted=False)
            return
        real = self._ids.get(call_id, call_id)
        if not self.pending and real > 0:
            try:
                await direct(real)
                return
            except StoreUnavailable as exc:
                log.error("database unavailable, journaling call records: %s", exc)
            except (StoreDataError, IntegrityError) as exc:
                await self._bury({**entry, "id": real}, real, _reason(exc))
                return
        await self._journal(entry, call_id)

    async def _journal(self, entry: dict[str, Any], record: int) -> None:
        try:
            await self.log.append(entry)
        except JournalFull as exc:
            self.refused += 1
            self.full = True
            self.on_refused()
            log.error("journal: a %s write for record %s is lost: %s", entry["op"], record, exc)

    async def _bury(self, entry: dict[str, Any] | None, record: object, reason: str,
                    raw: str = "", *, counted: bool = True) -> None:
        """A write the database refused for what it holds: logged, counted, kept aside.
        ``counted``: False for the later writes of a record whose opening was refused."""
        if counted:
            self.data_errors += 1
            self.on_data_error()
            log.error("record %s: the database refused a %s write (a bug; kept as a dead "
                      "letter, see `hotline journal list`): %s", record,
                      (entry or {}).get("op", "journal"), reason)
        try:
            await asyncio.to_thread(self.dead.add, entry, reason, raw)
        except OSError as err:
            log.error("record %s: the dead letter could not be kept either: %s", record, err)

    # -- the replay --------------------------------------------------------------------------
    async def replay(self) -> int:
        """Apply the journal in order, in steps of ``batch`` entries, if the database
        answers; the entries applied (or set aside as dead letters). Calls keep journaling
        behind it meanwhile; it ends when it has caught up with them."""
        async with self._replaying:
            if not self.pending:
                return 0
            try:
                await self.inner.ping()
            except StoreError:
                return 0
            done = 0
            while True:
                lines = await asyncio.to_thread(self.log.read, self.log.offset, self.log.end,
                                                self.batch)
                if not lines:
                    if await self.log.finish():
                        self.full = False
                        break
                    await asyncio.sleep(0.01)  # entries still being written: wait for them
                    continue
                applied, stopped = await self._step(lines)
                done += applied
                if stopped:
                    break
                await asyncio.sleep(0)  # the live calls' turn
            if done:
                log.warning("journal: %d call-record writes replayed, %d left", done,
                            self.pending)
            return done

    async def _step(self, lines: list[Line]) -> tuple[int, bool]:
        """Apply some lines and acknowledge them: (how many, whether the database went away
        meanwhile)."""
        ids: dict[int, int] = {}
        offset, count, stopped = self.log.offset, 0, False
        for line in lines:
            try:
                await self._apply(line, ids)
            except StoreUnavailable as exc:
                log.warning("journal replay stopped, %d left: %s", self.pending - count, exc)
                stopped = True
                break
            offset = line.end
            count += 1
        if count:
            await self.log.commit(offset, ids, count)
            self.replayed += count
        return count, stopped

    async def _apply(self, line: Line, ids: dict[int, int]) -> None:
        entry = line.entry
        if entry is None:
            await self._bury(None, "?", "an unreadable journal line", line.raw)
            return
        known = {**self._ids, **ids}
        try:
            await apply_entry(self.inner, known, entry)
        except StoreUnavailable:
            raise
        except Exception as exc:  # a poisoned entry: set aside, the rest goes on
            lost = entry.get("id") in self._lost
            if entry.get("op") == "open":
                self._lost.add(int(entry.get("provisional", 0)))
            elif isinstance(entry.get("id"), int) and entry["id"] in known:
                entry = {**entry, "id": known[entry["id"]]}
            await self._bury(entry, entry.get("id", entry.get("provisional", "?")),
                             _reason(exc), counted=not lost)
            return
        new = {k: v for k, v in known.items() if k not in self._ids}
        ids.update(new)
        self._ids.update(new)

    async def keep_replaying(self, every_s: float = 2.0, sleep: Sleep = asyncio.sleep) -> None:
        while True:
            await sleep(every_s)
            if self.pending:
                await self.replay()
