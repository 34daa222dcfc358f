"""短信留言 (004 篇10): the name, the number, who the message is for, "请留言" (recorded, with
its transcript), the read-back ("您给xx留言的主要内容是……对吗？还有补充吗？") with additions
appended, then a ``message`` ticket; the caller hears its number and when it is passed on.
004's wording for a radio programme is left out."""

from __future__ import annotations

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.contact import address, ask_contact
from hotline.attendant.port import Expect, Words
from hotline.attendant.words import more_matters, spoken_time, squeeze, yes_no
from hotline.domain.call_machine import GaveUp, Matter, Served
from hotline.domain.tickets import TicketKind

_TO = ("给", "找", "留给", "转告", "告诉")


def recipient_of(text: str) -> str:
    """"给王主任" / "留给物业" -> "王主任" / "物业"."""
    t = squeeze(text)
    for word in sorted(_TO, key=len, reverse=True):
        if t.startswith(word):
            return t[len(word):] or t
    return t


async def words_of(c: AttendantCall) -> Words:
    """The caller's words after the tone, asked once more if nothing was heard."""
    words = await c.d.take_down(c.settings.message_max_s)
    if words.empty and not words.caller_left:
        await c.d.say("not_heard")
        words = await c.d.take_down(c.settings.message_max_s)
    return words


async def take_message(c: AttendantCall, said: str) -> None:
    c.machine.matter(Matter.MESSAGE)
    contact = await ask_contact(c)
    await c.d.say("message_recipient")
    recipient = recipient_of((await hear(c, Expect.FREE)).text) or "相关单位"
    await c.d.say("message_take")
    words = await words_of(c)
    if words.empty:
        await c.record.note("message_empty", {"for": recipient})
        c.machine.give_up(GaveUp.SILENT)
        await c.d.say("silent_goodbye")
        await c.d.hang_up()
        return
    text = words.text.strip() or "（录音）"
    recordings = [words.recording] if words.recording else []
    await c.d.say("message_readback", title=address(contact), name=recipient, content=text)
    answer = (await hear(c, Expect.FREE)).text
    if yes_no(answer) is None and more_matters(answer) is None and squeeze(answer):
        text = f"{text}；{squeeze(answer)}"  # said straight on: an addition
    elif more_matters(answer) is True or (yes_no(answer) is False and "没" not in answer):
        await c.d.say("message_take")
        more = await c.d.take_down(c.settings.message_max_s)
        if not more.empty:
            text = f"{text}；{more.text.strip() or '（录音）'}"
            recordings += [more.recording] if more.recording else []
    fields = {"recipient": recipient, "caller_name": contact.name, "title": contact.title,
              "callback_number": contact.number, "text": text, "transcript": text,
              "recording": recordings[0] if recordings else "", "recordings": recordings,
              "recording_s": round(words.seconds, 1), "said": said}
    opened = await c.tickets.open(TicketKind.MESSAGE, f"留言给{recipient}：{text}",
                                  fields=fields, caller_name=contact.name,
                                  callback_number=contact.number)
    await c.record.note("message_taken", {"ticket": opened.ticket_id, "for": recipient,
                                          "recording": fields["recording"]})
    c.machine.served(Served.MESSAGE)
    await c.d.say("message_ticket", name=recipient, ticket=str(opened.ticket_id),
                  due=spoken_time(opened.due_at))
