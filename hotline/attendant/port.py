"""The ports the attendant's scripts talk to. The same scripts run over the phone (ARI) and
over the text channel; nothing here knows which.

``Dialogue`` is the caller's side: say a phrase, hear an utterance with the vocabulary the
step expects, collect a digit, take the caller's words down. The other ports are what the
attendant does for the caller: write the record, look the directory up, open tickets, hand
over to an operator, put the caller through.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from hotline.domain.dialled import NotReached
from hotline.domain.tickets import TicketKind

if TYPE_CHECKING:
    from hotline.directory.index import SearchResult
    from hotline.directory.records import Entry


class Expect(enum.StrEnum):
    """What a step expects to hear (a recogniser's vocabulary; the text channel's listen)."""

    FREE = "free"
    YES_NO = "yes_no"
    DISTRICT = "district"
    INDUSTRY = "industry"
    DIGITS = "digits"
    MESSAGE = "message"


@dataclass(frozen=True)
class Heard:
    """What the caller said: ``spoke`` without ``text`` is speech nobody could make out."""

    text: str = ""
    spoke: bool = False

    @classmethod
    def silence(cls) -> Heard:
        return cls()


@dataclass(frozen=True)
class Words:
    """The caller's words taken down for a callback: the recording (phone), its transcript
    (where a recogniser runs) or the typed text (text channel)."""

    recording: str = ""
    seconds: float = 0.0
    text: str = ""
    caller_left: bool = False  # the caller hung up while speaking (the words are kept)

    @property
    def empty(self) -> bool:
        return not self.text.strip() and self.seconds < 1.0


class Dialogue(Protocol):
    """The caller. Every await raises CallerGone once the caller has hung up."""

    @property
    def channel(self) -> str:
        """'phone' or 'text' (on the record)."""
        ...
    @property
    def understands(self) -> bool:
        """Whether the caller's words can be made out (a recogniser runs, or text)."""
        ...

    async def say(self, phrase_id: str, *, interruptible: bool = False, **values: str) -> bool:
        """Say a phrase of the phrasebook; True if the caller interrupted it."""
        ...
    async def hear(self, expect: Expect) -> Heard: ...
    def since_words_ms(self) -> float | None:
        """How long ago the words the last hear returned ended (the caller stopped
        speaking, or their line arrived); None if not known."""
        ...
    async def digit(self, timeout_s: float, max_digits: int = 1, *,
                    or_words: bool = False) -> str:
        """Keys until ``max_digits``, # or ``timeout_s``. ``or_words``: the caller may say
        it instead; words other than a number being said end the wait at once, a number
        said ends at its pause, and either goes to the step's next hear ('' here)."""
        ...
    async def take_down(self, max_s: float) -> Words:
        """After the tone: the caller's words until they stop, press # or ``max_s``."""
        ...
    async def pause(self, seconds: float) -> None: ...
    async def wait_gone(self, timeout_s: float) -> bool: ...
    async def hang_up(self) -> None: ...


class Record(Protocol):
    """The call's first-question record."""

    async def note(self, kind: str, data: dict[str, Any]) -> None: ...
    async def update(self, **fields: Any) -> None: ...


class Lookup(Protocol):
    async def lookup(self, text: str) -> SearchResult: ...
    async def related(self, entry: Entry) -> list[Entry]: ...


@dataclass(frozen=True)
class Opened:
    ticket_id: int
    due_at: datetime


class Tickets(Protocol):
    def due(self, kind: TicketKind) -> datetime:
        """When a ticket of this kind opened now would be due."""
        ...
    async def open(self, kind: TicketKind, summary: str, *, department: str = "",
                   fields: dict[str, Any] | None = None, caller_name: str = "",
                   callback_number: str = "") -> Opened: ...


class Operators(Protocol):
    async def available(self) -> bool:
        """Whether any operator seat is on duty to be offered the caller now."""
        ...
    async def take_over(self) -> bool:
        """Offer the caller to an operator seat. True once an operator has served the call
        (the talk ended normally); False when no seat took it."""
        ...


class Connection(Protocol):
    async def talk(self) -> None:
        """The caller and the unit talk until one hangs up: CallerGone if it is the caller;
        returns when the unit hung up first (the caller is still there)."""
        ...


class Transfers(Protocol):
    async def reach(self, entry: Entry) -> Connection | None:
        """Ring the unit while the caller waits (and is watched); on answer, the unit hears
        the brief. None: nobody answered. The answered leg is released whatever happens."""
        ...
    async def reach_line(self, line: str, dial: str, said: str) -> Connection | NotReached:
        """Dial an emergency line at once (the caller hears the attendant meanwhile, not a
        ring); on answer it hears the brief: the caller's number and ``said``. Else why it
        was not reached: not answered, busy, unreachable (the PBX's cause), not originated,
        or hung up during the brief."""
        ...
