"""开头语 (004 篇10; 003 接听电话礼仪): the unit and the job number, with an apology first
after a long wait; where the call is recorded, the recording notice before it (PIPL: the
caller is told before anything they say is kept)."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall, AttendantSettings


def opening_phrase(rings: int, apology_after_rings: int) -> str:
    return "opening_after_wait" if rings > apology_after_rings else "opening"


def opening_phrases(rings: int, settings: AttendantSettings) -> list[str]:
    """What the caller hears first, in order: the recording notice where the call is
    recorded, then the opening."""
    notice = ["recording_notice"] if settings.recording_notice else []
    return [*notice, opening_phrase(rings, settings.apology_after_rings)]


async def greet(c: AttendantCall, rings: int, job_number: str) -> None:
    c.machine.greet()
    if c.settings.recording_notice:  # not interruptible: the caller must hear it
        await c.d.say("recording_notice")
    await c.d.say(opening_phrase(rings, c.settings.apology_after_rings), interruptible=True,
                  job_number=job_number)
