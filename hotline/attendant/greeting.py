"""开头语 (004 篇10; 003 接听电话礼仪): the unit and the job number, with an apology first
after a long wait."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall


def opening_phrase(rings: int, apology_after_rings: int) -> str:
    return "opening_after_wait" if rings > apology_after_rings else "opening"


async def greet(c: AttendantCall, rings: int, job_number: str) -> None:
    c.machine.greet()
    await c.d.say(opening_phrase(rings, c.settings.apology_after_rings), interruptible=True,
                  job_number=job_number)
