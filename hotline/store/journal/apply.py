"""Applying one journal entry to the database (the replay, and `hotline journal retry`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from hotline.domain.calls import NewCall
from hotline.store.journal.codec import decode


class Poisoned(Exception):
    """An entry that can never be applied as it is: malformed, or for a record whose opening
    was not written."""


class JournalTarget(Protocol):
    """The CallStore the journal writes to, whose events take an idempotency key."""

    async def open_call(self, call: NewCall) -> int: ...
    async def update_call(self, call_id: int, **fields: Any) -> None: ...
    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None, *, key: str | None = None) -> None: ...
    async def ping(self) -> None: ...


async def apply_entry(inner: JournalTarget, ids: dict[int, int], entry: dict[str, Any]) -> None:
    """Write one entry; an opening adds its provisional id -> record id to ``ids``. Every
    entry may be applied twice: an opening is found again by its channel, an event by its
    key, and an update sets the same values."""
    op = entry.get("op")
    try:
        if op == "open":
            call = NewCall(**decode(entry["call"]))
            ids[int(entry["provisional"])] = await inner.open_call(call)
            return
        if op not in ("update", "event"):
            raise Poisoned(f"unknown journal op {op!r}")
        given = int(entry["id"])
        real = ids.get(given, given)
        if real < 0:
            raise Poisoned(f"record {given} was never opened in the database")
        if op == "update":
            await inner.update_call(real, **decode(entry["fields"]))
            return
        at = datetime.fromisoformat(entry["at"]) if entry.get("at") else None
        key = entry.get("key")
        await inner.add_event(real, str(entry["kind"]), decode(entry["data"]), at,
                              key=str(key) if key else None)
    except (KeyError, TypeError) as exc:
        raise Poisoned(f"malformed journal entry: {type(exc).__name__}: {exc}") from exc
