"""The attendant's call flow on the phone: each call is one CallSession (calls/session.py)
running the phrasebook's scripts (hotline/attendant) over the phone's dialogue port."""

from __future__ import annotations

from hotline.calls.session import CallDeps, CallSession
from hotline.ports import CallLeg

__all__ = ["CallDeps", "CallFlow"]


class CallFlow:
    def __init__(self, deps: CallDeps) -> None:
        self.deps = deps

    async def run(self, leg: CallLeg) -> None:
        await CallSession(self.deps, leg).run()

    async def end_adopted(self, leg: CallLeg) -> None:
        """A call found up after a restart: where it was in the script is lost, so the caller
        hears the seat-fault apology and the call ends; its record says so."""
        await CallSession(self.deps, leg).run(adopted=True)
