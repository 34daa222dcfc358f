"""`serve`'s 督办 sweep: every minute, one 催办 for each signing or reply newly overdue."""

from __future__ import annotations

import asyncio
import logging

from hotline.errors import StoreError
from hotline.ports import Clock
from hotline.store.loop_repo import LoopRepository

log = logging.getLogger(__name__)
SYSTEM = "system"  # the reminders' author when the sweep makes them


async def keep_reminding(loop: LoopRepository, clock: Clock, every_s: float = 60.0) -> None:
    while True:
        try:
            made = await loop.remind(clock.now(), SYSTEM)
            if made:
                log.info("催办: %d overdue step(s) reminded", len(made))
        except StoreError as exc:
            log.error("the reminder sweep failed, tried again in %.0f s: %s", every_s, exc)
        await asyncio.sleep(every_s)
