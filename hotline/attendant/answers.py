"""The caller's answers inside a matter's script (a lookup's confirmation, a message's name,
the unit a complaint is about, a callback number) are heard here, and each is checked for an
emergency first (000: 与110、120的联动): one said in the middle of another matter leaves that
matter at once, and the serve loop runs the emergency script. Scripts call ``hear`` below,
never ``c.d.hear``; the words taken down after the tone (a message, a complaint's matter)
are what the caller reports, not an answer, and are not checked."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall
from hotline.attendant.intent import Intent, Reading, classify
from hotline.attendant.port import Expect, Heard
from hotline.domain.call_machine import CallState


class EmergencySaid(Exception):
    """An emergency named in the middle of another matter; ``reading`` has its line."""

    def __init__(self, reading: Reading) -> None:
        super().__init__(f"emergency {reading.line} said mid-matter ({reading.cue})")
        self.reading = reading


def emergency_in(c: AttendantCall, text: str) -> Reading | None:
    """The emergency ``text`` names, as an answer to another step's question, or None."""
    if not text:
        return None
    reading = classify(text, c.settings.out_of_scope, answering=True)
    if reading.intent is Intent.EMERGENCY and reading.line is not None:
        return reading
    return None


async def hear(c: AttendantCall, expect: Expect) -> Heard:
    """The caller's answer to the step's question; raises EmergencySaid (once it is on the
    record) when the answer names an emergency."""
    heard = await c.d.hear(expect)
    reading = emergency_in(c, heard.text)
    if reading is not None:
        assert reading.line is not None
        await c.record.note("intent", {
            "intent": reading.intent.value, "cue": reading.cue, "line": reading.line.value,
            "during": c.machine.matters[-1].value  # the matter in hand, if one is
            if c.machine.state is CallState.SERVING and c.machine.matters else "",
            "expect": expect.value})
        raise EmergencySaid(reading)
    return heard
