"""Caller IDs as they arrive from the network: validated and normalised before anything
else sees them (the record, the seat's phone, the console, the logs).

A caller ID is digits with at most one leading ``+``, 32 characters at most, after the
visual separators of RFC 3966 (space, ``-``, ``.``, ``(``, ``)``) are dropped. Anything else
is recorded as ``anonymous``; the raw value is kept, escaped, for a call event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANONYMOUS = "anonymous"
MAX_LENGTH = 32
RAW_KEPT = 256  # of a rejected value, this many characters go into the event
_SEPARATORS = str.maketrans("", "", " -.()")
_VALID = re.compile(r"\+?[0-9]+")
# what a network says when the caller withheld the number: no event for these
_WITHHELD = {"", "anonymous", "unknown", "restricted", "private", "unavailable"}


@dataclass(frozen=True)
class CallerId:
    number: str  # the normalised number, or "anonymous"
    rejected: str | None = None  # the raw value, escaped, when it was not a number

    @property
    def anonymous(self) -> bool:
        return self.number == ANONYMOUS


def normalise_caller(raw: str) -> CallerId:
    """'+86 139-0000-0001' -> +8613900000001; a 200-character or lettered value ->
    anonymous, with the raw escaped; an empty or withheld one -> anonymous."""
    if raw.strip().lower() in _WITHHELD:
        return CallerId(ANONYMOUS)
    number = raw.strip().translate(_SEPARATORS)
    if len(number) <= MAX_LENGTH and _VALID.fullmatch(number):
        return CallerId(number)
    return CallerId(ANONYMOUS, escape_raw(raw))


def can_call_back(number: str) -> bool:
    """Whether a caller's number on the record is one to call back (not withheld, not the
    text channel's name for its caller)."""
    return bool(_VALID.fullmatch(number))


def escape_raw(raw: str) -> str:
    """Printable ASCII as is (a backslash doubled); anything else as a Python escape
    (\\n, \\x00, \\u4e2d), so the value can be shown or logged without harm. Longer values
    keep their first RAW_KEPT characters and say how long they were."""
    out: list[str] = []
    for ch in raw[:RAW_KEPT]:
        if ch == "\\":
            out.append("\\\\")
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    text = "".join(out)
    if len(raw) > RAW_KEPT:
        text += f"...({len(raw)} characters)"
    return text
