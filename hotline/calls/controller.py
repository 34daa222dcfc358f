"""Events in: the Stasis application. Each ARI event goes to ``on_<Type>``; each caller gets
one task (in a TaskGroup) running the call flow over an AriCallLeg.

After every (re)connection ``resync`` compares the calls it holds with the channels Asterisk
still has in the application: vanished channels end their calls, unknown ones are adopted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from hotline.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelTalkingFinished,
    ChannelTalkingStarted,
    Event,
    PlaybackFinished,
    RecordingFinished,
    StasisEnd,
    StasisStart,
    UnknownEvent,
)
from hotline.ari.rest import AriRest
from hotline.calls.ari_leg import AriCallLeg
from hotline.calls.ari_recorder import REC_PREFIX
from hotline.calls.ari_telephony import SEAT_PREFIX, AriTelephony
from hotline.errors import TelephonyError
from hotline.monitor.session import MONITOR_ARG, MONITOR_PREFIX
from hotline.privacy import mask_number
from hotline.speech.ari_tap import TAP_PREFIX

log = logging.getLogger(__name__)


class Flow(Protocol):
    async def run(self, leg: AriCallLeg) -> None: ...
    async def end_adopted(self, leg: AriCallLeg) -> None: ...


class ChannelWatcher(Protocol):
    """Channels of other parts (the supervisors' monitoring sessions): True if theirs."""

    def on_stasis_start(self, channel_id: str) -> bool: ...
    def on_destroyed(self, channel_id: str) -> bool: ...


class CallController:
    def __init__(self, rest: AriRest, app: str, flow: Flow,
                 telephony: AriTelephony | None = None) -> None:
        self.rest = rest
        self.app = app
        self.flow = flow
        self.telephony = telephony
        # One table of legs (callers and operators) for event routing, shared with telephony.
        self.legs: dict[str, AriCallLeg] = telephony.legs if telephony is not None else {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.accepting = True
        self.unknown_events = 0
        self.monitors: ChannelWatcher | None = None
        self._group: asyncio.TaskGroup | None = None
        self._stop = asyncio.Event()

    # -- lifecycle ----------------------------------------------------------------------------
    async def run(self) -> None:
        """Hold the TaskGroup of calls open until stop(); the calls run inside it."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            await self._stop.wait()
        self._group = None

    async def stop(self, timeout_s: float) -> None:
        """Graceful stop: take no new calls, let calls in progress finish for timeout_s, then
        cancel the rest (their flows close their records)."""
        self.accepting = False
        pending = [t for t in self.tasks.values() if not t.done()]
        if pending:
            log.info("waiting up to %.0f s for %d calls", timeout_s, len(pending))
            _, still = await asyncio.wait(pending, timeout=timeout_s)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=5)
        self._stop.set()

    @property
    def active_calls(self) -> int:
        return sum(1 for t in self.tasks.values() if not t.done())

    def _start_call(self, leg: AriCallLeg, adopted: bool = False) -> None:
        self.legs[leg.id] = leg
        if self._group is None:
            raise RuntimeError("controller is not running")
        task = self._group.create_task(self._guarded(leg, adopted), name=f"call-{leg.id}")
        self.tasks[leg.id] = task

    async def _guarded(self, leg: AriCallLeg, adopted: bool = False) -> None:
        try:
            await (self.flow.end_adopted(leg) if adopted else self.flow.run(leg))
        except asyncio.CancelledError:
            raise
        except Exception:  # one call's bug must not end the others (TaskGroup would)
            log.exception("call on %s crashed", leg.id)
            with contextlib.suppress(TelephonyError):
                await leg.hangup()
        finally:
            self.legs.pop(leg.id, None)
            self.tasks.pop(leg.id, None)

    # -- events in ----------------------------------------------------------------------------
    async def on_StasisStart(self, event: StasisStart) -> None:
        channel = event.channel
        role = event.args[0] if event.args else ""
        if role == "seat" and self.telephony is not None:
            self.telephony.on_seat_answered(channel)
            return
        if role == "operator":  # an operator's softphone dialled out: nothing is served
            log.info("operator channel %s dialled %s: ended", channel.id,
                     mask_number(channel.exten))
            await self._safe(self.rest.hangup(channel.id, "unallocated"))
            return
        if role == MONITOR_ARG:  # a supervisor's leg or snoop; nobody's any more: ended
            if self.monitors is None or not self.monitors.on_stasis_start(channel.id):
                await self._safe(self.rest.hangup(channel.id, "normal"))
            return
        if role != "public":
            log.debug("StasisStart %s with args %s left to other handlers", channel.id,
                      event.args)
            return
        if channel.id in self.legs:
            return
        if not self.accepting:
            log.warning("shutting down; call from %s not taken", mask_number(
                channel.caller_number))
            await self._safe(self.rest.hangup(channel.id, "congestion"))
            return
        self._start_call(AriCallLeg(self.rest, channel))

    async def on_StasisEnd(self, event: StasisEnd) -> None:
        self._gone(event.channel.id)

    async def on_ChannelHangupRequest(self, event: ChannelHangupRequest) -> None:
        self._gone(event.channel.id, event.cause)

    async def on_ChannelDestroyed(self, event: ChannelDestroyed) -> None:
        if self.telephony is not None:
            self.telephony.on_destroyed(event.channel.id, event.cause)
        if self.monitors is not None:
            self.monitors.on_destroyed(event.channel.id)
        self._gone(event.channel.id, event.cause, destroyed=True)

    async def on_ChannelDtmfReceived(self, event: ChannelDtmfReceived) -> None:
        leg = self.legs.get(event.channel.id)
        if leg is not None:
            leg.on_dtmf(event.digit)

    async def on_ChannelTalkingStarted(self, event: ChannelTalkingStarted) -> None:
        leg = self.legs.get(event.channel.id)
        if leg is not None:
            leg.on_talking(True)

    async def on_ChannelTalkingFinished(self, event: ChannelTalkingFinished) -> None:
        leg = self.legs.get(event.channel.id)
        if leg is not None:
            leg.on_talking(False)

    async def on_PlaybackFinished(self, event: PlaybackFinished) -> None:
        leg = self._leg_at(event.target_uri)
        if leg is not None:
            leg.on_playback_finished(event.playback_id)

    async def on_RecordingFinished(self, event: RecordingFinished) -> None:
        leg = self._leg_at(event.target_uri)
        if leg is not None:
            leg.on_recording_finished(event.name, event.duration_s)

    async def on_UnknownEvent(self, event: UnknownEvent) -> None:
        self.unknown_events += 1
        log.debug("ignored ARI event %s: %s", event.type, event.reason)

    async def on_unhandled(self, event: Event) -> None:
        log.debug("no handler for ARI event %s", event.type)

    def _leg_at(self, target_uri: str) -> AriCallLeg | None:
        """The leg a playback or recording is on ("channel:ID")."""
        kind, _, channel_id = target_uri.partition(":")
        return self.legs.get(channel_id) if kind == "channel" else None

    def _gone(self, channel_id: str, cause: int = 0, destroyed: bool = False) -> None:
        leg = self.legs.get(channel_id)
        if leg is not None:
            leg.on_gone(cause, destroyed)

    # -- resync after a reconnect -------------------------------------------------------------
    async def resync(self) -> set[str] | None:
        """The channels in the application (adopted or held); None if ARI did not say.

        The calls in progress run while this awaits ARI: a leg one of them takes on while
        the listing is on its way (a seat it rings) is not in the listing and is not ended
        for that (only the legs held before the listing was asked for are judged by it); a
        listed channel that came to be served while it was looked up is not started twice."""
        held_before = set(self.legs)
        try:
            app = await self.rest.request("GET", f"/applications/{self.app}")
        except TelephonyError as exc:
            log.warning("resync failed: %s", exc)
            return None
        present = set(app.get("channel_ids", [])) if isinstance(app, dict) else set()
        for channel_id in [c for c in self.legs if c in held_before]:
            if channel_id not in present:
                log.info("channel %s vanished while disconnected", channel_id)
                self._gone(channel_id)
        for channel_id in list(present - set(self.legs)):
            if channel_id.startswith((SEAT_PREFIX, TAP_PREFIX, REC_PREFIX,
                                                   MONITOR_PREFIX)):  # a lost helper
                log.info("hanging up orphaned channel %s", channel_id)
                await self._safe(self.rest.hangup(channel_id, "normal"))
                continue
            try:
                channel = await self.rest.get_channel(channel_id)
            except TelephonyError:  # gone since the listing: its record is closed, not kept
                present.discard(channel_id)
                continue
            if channel_id in self.legs:  # its StasisStart came meanwhile: already served
                continue
            log.info("adopting channel %s found in the application", channel_id)
            if self.accepting and self._group is not None:
                # a call already up has lost its place in the script: it is ended politely
                self._start_call(AriCallLeg(self.rest, channel),
                                 adopted=channel.state == "Up")
        return present | set(self.legs)

    async def disconnected(self) -> None:
        log.warning("ARI disconnected with %d calls in progress", self.active_calls)

    @staticmethod
    async def _safe(aw: object) -> None:
        with contextlib.suppress(TelephonyError):
            await aw  # type: ignore[misc]
