"""A call's record fields, its dispositions, and the call state machine."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Disposition(enum.StrEnum):
    RESOLVED = "resolved"
    REFERRED = "referred"
    CALLBACK = "callback"
    MESSAGE = "message"
    COMPLAINT = "complaint"
    SILENT = "silent"
    NUISANCE = "nuisance"
    ABANDONED = "abandoned"
    OUT_OF_SCOPE = "out_of_scope"
    FAILED = "failed"
    UNATTENDED = "unattended"  # the controller was down: the dialplan answered and apologised


class CallState(enum.StrEnum):
    ARRIVED = "arrived"
    RINGING = "ringing"
    OFFERED = "offered"  # ringing an operator seat
    ANSWERED = "answered"
    GREETING = "greeting"
    LISTENING = "listening"
    SERVING = "serving"  # lookup, message, complaint...
    TALKING = "talking"  # bridged to an operator
    CLOSING = "closing"  # anything else? rating, goodbye
    ENDED = "ended"


_ALLOWED: dict[CallState, set[CallState]] = {
    CallState.ARRIVED: {CallState.RINGING, CallState.ANSWERED},
    CallState.RINGING: {CallState.OFFERED, CallState.ANSWERED},
    CallState.OFFERED: {CallState.OFFERED, CallState.ANSWERED, CallState.TALKING,
                        CallState.LISTENING},
    CallState.ANSWERED: {CallState.GREETING, CallState.TALKING},
    CallState.GREETING: {CallState.LISTENING, CallState.TALKING, CallState.CLOSING},
    CallState.LISTENING: {CallState.SERVING, CallState.TALKING, CallState.CLOSING,
                          CallState.LISTENING},
    CallState.SERVING: {CallState.LISTENING, CallState.TALKING, CallState.CLOSING,
                        CallState.OFFERED},  # speech cannot serve: handed to a seat
    CallState.TALKING: {CallState.CLOSING, CallState.OFFERED, CallState.TALKING,
                        CallState.LISTENING},
    CallState.CLOSING: set(),
    CallState.ENDED: set(),
}


class IllegalTransition(Exception):
    def __init__(self, old: CallState, new: CallState) -> None:
        super().__init__(f"call cannot go from {old} to {new}")


@dataclass
class CallStateMachine:
    state: CallState = CallState.ARRIVED

    def to(self, new: CallState) -> None:
        if new is CallState.ENDED:  # a hangup ends a call from any state
            self.state = new
            return
        if new not in _ALLOWED[self.state]:
            raise IllegalTransition(self.state, new)
        self.state = new


@dataclass(frozen=True)
class NewCall:
    channel_id: str
    caller: str
    called: str
    arrived_at: datetime
    node: str = ""


def rings_elapsed(seconds: float, ring_on_s: float, ring_off_s: float) -> int:
    """How many rings a caller has heard after ``seconds`` of ringing (a ring counts once it
    starts): 0 s -> 0, 0.5 s -> 1, 5.5 s -> 2 at the 1 s on / 4 s off cadence."""
    if seconds <= 0:
        return 0
    cycle = ring_on_s + ring_off_s
    return int(seconds // cycle) + 1


def ring_deadline(ring_budget: int, ring_on_s: float, ring_off_s: float) -> float:
    """Seconds from the start of ringing to the end of ring ``ring_budget``:
    3 rings at 1 s / 4 s -> 11 s."""
    return (ring_budget - 1) * (ring_on_s + ring_off_s) + ring_on_s


# The matter of a call (first-question record), as the supervisors' ledger counts them.
CATEGORIES = ("咨询", "查询", "投诉", "求助", "建议", "表扬", "留言")
