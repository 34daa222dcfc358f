"""Live monitoring of a call by a supervisor (listen, whisper, barge): the modes and the
session's state machine. Pure: the ARI side is hotline/monitor/.

States (each event has a guard; an event in the wrong state is an IllegalMonitorStep):

    dialling ──answered──▶ connecting ──connected──▶ active ──switch──▶ switching ──▶ active
        │                      │                       │                    │
        └──────────────────────┴──── ending (any party gone, stop) ◀────────┘ ──▶ ended

``ending`` is reachable from every state but ``ended``; ``end`` only from ``ending``, so
whatever happens the session passes through its release step exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    LISTEN = "listen"  # the supervisor hears both sides; nobody hears the supervisor
    WHISPER = "whisper"  # ... and the operator hears the supervisor; the caller does not
    BARGE = "barge"  # the supervisor is in the call's bridge: three-way



@dataclass(frozen=True)
class SnoopSpec:
    """What an ARI snoop on the operator's leg carries: ``spy`` the audio the supervisor
    hears, ``whisper`` where the supervisor's audio goes ("out": to the operator only)."""

    spy: str
    whisper: str


SNOOPS = {Mode.LISTEN: SnoopSpec(spy="both", whisper="none"),
          Mode.WHISPER: SnoopSpec(spy="both", whisper="out")}


def snoop_for(mode: Mode) -> SnoopSpec | None:
    """The snoop a mode needs (None: barge needs none, the supervisor is in the bridge)."""
    return SNOOPS.get(mode)


class MonitorState(StrEnum):
    DIALLING = "dialling"  # the supervisor's phone rings
    CONNECTING = "connecting"  # answered: the snoop or the bridge is being set up
    ACTIVE = "active"
    SWITCHING = "switching"  # from one mode to another
    ENDING = "ending"  # releasing the snoop, the supervisor's leg, the bridge
    ENDED = "ended"


class IllegalMonitorStep(Exception):
    def __init__(self, event: str, state: MonitorState) -> None:
        super().__init__(f"{event} in state {state.value}")
        self.event, self.state = event, state


@dataclass
class MonitorMachine:
    mode: Mode
    state: MonitorState = MonitorState.DIALLING
    ended_by: str = ""  # supervisor, caller, operator, snoop, stop, failed
    modes: list[Mode] = field(default_factory=list)  # every mode the session was in

    def _guard(self, event: str, *allowed: MonitorState) -> None:
        if self.state not in allowed:
            raise IllegalMonitorStep(event, self.state)

    def answered(self) -> None:
        self._guard("answered", MonitorState.DIALLING)
        self.state = MonitorState.CONNECTING

    def connected(self) -> None:
        self._guard("connected", MonitorState.CONNECTING, MonitorState.SWITCHING)
        self.state = MonitorState.ACTIVE
        if not self.modes or self.modes[-1] is not self.mode:
            self.modes.append(self.mode)

    def switch(self, mode: Mode) -> Mode:
        """Begin the switch to ``mode``; the mode it leaves."""
        self._guard("switch", MonitorState.ACTIVE)
        if mode is self.mode:
            raise IllegalMonitorStep(f"switch to {mode.value} (already)", self.state)
        before, self.mode = self.mode, mode
        self.state = MonitorState.SWITCHING
        return before

    def gone(self, who: str) -> bool:
        """A party hung up, the supervisor stopped, or a step failed: True the first time
        (the session then releases what it holds), False if it was already ending."""
        if self.state in (MonitorState.ENDING, MonitorState.ENDED):
            return False
        self.state = MonitorState.ENDING
        self.ended_by = who
        return True

    def end(self) -> None:
        self._guard("end", MonitorState.ENDING)
        self.state = MonitorState.ENDED

    @property
    def live(self) -> bool:
        return self.state not in (MonitorState.ENDING, MonitorState.ENDED)
