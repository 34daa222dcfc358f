"""Ringing another party while the caller waits: the one dial path of every transfer (a seat,
a colleague, a unit, later an emergency line). The caller is watched meanwhile; a caller who
hangs up cancels the dial, and the ringing channel is hung up by the Telephony port."""

from __future__ import annotations

import asyncio
import contextlib

from hotline.domain.dialled import DialFailure, NotReached
from hotline.errors import CallerGone, LegGone, TelephonyError
from hotline.ports import CallLeg, Prompts, Telephony


async def brief(prompts: Prompts, leg: CallLeg, organisation: str,
                phrase: str = "transfer_brief", **values: str) -> None:
    """003: the receiving side hears who is being put through before the caller is."""
    if organisation:
        values["organisation"] = organisation
    await leg.play([await prompts.media(phrase, **values)])


async def hang_up_quietly(leg: CallLeg) -> None:
    """End a leg that may be gone already; what cannot be helped is left to reconciliation."""
    with contextlib.suppress(TelephonyError, LegGone):
        await leg.hangup()


async def dial_while_caller_waits(telephony: Telephony, caller: CallLeg, endpoint: str,
                                  timeout_s: float) -> CallLeg | NotReached:
    """The answered leg, or why nobody answered. Raises CallerGone."""
    task = asyncio.ensure_future(telephony.dial(endpoint, timeout_s, caller_id=caller.caller))
    gone = asyncio.ensure_future(caller.wait_gone(None))
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled() or not task.done():
        raise CallerGone(caller.id)
    return task.result()


async def put_through(telephony: Telephony, prompts: Prompts, caller: CallLeg, endpoint: str,
                      ring_s: float, organisation: str = "",
                      brief_with: tuple[str, dict[str, str]] | None = None,
                      ) -> CallLeg | NotReached:
    """The one transfer, for every kind (a unit for the attendant, a colleague or a
    department for an operator): ring while the caller waits and is watched; a unit
    (``organisation``) hears the brief before anyone is bridged. The answered leg, or why
    it was not reached (the dial's reason, or ``hung_up`` during the brief). ``brief_with``:
    another brief (a phrase and its values: the emergency brief). The leg is ended here if
    anything fails before it is handed back. Raises CallerGone."""
    other = await dial_while_caller_waits(telephony, caller, endpoint, ring_s)
    if isinstance(other, NotReached):
        return other
    try:
        if brief_with is not None:
            await brief(prompts, other, "", brief_with[0], **brief_with[1])
        elif organisation:
            await brief(prompts, other, organisation)
    except LegGone:
        return NotReached(DialFailure.HUNG_UP)
    except BaseException:
        await asyncio.shield(hang_up_quietly(other))
        raise
    return other


async def talk_until_one_leaves(telephony: Telephony, caller: CallLeg, other: CallLeg) -> None:
    """Bridge the two; return when ``other`` hangs up, raise CallerGone when the caller does.
    The bridge is always taken down."""
    bridge = await telephony.bridge([caller, other])
    try:
        caller_gone = asyncio.ensure_future(caller.wait_gone(None))
        other_gone = asyncio.ensure_future(other.wait_gone(None))
        try:
            await asyncio.wait({caller_gone, other_gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            caller_gone.cancel()
            other_gone.cancel()
        if caller.gone:
            raise CallerGone(caller.id)
    finally:
        await asyncio.shield(telephony.unbridge(bridge))
