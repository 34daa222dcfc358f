"""The call flow's settings and the state it keeps for one call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.calls import CallStateMachine, Disposition
from hotline.domain.seats import Seat
from hotline.ports import CallLeg


@dataclass(frozen=True)
class FlowSettings:
    attendant_job_number: str = "9000"
    ring_on_s: float = 1.0
    ring_off_s: float = 4.0
    ring_budget: int = 3
    apology_after_rings: int = 5
    silence_prompt_s: float = 3.0
    goodbye_pause_s: float = 2.0
    caller_hangup_wait_s: float = 5.0
    rating_wait_s: float = 6.0
    seat_ring_s: float = 5.0
    seat_fault_offer_s: float = 15.0
    transfer_ring_s: float = 20.0  # how long a transfer target (department, colleague) rings
    node: str = ""


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
    leg: CallLeg
    record_id: int = 0
    machine: CallStateMachine = field(default_factory=CallStateMachine)
    answered: bool = False
    ring_started: float = 0.0
    disposition: Disposition | None = None
    seat: SeatLeg | None = None
    updates: dict[str, Any] = field(default_factory=dict)
    hearing: asyncio.Future[None] | None = None  # the recogniser attaching to the caller
    recording: asyncio.Future[Any] | None = None  # the recorder starting (its handle)
