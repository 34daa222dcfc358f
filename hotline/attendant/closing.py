"""结束语 (004 篇10): the rating by keypad, goodbye, and the caller hangs up first (003)."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall


async def close(c: AttendantCall) -> None:
    await c.d.say("rating_request", interruptible=True)
    digit = await c.d.digit(c.settings.rating_wait_s)
    if digit in ("1", "2", "3", "4", "5"):
        await c.record.update(satisfaction=int(digit))
        await c.d.say("rating_thanks")
    await c.d.say("goodbye")
    if not await c.d.wait_gone(c.settings.caller_hangup_wait_s):
        await c.d.hang_up()
