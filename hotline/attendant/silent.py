"""来话无声 (004 篇10 3、无声音): prompt after about three seconds, again after three more,
then goodbye, a two-second pause, and hang up."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall
from hotline.attendant.port import Expect, Heard
from hotline.domain.call_machine import GaveUp


async def caller_speaks(c: AttendantCall) -> Heard | None:
    """The caller's first words, or None once the silent line has been ended."""
    for prompt in ("silent_1", "silent_2", None):
        heard = await c.d.hear(Expect.FREE)
        if heard.spoke:
            return heard
        if prompt is not None:
            await c.d.say(prompt, interruptible=True)
    c.machine.give_up(GaveUp.SILENT)
    await c.d.say("silent_goodbye")
    await c.d.pause(c.settings.goodbye_pause_s)
    await c.d.hang_up()
    return None
