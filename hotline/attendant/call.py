"""One call as the attendant's scripts see it: the caller's dialogue, the state machine, and
the ports for what the attendant does on the caller's behalf."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.attendant.port import Dialogue, Lookup, Operators, Record, Tickets, Transfers
from hotline.domain.call_machine import CallMachine


@dataclass(frozen=True)
class AttendantSettings:
    job_number: str = "9000"
    goodbye_pause_s: float = 2.0  # 004: pause two seconds before hanging up a silent line
    caller_hangup_wait_s: float = 5.0  # 003: wait for the caller to hang up first
    rating_wait_s: float = 6.0
    keep_alive_s: float = 3.0  # a search slower than this gets the keep-alive phrase, again
    attempts: int = 2  # how often a lookup is asked again before a person or a callback
    message_max_s: float = 60.0  # the longest words taken down for a callback
    apology_after_rings: int = 5  # 003: more rings than this, apologise first
    # the dial string of each emergency line (110/119/120/122); a line without one: the
    # caller is told to dial it directly
    emergency_lines: dict[str, str] = field(default_factory=dict)
    out_of_scope: tuple[str, ...] = ("推销", "贷款", "彩票", "股票")  # not ours (configured)
    digits_wait_s: float = 15.0  # a callback number keyed or spoken
    nuisance_turns: int = 2  # unrelated or abusive turns before the nuisance prompt
    recording_notice: bool = False  # the call is recorded: say so before the opening (PIPL)


@dataclass
class AttendantCall:
    d: Dialogue
    machine: CallMachine
    record: Record
    tickets: Tickets
    settings: AttendantSettings
    directory: Lookup | None = None
    operators: Operators | None = None  # None: no seats on this channel (text)
    transfers: Transfers | None = None  # None: nobody can be put through (text)
    caller: str = ""  # the calling number (the brief to an emergency line, a callback)
