"""投诉受理 (003 投诉, 附录A; 004 篇10 当用户提出投诉时): ``complaint_ack``, the caller's name
and number, who or what the complaint is about, the matter recorded (audio and transcript),
whether the caller asks for confidentiality (GB/T 33358 要求个人信息保密); then a
``complaint`` ticket with the 附录A fields captured (the owner completes the rest), due in
two working days; the caller hears its number and the day the answer will come."""

from __future__ import annotations

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.contact import ask_contact
from hotline.attendant.message import words_of
from hotline.attendant.port import Expect
from hotline.attendant.words import spoken_time, squeeze, yes_no
from hotline.domain.call_machine import Matter, Served
from hotline.domain.tickets import TicketKind

_ABOUT = ("我要投诉", "我想投诉", "投诉", "我要举报", "举报", "是")


def respondent_of(text: str) -> str:
    t = squeeze(text)
    for word in _ABOUT:
        if t.startswith(word) and len(t) > len(word):
            return t[len(word):]
    return t


async def take_complaint(c: AttendantCall, said: str) -> None:
    c.machine.matter(Matter.COMPLAINT)
    await c.d.say("complaint_ack", title="您好")
    contact = await ask_contact(c)
    await c.d.say("complaint_about")
    respondent = respondent_of((await hear(c, Expect.FREE)).text)
    await c.d.say("complaint_take")
    words = await words_of(c)
    request = words.text.strip() or said or ("（录音）" if not words.empty else "")
    await c.d.say("complaint_confidential")
    confidential = yes_no((await hear(c, Expect.YES_NO)).text) is True
    fields: dict[str, object] = {
        "complainant_name": contact.name or "（未留姓名）",
        "complainant_phone": contact.number or "（未留号码）",
        "respondent_unit": respondent or "（未说明）", "request": request or said or "（未说明）",
        "channel": "电话投诉", "recorder": c.settings.job_number,
        "recording": words.recording, "recording_s": round(words.seconds, 1),
        "confidential": confidential}
    opened = await c.tickets.open(TicketKind.COMPLAINT, f"投诉 {respondent}：{request}",
                                  fields=fields, caller_name=contact.name,
                                  callback_number=contact.number)
    await c.record.note("complaint_taken", {"ticket": opened.ticket_id,
                                            "confidential": confidential,
                                            "recording": words.recording})
    c.machine.served(Served.COMPLAINT)
    await c.d.say("complaint_ticket", ticket=str(opened.ticket_id),
                  due=spoken_time(opened.due_at))
