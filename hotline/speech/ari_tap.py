"""The SpeechTap port over ARI: a snoop of the caller (what the caller says, spy=in) bridged
to an externalMedia channel that sends the audio as RTP to a loopback port of ours.

The helper channels carry the ``asr-`` prefix, so resync can tell them from calls and hang up
any left behind by a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass

from hotline.ari.rest import AriRest
from hotline.errors import TelephonyError
from hotline.speech.rtp import OnAudio, RtpReceiver, open_receiver

log = logging.getLogger(__name__)

TAP_PREFIX = "asr-"


@dataclass
class AriTap:
    snoop_id: str
    media_id: str
    bridge_id: str
    receiver: RtpReceiver


class AriSpeechTap:
    def __init__(self, rest: AriRest, app: str, host: str = "127.0.0.1") -> None:
        self.rest = rest
        self.app = app
        self.host = host

    async def open(self, channel_id: str, rate: int, on_audio: OnAudio) -> AriTap:
        receiver, port = await open_receiver(on_audio, self.host)
        key = uuid.uuid4().hex[:16]
        tap = AriTap(f"{TAP_PREFIX}snoop-{key}", f"{TAP_PREFIX}media-{key}",
                     f"{TAP_PREFIX}{key}", receiver)
        try:
            await self.rest.snoop(channel_id, self.app, spy="in", snoop_id=tap.snoop_id,
                                  app_args="speech")
            await self.rest.external_media(
                self.app, f"{self.host}:{port}", fmt="slin16" if rate == 16000 else "slin",
                channel_id=tap.media_id, app_args="speech")
            await self.rest.create_bridge("mixing", name="speech", bridge_id=tap.bridge_id)
            await self.rest.add_new_to_bridge(tap.bridge_id, tap.snoop_id)
            await self.rest.add_new_to_bridge(tap.bridge_id, tap.media_id)
        except BaseException:
            await asyncio.shield(self.close(tap))
            raise
        return tap

    async def close(self, tap: AriTap) -> None:
        tap.receiver.close()
        for channel in (tap.snoop_id, tap.media_id):
            with contextlib.suppress(TelephonyError):
                await self.rest.hangup(channel)
        with contextlib.suppress(TelephonyError):
            await self.rest.destroy_bridge(tap.bridge_id)
