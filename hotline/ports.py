"""Typed ports between the call logic and the outside world (ARI, the database, Vosk).

The call flow sees only these Protocols; adapters in hotline.ari, hotline.store and
hotline.speech implement them, and fakes implement them in unit tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from hotline.domain.calls import NewCall
from hotline.domain.dialled import NotReached
from hotline.domain.seats import Seat

if TYPE_CHECKING:
    from hotline.calls.commands import TransferRequest
    from hotline.directory.index import SearchResult
    from hotline.directory.records import Entry
    from hotline.domain.tickets import NewTicket, TicketKind


class Clock(Protocol):
    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


class CallLeg(Protocol):
    """One caller (or operator) channel. Every await raises LegGone once it is gone
    (CallerGone on the caller's own leg)."""

    @property
    def id(self) -> str: ...
    @property
    def caller(self) -> str:
        """Digits and a leading +, at most 32, or 'anonymous' (domain/caller_id.py)."""
        ...
    @property
    def rejected_caller(self) -> str | None:
        """The raw caller ID, escaped, when it was not a number; else None."""
        ...
    @property
    def called(self) -> str: ...
    @property
    def gone(self) -> bool: ...

    async def ring(self) -> None: ...
    async def ring_stop(self) -> None: ...
    async def answer(self) -> None: ...
    async def detect_talk(self) -> None:
        """Tell when the caller starts and stops talking (wait_speech, barge-in)."""
        ...
    async def play(self, media: Sequence[str], *, interruptible: bool = False) -> bool:
        """Play the media in order; True if the caller interrupted (DTMF or speech)."""
        ...
    async def collect_dtmf(self, timeout_s: float, max_digits: int = 1) -> str: ...
    async def wait_speech(self, timeout_s: float) -> bool:
        """True as soon as the caller starts talking, False after timeout_s of silence."""
        ...
    async def pause(self, seconds: float) -> None: ...
    async def record_message(self, name: str, max_s: float,
                             silence_s: float) -> tuple[float, bool]:
        """Record the caller under ``name`` until a pause of silence_s, # or
        max_s: (seconds kept, whether the caller hung up meanwhile)."""
        ...
    async def wait_gone(self, timeout_s: float | None) -> bool: ...
    async def end_cause(self, timeout_s: float) -> int:
        """The Q.850 cause the leg ended with; 0 if not known within timeout_s."""
        ...
    async def hangup(self) -> None: ...


class Prompts(Protocol):
    async def media(self, phrase_id: str, **values: str) -> str: ...
    async def tone(self) -> str:
        """The tone after which the caller speaks (提示音)."""
        ...


class Telephony(Protocol):
    """PBX-wide operations: reaching operator seats, bridging, transfers."""

    async def dial(self, endpoint: str, timeout_s: float,
                   caller_id: str = "") -> CallLeg | NotReached:
        """Ring an endpoint; the answered leg, or why it was not reached (no answer in
        time, busy, unreachable with the PBX's cause, or not originated at all). Cancelling
        the dial hangs the ringing channel up."""
        ...
    async def bridge(self, legs: Sequence[CallLeg]) -> str: ...
    async def unbridge(self, bridge_id: str) -> None: ...


class SeatBoard(Protocol):
    """Which operator seats may be offered a call, and which are talking now."""

    async def offer_order(self, exclude: Sequence[str] = ()) -> list[Seat]: ...
    async def take(self, job_number: str) -> bool:
        """Mark the seat busy (claimed for this node); False if it already was, here or on
        another node."""
        ...
    async def release(self, job_number: str) -> None: ...
    async def record_call(self, job_number: str, at: datetime) -> None: ...


class Utterance(Protocol):
    """A transcript segment: partial while the caller talks, then final."""

    @property
    def text(self) -> str: ...
    @property
    def final(self) -> bool: ...
    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...


OnSegment = Callable[[Utterance], Awaitable[None]]


class Recognizer(Protocol):
    """Speech to text, one stream per call. ``available`` is False without a model."""

    available: bool

    async def attach(self, leg: CallLeg, on_segment: OnSegment | None = None,
                     hint: str = "") -> None:
        """Start hearing the caller (at answer); segments go to on_segment as they come;
        ``hint``: what the first words are expected to be (until a listen says otherwise)."""
        ...
    async def detach(self, leg: CallLeg) -> None: ...
    async def listen(self, leg: CallLeg, timeout_s: float, hint: str = "") -> str:
        """What the caller said since the last answer was taken, or '' after timeout_s of
        silence. ``hint``: the words the step expects (a recogniser's bias)."""
        ...
    def decoding(self, leg: CallLeg) -> bool:
        """The caller's words have ended and are still being recognised."""
        ...
    def faint(self, leg: CallLeg) -> bool:
        """Since the last ask the caller was heard only faintly: too quiet to make out."""
        ...
    def words_ended(self, leg: CallLeg) -> float | None:
        """When (time.perf_counter) the caller's audio of the words the last listen
        returned ended, as it arrived here; None when nothing was heard yet."""
        ...


class Recorder(Protocol):
    """Call recording: both directions of a caller's channel, kept under ``name``."""

    async def start(self, channel_id: str, name: str) -> Any: ...
    async def stop(self, handle: Any) -> None: ...


class SpeechTap(Protocol):
    """The caller's audio, as little-endian 16-bit PCM at ``rate``, until closed."""

    async def open(self, channel_id: str, rate: int,
                   on_audio: Callable[[bytes], None]) -> Any: ...
    async def close(self, tap: Any) -> None: ...


class Directory(Protocol):
    """The enterprise directory as the lookup dialogue sees it (searches run off the loop)."""

    async def lookup(self, text: str) -> SearchResult: ...
    async def related(self, entry: Entry) -> list[Entry]: ...


class Requests(Protocol):
    """What the console asks of a call in conversation (the warm transfer)."""

    def open(self, call_id: int) -> None: ...
    async def next(self, call_id: int) -> TransferRequest: ...
    def forget(self, call_id: int) -> None: ...


class TicketStore(Protocol):
    """Tickets as the call writes them: opened on the caller's behalf, with deadlines from
    the work calendar."""

    def due(self, kind: TicketKind, now: datetime) -> datetime: ...
    async def open(self, new: NewTicket, now: datetime) -> int: ...


class CallStore(Protocol):
    """The call records (first-question records) as the call flow writes them."""

    async def open_call(self, call: NewCall) -> int: ...
    async def update_call(self, call_id: int, **fields: Any) -> None: ...
    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None) -> None: ...
    async def ping(self) -> None: ...
