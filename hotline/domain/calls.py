"""A call's record fields and dispositions (the state machine is in call_machine)."""

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
    LOW_VOLUME = "low_volume"  # heard but too quiet to make out, after asking twice
    EMERGENCY = "emergency"  # put through (or sent) to 110/119/120/122
    NUISANCE = "nuisance"
    ANSWERED = "answered"  # only remarks (thanks, a complaint offered and declined), answered
    ABANDONED = "abandoned"
    OUT_OF_SCOPE = "out_of_scope"
    FAILED = "failed"
    UNATTENDED = "unattended"  # the controller was down: the dialplan answered and apologised


@dataclass(frozen=True)
class NewCall:
    channel_id: str
    caller: str
    called: str
    arrived_at: datetime
    node: str = ""
    channel: str = "phone"  # or "text": the attendant's text channel


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


_SEPARATORS = str.maketrans("", "", " -().\u00a0\u3000")


def caller_number(raw: str) -> str | None:
    """The caller's number as calls are matched on it (the desk's earlier calls, a person's
    privacy request): separators dropped, China's +86/0086 prefix too; None for a withheld,
    anonymous or malformed one (letters, fewer than 3 digits, all zeros, more than 32), which
    matches no one."""
    number = raw.strip().translate(_SEPARATORS)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    digits = number[1:] if number.startswith("+") else number
    if not digits.isascii() or not digits.isdigit() or not 3 <= len(digits) <= 32:
        return None
    return None if set(digits) == {"0"} else number


def caller_forms(number: str) -> list[str]:
    """The forms one normalised number may have been stored in (as given, +86, 0086)."""
    if number.startswith("+"):
        return [number]
    return [number, "+86" + number, "0086" + number]
