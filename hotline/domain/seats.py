"""Operator seats and the A/B post rule (003 顶岗补位制).

An A post is a seat with no ``backup_of``; its B posts name it in ``backup_of`` and stand in,
in order, when it is away, busy or does not answer. Pure logic: no I/O.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

JOB_NUMBER = re.compile(r"^[0-9]{3,8}$")

# Q.850 causes that mean the operator ended the call on purpose; anything else while the
# caller is still there is a fault at the seat (004 篇10 紧急情况).
NORMAL_CLEARING = frozenset({16})

# An operator's phone: a SIP phone (desk phone or softphone over UDP), or the console's
# WebRTC softphone in the browser.
SIP_PHONE = "sip"
BROWSER_PHONE = "browser"
PHONES = (SIP_PHONE, BROWSER_PHONE)


class DutyState(enum.StrEnum):
    ON_DUTY = "on_duty"
    BREAK = "break"
    OFF = "off"


@dataclass(frozen=True)
class Seat:
    job_number: str
    name: str
    duty: DutyState
    backup_of: str | None = None
    last_call_at: datetime | None = None

    @property
    def is_a_post(self) -> bool:
        return self.backup_of is None


@dataclass(frozen=True)
class SeatConfig:
    """What a seat's PJSIP objects in Asterisk are made of (hotline/seats/provision.py): a
    change to any of it must reach every node's Asterisk; the rest of a seat (its name, its
    duty, its post) is read from the database when a call needs it."""

    job_number: str
    sip_digest: str
    contact: str = ""
    phone: str = SIP_PHONE


def seat_dial(job_number: str, proxy: str) -> str:
    """What a node dials to ring a seat's phone (an operator's for a call, a transfer or a
    callback; a supervisor's to listen in): its own endpoint, or, in a cluster whose phones
    register at the SIP proxy (``proxy`` host:port, HOTLINE_SEAT_PROXY), the seat's endpoint
    sent to the proxy, which finds where the phone registered. The one place a seat's dial
    string is made: a node that dialled ``PJSIP/<job>`` itself would reach a phone registered
    through the proxy only if its REGISTER had been relayed to that node."""
    if not proxy:
        return f"PJSIP/{job_number}"
    return f"PJSIP/{job_number}/sip:{job_number}@{proxy}"


def validate_job_number(value: str) -> str:
    if not JOB_NUMBER.match(value):
        raise ValueError(f"job number {value!r} must be 3 to 8 digits")
    return value


def offer_order(seats: Sequence[Seat], busy: Iterable[str] = (),
                exclude: Iterable[str] = ()) -> list[Seat]:
    """The seats to offer a call to, in order: each A post (the longest idle first) followed
    by its B posts in the order they were added; then B posts whose A post is not listed.
    Only seats on duty, not busy and not excluded are offered."""
    unavailable = set(busy) | set(exclude)
    by_job = {s.job_number: s for s in seats}
    a_posts = sorted((s for s in seats if s.is_a_post or s.backup_of not in by_job),
                     key=_idle_key)
    ordered: list[Seat] = []
    for a in a_posts:
        ordered.append(a)
        ordered.extend(s for s in seats if s.backup_of == a.job_number
                       and not s.is_a_post and s is not a)
    seen: set[str] = set()
    result: list[Seat] = []
    for seat in ordered:
        if seat.job_number in seen:
            continue
        seen.add(seat.job_number)
        if seat.duty is DutyState.ON_DUTY and seat.job_number not in unavailable:
            result.append(seat)
    return result


def _idle_key(seat: Seat) -> tuple[int, float, str]:
    at = seat.last_call_at
    return (0 if at is None else 1, at.timestamp() if at else 0.0, seat.job_number)


def is_seat_fault(cause: int) -> bool:
    """True when an operator leg ended with a cause other than a normal hang-up."""
    return cause not in NORMAL_CLEARING
