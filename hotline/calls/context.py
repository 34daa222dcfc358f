"""The call flow's settings and the state it keeps for one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hotline.domain.call_machine import CallMachine
from hotline.domain.seats import Seat
from hotline.ports import CallLeg


@dataclass(frozen=True)
class FlowSettings:
    ring_on_s: float = 1.0
    ring_off_s: float = 4.0
    ring_budget: int = 3
    silence_prompt_s: float = 3.0  # no speech this long: the caller is silent (004: ~3 s)
    seat_ring_s: float = 5.0
    seat_fault_offer_s: float = 15.0
    transfer_ring_s: float = 20.0  # how long a transfer target (department, colleague) rings
    listen_s: float = 8.0  # how long an answer to a question may take
    message_silence_s: float = 3.0  # a pause this long ends the words taken down
    digits_pause_s: float = 2.0  # a callback number said in groups: a pause this long ends it
    keep_alive_s: float = 3.0  # words still being recognised this long: the keep-alive phrase
    node: str = ""
    seat_proxy: str = ""  # the cluster's SIP proxy: seats are rung through it


@dataclass
class SeatLeg:
    """An operator seat that answered, and its channel."""

    seat: Seat
    leg: CallLeg
    answered_at: datetime

    @property
    def job_number(self) -> str:
        return self.seat.job_number


@dataclass
class CallContext:
    """What the seat steps share with the session: the caller, the record, the machine,
    and the seat in conversation (released by the session if the call ends meanwhile)."""

    leg: CallLeg
    record_id: int
    machine: CallMachine = field(default_factory=CallMachine)
    seat: SeatLeg | None = None
