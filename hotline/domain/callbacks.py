"""The missed-call callback list (漏接回拨, 国办函〔2025〕66号): which calls were missed, and
when a caller's entry is cleared. Pure rules over facts the store reads; no I/O.

A call is missed when the caller got nothing from the line:
- they hung up while ringing (no answer yet: the record has no ``answered_at``);
- they hung up during the greeting (answered, the disposition ``abandoned``, nothing said
  to them but the greeting, and no matter asked: they left in the ``answered``,
  ``greeting`` or ``listening`` state; the end of the opening and a hangup over it arrive
  in either order, so the moment right after the opening counts as during it);
- the controller was down and the dialplan apologised (disposition ``unattended``).

A caller's missed calls make one entry, from the first missed call after the last time the
caller was reached. The entry is cleared when the caller is reached by a callback (an
attempt whose outcome is ``reached``), or calls back and gets through (a later call that
was answered and is not itself missed). A withheld number cannot be called back: no entry.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from hotline.domain.calls import Disposition, caller_number


class MissedReason(enum.StrEnum):
    RINGING = "ringing"  # hung up while ringing
    GREETING = "greeting"  # hung up during the greeting
    UNATTENDED = "unattended"  # the controller was down: the dialplan apologised


class Outcome(enum.StrEnum):
    """How one callback attempt ended."""

    PENDING = "pending"  # the operator's phone or the person's is ringing, or they talk
    REACHED = "reached"  # the person answered: they talked
    NO_ANSWER = "no_answer"  # the person's phone rang out, was busy or unreachable
    SEAT_NO_ANSWER = "seat_no_answer"  # the operator's own phone did not answer
    SEAT_LEFT = "seat_left"  # the operator hung up before the person answered
    FAILED = "failed"  # the PBX refused the call (no trunk, a fault)


FINAL = frozenset(Outcome) - {Outcome.PENDING}
LEFT_EARLY = frozenset({"answered", "greeting", "listening"})  # CallState: before a matter
GREETING_PHRASES = frozenset({"recording_notice", "opening", "opening_after_wait"})


def missed_reason(disposition: str | None, answered: bool, left_in: str = "",
                  beyond_greeting: bool = False) -> MissedReason | None:
    """Why a closed call is on the callback list, or None if the caller got through.
    ``beyond_greeting``: something other than the greeting was said to the caller."""
    if disposition == Disposition.UNATTENDED:
        return MissedReason.UNATTENDED
    if disposition != Disposition.ABANDONED:
        return None
    if not answered:
        return MissedReason.RINGING
    early = left_in in LEFT_EARLY and not beyond_greeting
    return MissedReason.GREETING if early else None


@dataclass(frozen=True)
class ClosedCall:
    """What the list needs of a closed call record."""

    id: int
    caller: str
    arrived_at: datetime
    disposition: str | None
    answered: bool
    left_in: str = ""  # the state the caller hung up in (a ``caller_left`` event), if known
    beyond_greeting: bool = False  # a phrase other than the greeting was said to them


@dataclass(frozen=True)
class Attempt:
    id: int
    number: str
    started_at: datetime
    outcome: str
    by: str
    missed_id: int | None = None
    ended_at: datetime | None = None


@dataclass
class Entry:
    """One caller to call back: ``id`` is their first missed call of the open run."""

    id: int
    number: str
    first_at: datetime
    last_at: datetime
    reasons: list[MissedReason] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return len(self.calls)


@dataclass(frozen=True)
class Cleared:
    """A caller's entry was cleared: ``how`` is ``reached`` (an attempt) or ``called_back``."""

    entry_id: int
    number: str
    at: datetime
    how: str
    ref: int  # the attempt, or the call that got through


def callback_list(calls: Iterable[ClosedCall], attempts: Iterable[Attempt]
                  ) -> tuple[list[Entry], list[Cleared]]:
    """The open entries (the oldest first) and the cleared ones, from the closed calls of a
    window and the attempts made in it. Each caller's facts are taken in time order."""
    facts: dict[str, list[tuple[datetime, int, ClosedCall | Attempt]]] = {}
    for c in calls:
        number = caller_number(c.caller)
        if number is not None:
            facts.setdefault(number, []).append((c.arrived_at, 0, c))
    for a in attempts:
        number = caller_number(a.number)
        if number is not None:
            facts.setdefault(number, []).append((a.started_at, 1, a))
    open_entries: list[Entry] = []
    cleared: list[Cleared] = []
    for number, items in facts.items():
        entry: Entry | None = None
        for at, _, fact in sorted(items, key=lambda f: (f[0], f[1], f[2].id)):
            if isinstance(fact, Attempt):
                if entry is None:
                    continue  # a call made from a ticket: no missed call to clear
                entry.attempts.append(fact)
                if fact.outcome == Outcome.REACHED:
                    cleared.append(Cleared(entry.id, number, at, "reached", fact.id))
                    entry = None
                continue
            reason = missed_reason(fact.disposition, fact.answered, fact.left_in,
                                   fact.beyond_greeting)
            if reason is None:
                if entry is not None and fact.answered:
                    cleared.append(Cleared(entry.id, number, at, "called_back", fact.id))
                    entry = None
                continue
            if entry is None:
                entry = Entry(fact.id, number, at, at)
            entry.last_at = at
            entry.calls.append(fact.id)
            if reason not in entry.reasons:
                entry.reasons.append(reason)
        if entry is not None:
            open_entries.append(entry)
    open_entries.sort(key=lambda e: (e.first_at, e.id))
    return open_entries, cleared
