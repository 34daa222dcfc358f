"""The attendant serves the caller's matters, up to three a call: what the caller wants, the
script for it, then "还有其它可以帮到您的吗？", the rating and goodbye (004 篇10). An
emergency said in the middle of a matter's script leaves that matter for the emergency
script, here (answers.py raises it)."""

from __future__ import annotations

from hotline.attendant.answers import EmergencySaid, emergency_in
from hotline.attendant.call import AttendantCall
from hotline.attendant.callback import hand_over
from hotline.attendant.closing import close
from hotline.attendant.complaint import take_complaint
from hotline.attendant.emergency import emergency
from hotline.attendant.hard_lines import settle
from hotline.attendant.intent import Intent
from hotline.attendant.lookup.script import LookupEnd, look_up
from hotline.attendant.message import take_message
from hotline.attendant.port import Expect, Heard
from hotline.attendant.silent import caller_speaks
from hotline.attendant.transfer import put_through
from hotline.attendant.words import asks_for_person, more_matters, new_request
from hotline.domain.call_machine import GaveUp, Matter, Served


async def attend(c: AttendantCall) -> None:
    """From the end of the greeting (or a seat that failed) to goodbye."""
    c.machine.listen()
    heard: Heard | None = None
    while True:
        if heard is None:
            heard = await caller_speaks(c)
            if heard is None:  # the silent line was ended
                return
        to_rating = await serve_matter(c, heard)
        if c.machine.gave_up is not None:  # the script ended the line itself
            return
        if to_rating:  # an operator ended it, or the caller has nothing (more) to ask
            break
        heard = await anything_else(c)
        if heard is None:
            break
        c.machine.another_matter()
        if not heard.text:
            heard = None
    await close(c)


async def anything_else(c: AttendantCall) -> Heard | None:
    """Another matter (its words, or an empty Heard when the caller only said yes), or
    None: no, silence, or the matters of one call are used up."""
    if not c.machine.may_take_another:
        return None
    await c.d.say("anything_else", interruptible=True)
    heard = await c.d.hear(Expect.FREE)
    if emergency_in(c, heard.text) is not None:  # "没有了…着火了": the emergency first
        return Heard(heard.text, spoke=True)
    more = more_matters(heard.text)
    if more is False or not heard.text:
        return None
    return Heard() if more else Heard(new_request(heard.text), spoke=True)


async def serve_matter(c: AttendantCall, heard: Heard) -> bool:
    """Serve one matter; True when the rating comes next: an operator took it (and has
    ended their talk), or the caller, asked after a remark, has nothing to ask."""
    try:
        return await _serve(c, heard)
    except EmergencySaid as said:  # in the middle of the matter: leave it for the emergency
        assert said.reading.line is not None
        await emergency(c, said.reading.line.value, said.reading.text)
        return False


async def _serve(c: AttendantCall, heard: Heard) -> bool:
    if not c.d.understands or not heard.spoke:
        return await hand_over(c)  # what the caller wants cannot be made out here
    reading = await settle(c, heard)
    if reading is None:  # the line was ended (low volume, nuisance, silent), or nothing more
        return c.machine.gave_up is None
    text = reading.text or heard.text.strip()
    if reading.intent is Intent.EMERGENCY and reading.line is not None:
        await emergency(c, reading.line.value, text)
        return False
    if reading.intent is Intent.MESSAGE:
        await take_message(c, text)
        return False
    if reading.intent is Intent.COMPLAINT:
        await take_complaint(c, text)
        return False
    if reading.intent is Intent.OUT_OF_SCOPE:
        c.machine.matter(Matter.OUT_OF_SCOPE)
        await c.record.note("out_of_scope", {"cue": reading.cue})
        c.machine.give_up(GaveUp.OUT_OF_SCOPE)
        await c.d.say("out_of_scope")
        if not await c.d.wait_gone(c.settings.caller_hangup_wait_s):
            await c.d.hang_up()
        return False
    if reading.intent is Intent.PERSON or asks_for_person(text) or c.directory is None:
        c.machine.matter(Matter.PERSON if reading.intent is Intent.PERSON else Matter.LOOKUP)
        return await hand_over(c, text)
    return await serve_lookup(c, text)


async def serve_lookup(c: AttendantCall, text: str) -> bool:
    c.machine.matter(Matter.LOOKUP)
    end, entry = await look_up(c, text)
    await c.record.note("lookup_outcome", {"outcome": end.value})
    if end is LookupEnd.TRANSFER and entry is not None:
        await put_through(c, entry, text)
    elif end in (LookupEnd.READ, LookupEnd.OFFERED):
        c.machine.served(Served.RESOLVED)
    elif end is LookupEnd.NOT_REGISTERED:
        c.machine.served(Served.REFERRED)  # on the directory keepers' list
    else:
        if end is LookupEnd.PERSON:
            c.machine.matter(Matter.PERSON)
        return await hand_over(c, text)
    return False
