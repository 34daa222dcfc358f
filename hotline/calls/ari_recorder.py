"""The Recorder port over ARI: a snoop of the caller's channel that hears both directions
(spy=both), recorded by Asterisk as WAV under its recordings spool. Hanging the snoop up
finishes the file; its name goes on the record (``recording``) for playback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import quote

from hotline.ari.rest import AriRest
from hotline.errors import AriError, AriNotFound, TelephonyError

log = logging.getLogger(__name__)

REC_PREFIX = "rec-"
START_TRIES = 20  # the snoop enters the application a moment after it is created


class AriRecorder:
    def __init__(self, rest: AriRest, app: str) -> None:
        self.rest = rest
        self.app = app

    async def start(self, channel_id: str, name: str) -> str:
        snoop_id = f"{REC_PREFIX}{name}"
        await self.rest.snoop(channel_id, self.app, spy="both", snoop_id=snoop_id,
                              app_args="recording")
        for attempt in range(1, START_TRIES + 1):
            try:
                await self.rest.record(snoop_id, name)
                return snoop_id
            except TelephonyError as exc:
                # 409: the snoop is not in the application quite yet
                if isinstance(exc, AriError) and exc.status == 409 and attempt < START_TRIES:
                    await asyncio.sleep(0.05)
                    continue
                with contextlib.suppress(TelephonyError):
                    await self.rest.hangup(snoop_id)
                raise
        return snoop_id  # not reached: the last try returns or raises

    async def stop(self, handle: str) -> None:
        with contextlib.suppress(TelephonyError):
            await self.rest.hangup(handle)

    async def delete(self, name: str) -> None:
        """Delete a stored recording (the retention sweep, a person's erasure); one already
        gone is no error. TelephonyError if Asterisk cannot be asked."""
        with contextlib.suppress(AriNotFound):
            await self.rest.request("DELETE", f"/recordings/stored/{quote(name)}")

    async def fetch(self, name: str) -> bytes:
        """The stored recording's audio (for the supervisor's playback)."""
        return await self.rest.request_bytes("GET", f"/recordings/stored/{name}/file")
