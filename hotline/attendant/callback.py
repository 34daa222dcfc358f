"""No caller turned away (000 件件有着落、事事有回音; 003 首问负责制: 若无法取得联系，首问负责人
应先收下…作好记录): when nobody can serve the matter now, the attendant takes it down for a
callback, opens the ticket on its own post, and tells the caller the number and the time."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall
from hotline.attendant.words import spoken_time
from hotline.domain.call_machine import GaveUp, Served
from hotline.domain.tickets import TicketKind


async def take_for_callback(c: AttendantCall, said: str = "") -> None:
    """``said``: what the caller had already said of the matter, if anything was heard."""
    c.machine.take_down()
    due = c.tickets.due(TicketKind.CALLBACK)
    await c.d.say("callback_take", due=spoken_time(due))
    words = await c.d.take_down(c.settings.message_max_s)
    if words.empty and not words.caller_left:
        await c.d.say("not_heard")
        words = await c.d.take_down(c.settings.message_max_s)
    if words.empty and not said:
        await c.record.note("callback_empty", {})
        c.machine.give_up(GaveUp.SILENT)
        await c.d.say("silent_goodbye")
        await c.d.hang_up()
        return
    text = words.text.strip() or said
    fields = {"recording": words.recording, "recording_s": round(words.seconds, 1),
              "transcript": text}
    opened = await c.tickets.open(TicketKind.CALLBACK, f"回电：{text}" if text else "回电",
                                  fields=fields)
    await c.record.note("callback_taken", {"ticket": opened.ticket_id, **fields})
    c.machine.served(Served.CALLBACK)
    # a caller who hung up while speaking has the ticket all the same; saying its number
    # then raises CallerGone like any other step would
    await c.d.say("callback_ticket", ticket=str(opened.ticket_id),
                  due=spoken_time(opened.due_at))


async def hand_over(c: AttendantCall, said: str = "") -> bool:
    """A person serves the matter if one can take it now (True); else it is taken down for
    a callback (False)."""
    if c.operators is not None and await c.operators.available():
        await c.d.say("operator_handover" if c.d.understands else "no_speech_model")
        if await c.operators.take_over():
            return True
    await take_for_callback(c, said)
    return False
