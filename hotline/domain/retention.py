"""How long callers' personal data is kept after a record is closed (PIPL 第十九条: no longer
than the purpose needs), and the cut-off dates a sweep works to. Pure: no I/O.

The defaults: recordings 180 days (a complaint about a call, or its review, is raised and
settled within months: the 12345 norms keep recordings at least six months); transcripts
and caller details (number, name, form of address, callback number, the complaint form's
personal fields) 365 days (the follow-up visits and the yearly assessment read them). What
remains of a record after that is the matter and the figures: times, rings, who answered,
disposition, category, summary, rating."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

KINDS = ("recordings", "transcripts", "callers")
DEFAULTS = {"recordings": 180, "transcripts": 365, "callers": 365}
MAX_DAYS = 3650


@dataclass(frozen=True)
class Retention:
    recordings: int = DEFAULTS["recordings"]
    transcripts: int = DEFAULTS["transcripts"]
    callers: int = DEFAULTS["callers"]

    def cutoffs(self, now: datetime) -> Cutoffs:
        return Cutoffs(now - timedelta(days=self.recordings),
                       now - timedelta(days=self.transcripts),
                       now - timedelta(days=self.callers))


@dataclass(frozen=True)
class Cutoffs:
    """Records closed before these times lose that kind of data."""

    recordings: datetime
    transcripts: datetime
    callers: datetime


def parse_retention(text: str) -> Retention:
    """'recordings=180,transcripts=365,callers=365' (any of them; the rest keep their
    defaults), or one number of days for all three. ValueError saying what is wrong."""
    text = text.strip()
    if not text:
        return Retention()
    if text.isdigit():
        days = dict.fromkeys(KINDS, int(text))
    else:
        days = dict(DEFAULTS)
        for part in text.split(","):
            key, sep, value = part.partition("=")
            key = key.strip()
            if not sep or key not in KINDS:
                raise ValueError(f"{part.strip()!r}: expected recordings=N, transcripts=N or "
                                 "callers=N (days), or one number for all")
            if not value.strip().isdigit():
                raise ValueError(f"{key}={value.strip()!r}: not a whole number of days")
            days[key] = int(value)
    for key, n in days.items():
        if not 1 <= n <= MAX_DAYS:
            raise ValueError(f"{key}={n}: between 1 and {MAX_DAYS} days")
    return Retention(**days)
