"""The call state machine: the script's states, its events as methods, and the disposition
derived from what happened (never assigned by hand).

Each method is an event of the script (wazo-calld's transfer state classes are the model). A
method checks that the event may happen in the current state and moves on; anything else is
an ``IllegalTransition``, a bug in the script, not something to paper over with self-loops.

What the call achieved is kept as facts: the outcome of each matter served, why the
attendant gave up on a line (a silent one), whether a fault ended it. The
disposition is computed from them when the call ends.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hotline.domain.calls import Disposition


class CallState(enum.StrEnum):
    ARRIVED = "arrived"  # the record exists; nothing said yet
    RINGING = "ringing"  # the caller hears the ring while seats are offered
    OFFERED = "offered"  # an operator seat is ringing
    ANSWERED = "answered"
    GREETING = "greeting"
    LISTENING = "listening"  # waiting for the caller's matter
    SERVING = "serving"  # the attendant serves a matter (lookup, callback...)
    TALKING = "talking"  # bridged to an operator
    TRANSFERRING = "transferring"  # the caller waits while a unit or a line rings
    CONNECTED = "connected"  # the caller talks to the unit put through
    TAKING = "taking"  # the caller's words are taken down for a callback
    CLOSING = "closing"  # anything else? rating, goodbye
    ENDED = "ended"


class Matter(enum.StrEnum):
    """What the caller asked for, as far as the attendant serves it."""

    LOOKUP = "lookup"
    CALLBACK = "callback"  # taken down for a callback (nobody to serve it now)
    PERSON = "person"  # asked for an operator
    MESSAGE = "message"  # a message left for someone (短信留言)
    COMPLAINT = "complaint"  # a complaint or a report (投诉/举报)
    EMERGENCY = "emergency"  # put through to 110/119/120/122 at once
    OUT_OF_SCOPE = "out_of_scope"  # not this hotline's matter


CATEGORY = {Matter.LOOKUP: "查询", Matter.CALLBACK: "留言", Matter.PERSON: "咨询",
            Matter.MESSAGE: "留言", Matter.COMPLAINT: "投诉", Matter.EMERGENCY: "求助",
            Matter.OUT_OF_SCOPE: "咨询"}


class Served(enum.StrEnum):
    """How one matter ended."""

    RESOLVED = "resolved"  # a number read and accepted, a transfer answered, an operator
    REFERRED = "referred"  # handed on: a referral ticket, the directory keepers' list
    CALLBACK = "callback"  # a callback ticket
    MESSAGE = "message"  # a message ticket
    COMPLAINT = "complaint"  # a complaint ticket


class GaveUp(enum.StrEnum):
    """Why the attendant ended a line on which nothing could be served."""

    SILENT = "silent"
    LOW_VOLUME = "low_volume"  # speech heard, too quiet to make out (004 篇10 3、声音小)
    NUISANCE = "nuisance"  # unrelated or abusive turns after the prompt (004 篇10 9、)
    OUT_OF_SCOPE = "out_of_scope"  # not ours: said so, and goodbye (004 篇10)
    FAULT = "fault"  # a real fault: the seat's channel or the PBX failed


# The more a matter commits the centre, the more it says about the call (a callback owed
# says more than a number read out).
_WEIGHT = {Served.COMPLAINT: 5, Served.MESSAGE: 4, Served.CALLBACK: 3, Served.REFERRED: 2,
           Served.RESOLVED: 1}
_DISPOSITION = {Served.CALLBACK: Disposition.CALLBACK, Served.REFERRED: Disposition.REFERRED,
                Served.RESOLVED: Disposition.RESOLVED, Served.MESSAGE: Disposition.MESSAGE,
                Served.COMPLAINT: Disposition.COMPLAINT}
_GAVE_UP = {GaveUp.SILENT: Disposition.SILENT, GaveUp.FAULT: Disposition.FAILED,
            GaveUp.LOW_VOLUME: Disposition.LOW_VOLUME, GaveUp.NUISANCE: Disposition.NUISANCE,
            GaveUp.OUT_OF_SCOPE: Disposition.OUT_OF_SCOPE}
MAX_MATTERS = 3  # "还有其它问题吗？": up to three matters in one call

S = CallState


class IllegalTransition(Exception):
    """A script bug: an event that cannot happen in the current state."""

    def __init__(self, event: str, state: CallState) -> None:
        self.event, self.state = event, state
        super().__init__(f"event {event} cannot happen in state {state}")


@dataclass
class CallMachine:
    state: CallState = S.ARRIVED
    answered_by: str = ""
    matters: list[Matter] = field(default_factory=list)
    outcomes: list[Served] = field(default_factory=list)
    gave_up: GaveUp | None = None
    caller_left_in: CallState | None = None  # where the caller was when they hung up
    emergency_line: str = ""  # the emergency line dialled (110/119/120/122), once one was
    remarks_answered: bool = False  # the caller only remarked, was answered, asked nothing

    def _go(self, event: str, allowed: set[CallState], new: CallState) -> None:
        if self.state not in allowed:
            raise IllegalTransition(event, self.state)
        self.state = new

    # -- reaching the caller ------------------------------------------------------------------
    def ring(self) -> None:
        self._go("ring", {S.ARRIVED}, S.RINGING)

    def offer_seat(self) -> None:
        """A seat rings: within the ring budget, for a handover, or after a seat fault."""
        self._go("offer_seat", {S.RINGING, S.LISTENING, S.SERVING, S.TALKING}, S.OFFERED)

    def seat_unanswered(self) -> None:
        """The seat did not answer: the ring goes on, or the attendant goes on serving."""
        self._go("seat_unanswered", {S.OFFERED},
                 S.RINGING if not self.answered_by else S.SERVING)

    def answer(self, job_number: str) -> None:
        if self.answered_by:
            raise IllegalTransition("answer", self.state)
        self._go("answer", {S.ARRIVED, S.RINGING, S.OFFERED}, S.ANSWERED)
        self.answered_by = job_number

    def greet(self) -> None:
        self._go("greet", {S.ANSWERED}, S.GREETING)

    def bridge_seat(self) -> None:
        """Caller and operator talk: after the greeting, or when a handover seat answers."""
        self._go("bridge_seat", {S.GREETING, S.OFFERED}, S.TALKING)

    # -- the caller's matters -----------------------------------------------------------------
    def listen(self) -> None:
        self._go("listen", {S.GREETING, S.TALKING}, S.LISTENING)

    def matter(self, matter: Matter) -> None:
        """The caller's matter is known (from LISTENING: a new one; while SERVING: the one
        in hand turned out to be another, e.g. a lookup became a request for a person)."""
        new = self.state is S.LISTENING
        self._go("matter", {S.LISTENING, S.SERVING}, S.SERVING)
        if new or not self.matters:
            self.matters.append(matter)
        else:
            self.matters[-1] = matter

    def put_through(self) -> None:
        self._go("put_through", {S.SERVING}, S.TRANSFERRING)

    def emergency(self, line: str) -> None:
        """An emergency: the line is dialled at once, from wherever the caller said it (the
        first words, or in the middle of another matter)."""
        if not line:
            raise IllegalTransition("emergency without a line", self.state)
        new = self.state is S.LISTENING
        self._go("emergency", {S.LISTENING, S.SERVING}, S.TRANSFERRING)
        if new or not self.matters:
            self.matters.append(Matter.EMERGENCY)
        else:
            self.matters[-1] = Matter.EMERGENCY
        self.emergency_line = line

    def connected(self) -> None:
        """The unit answered: the caller's matter is served by them."""
        self._go("connected", {S.TRANSFERRING}, S.CONNECTED)

    def not_connected(self) -> None:
        self._go("not_connected", {S.TRANSFERRING}, S.SERVING)

    def take_down(self) -> None:
        """The caller's words are recorded for a callback."""
        self._go("take_down", {S.LISTENING, S.SERVING}, S.TAKING)
        if not self.matters or self.matters[-1] is not Matter.CALLBACK:
            self.matters.append(Matter.CALLBACK)

    def served(self, outcome: Served) -> None:
        """The matter in hand is done; 'anything else?' follows."""
        self._go("served", {S.SERVING, S.TAKING, S.TALKING, S.CONNECTED}, S.CLOSING)
        self.outcomes.append(outcome)

    def another_matter(self) -> None:
        """'还有其它问题吗？' - yes: listen again (up to MAX_MATTERS matters)."""
        if len(self.matters) >= MAX_MATTERS:
            raise IllegalTransition("another_matter", self.state)
        self._go("another_matter", {S.CLOSING}, S.LISTENING)

    @property
    def may_take_another(self) -> bool:
        return len(self.matters) < MAX_MATTERS

    def nothing_more(self) -> None:
        """The caller only remarked (thanks, the name asked, a dissatisfaction whose complaint
        they declined), was answered on the line, and has nothing to ask: the rating."""
        self._go("nothing_more", {S.LISTENING}, S.CLOSING)
        self.remarks_answered = True

    def give_up(self, why: GaveUp) -> None:
        """Nothing can be served on this line: say goodbye."""
        if why is GaveUp.FAULT:
            raise IllegalTransition("give_up(fault): use fault()", self.state)
        self._go(f"give_up({why})", {S.LISTENING, S.SERVING, S.TAKING}, S.CLOSING)
        self.gave_up = why

    def fault(self) -> None:
        """A real fault (the PBX, a seat's channel, a bug) ends the script where it was."""
        self._go("fault", set(CallState) - {S.ENDED}, S.CLOSING)
        self.gave_up = self.gave_up or GaveUp.FAULT

    # -- the end ------------------------------------------------------------------------------
    def caller_gone(self) -> None:
        """The caller hung up. Talking to an operator or to the unit put through, their
        matter was handled."""
        if self.state is S.ENDED:
            raise IllegalTransition("caller_gone", self.state)
        self.caller_left_in = self.state
        if self.state in (S.TALKING, S.CONNECTED):
            self.outcomes.append(Served.RESOLVED)
        self.state = S.ENDED

    def end(self) -> None:
        """The call is over (the hotline hung up after goodbye, or the caller had)."""
        self.state = S.ENDED

    @property
    def disposition(self) -> Disposition:
        if self.emergency_line:  # whatever else the call did, it was an emergency
            return Disposition.EMERGENCY
        if self.outcomes:
            return _DISPOSITION[max(self.outcomes, key=_WEIGHT.__getitem__)]
        if self.gave_up is not None:
            return _GAVE_UP[self.gave_up]
        if self.remarks_answered:  # heard and answered: not a caller who gave up
            return Disposition.ANSWERED
        return Disposition.ABANDONED

    @property
    def category(self) -> str:
        """The record's matter (查询/留言…), from what the caller asked first."""
        return CATEGORY[self.matters[0]] if self.matters else ""
