"""AriTelephony: the Telephony port over ARI. Rings operator seats (originate into the Stasis
app with the ``seat`` argument), and bridges caller and operator in a mixing bridge.

The controller feeds it two events: a seat's StasisStart (the seat answered) and
ChannelDestroyed (a ringing seat gave up, was busy or unreachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Sequence

from hotline.ari.events import Channel
from hotline.ari.rest import AriRest
from hotline.calls.ari_leg import AriCallLeg
from hotline.domain.dialled import DialFailure, NotReached
from hotline.errors import AriNotFound, TelephonyError
from hotline.ports import CallLeg

log = logging.getLogger(__name__)

SEAT_PREFIX = "seat-"


class AriTelephony:
    def __init__(self, rest: AriRest, app: str) -> None:
        self.rest = rest
        self.app = app
        # Every leg in the app by channel id; the controller routes events through it.
        self.legs: dict[str, AriCallLeg] = {}
        # a dial in progress: the answered channel, or the cause it ended with unanswered
        self._pending: dict[str, asyncio.Future[Channel | int]] = {}
        self._background: set[asyncio.Task[None]] = set()

    # -- events in (from the controller) ------------------------------------------------------
    def on_seat_answered(self, channel: Channel) -> None:
        fut = self._pending.get(channel.id)
        if fut is None or fut.done():  # answered after we gave up on it
            log.info("seat channel %s answered too late; hanging up", channel.id)
            task = asyncio.ensure_future(self._hangup_quietly(channel.id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        self.legs[channel.id] = AriCallLeg(self.rest, channel, is_caller=False)
        fut.set_result(channel)

    def on_destroyed(self, channel_id: str, cause: int) -> None:
        fut = self._pending.get(channel_id)
        if fut is not None and not fut.done():
            log.info("seat channel %s ended unanswered (cause %d)", channel_id, cause)
            fut.set_result(cause)
        leg = self.legs.get(channel_id)
        if channel_id.startswith(SEAT_PREFIX) and leg is not None:
            leg.on_gone(cause, destroyed=True)
            self.legs.pop(channel_id, None)

    # -- the port -----------------------------------------------------------------------------
    async def dial(self, endpoint: str, timeout_s: float,
                   caller_id: str = "") -> CallLeg | NotReached:
        channel_id = SEAT_PREFIX + uuid.uuid4().hex
        fut: asyncio.Future[Channel | int] = asyncio.get_running_loop().create_future()
        self._pending[channel_id] = fut
        answered = False
        try:
            try:
                await self.rest.originate(endpoint, self.app, app_args="seat",
                                          channel_id=channel_id, caller_id=caller_id or None,
                                          timeout_s=max(1, math.ceil(timeout_s) + 1))
            except TelephonyError as exc:
                log.warning("cannot ring %s: %s", endpoint, exc)
                return NotReached(DialFailure.NOT_ORIGINATED)
            try:
                channel = await asyncio.wait_for(asyncio.shield(fut), timeout_s)
            except TimeoutError:
                return NotReached(DialFailure.UNANSWERED)
            if isinstance(channel, int):
                return NotReached.by_cause(channel)
            answered = True
            return self.legs[channel.id]
        finally:
            self._pending.pop(channel_id, None)
            if not answered:  # no answer in time, or the caller hung up meanwhile
                await asyncio.shield(self._hangup_quietly(channel_id))

    async def bridge(self, legs: Sequence[CallLeg]) -> str:
        bridge_id = await self.rest.create_bridge("mixing", name="hotline-call")
        try:
            for leg in legs:
                await self.rest.add_to_bridge(bridge_id, leg.id)
        except TelephonyError:
            await self.unbridge(bridge_id)
            raise
        return bridge_id

    async def unbridge(self, bridge_id: str) -> None:
        with contextlib.suppress(TelephonyError):
            await self.rest.destroy_bridge(bridge_id)

    async def _hangup_quietly(self, channel_id: str) -> None:
        with contextlib.suppress(AriNotFound, TelephonyError):
            await self.rest.hangup(channel_id, "normal")
