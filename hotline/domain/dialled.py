"""Why a dial reached nobody (an emergency line, a unit, a colleague, a seat): what the record
and the wallboard say, from the PBX's hangup cause (ITU-T Q.850) where it gave one."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DialFailure(enum.StrEnum):
    UNANSWERED = "unanswered"  # it rang until the time ran out, or nobody picked up
    BUSY = "busy"  # engaged, or the far end rejected the call
    UNREACHABLE = "unreachable"  # no route, not registered, out of order, congestion
    NOT_ORIGINATED = "not_originated"  # the PBX refused to place the call at all
    HUNG_UP = "hung_up"  # answered, then hung up before the brief was done


_UNANSWERED = frozenset({0, 16, 18, 19})  # unknown, normal clearing, no user responding/answer
_BUSY = frozenset({17, 21})  # user busy, call rejected


@dataclass(frozen=True)
class NotReached:
    why: DialFailure
    cause: int | None = None  # the hangup cause the PBX gave (Q.850), if it gave one

    @classmethod
    def by_cause(cls, cause: int) -> NotReached:
        """A ringing channel that ended unanswered with this hangup cause."""
        why = DialFailure.UNANSWERED if cause in _UNANSWERED else \
            DialFailure.BUSY if cause in _BUSY else DialFailure.UNREACHABLE
        return cls(why, cause)

    def event(self) -> dict[str, object]:
        """The reason as the record's event data has it."""
        return {"reason": self.why.value, **({} if self.cause is None else
                                             {"cause": self.cause})}
