"""The hard lines (004 篇10 3–4, 9、10): what is said before the caller's matter is known.

- Thanks: "不客气，这是我应做的"; "your name?": only the job number (10、2)).
- Dissatisfaction: ``dissatisfied_ack``, then the offer of a complaint.
- Low volume (3、声音小): speech heard, nothing made out: ``low_volume``, once more, then
  ``low_volume_goodbye``, a two-second pause and a hang-up.
- Partly heard (4、1)): "请问您的意思是…吗？" with what was heard.
- Silent mid-conversation: "请问您是否可以听清我的说话呢？", then the silent-line ending.
- Nuisance (9、2)): after two unrelated or abusive turns ``nuisance_prompt``; nothing of
  the hotline's after it: the silent-line ending. Unrelated: laughing, a test call, chit-chat
  (intent.py's table), or the attendant's name asked again after it was given; a first
  unrelated turn is asked whether there is anything the hotline can help with (9、1)).
"""

from __future__ import annotations

from hotline.attendant.answers import emergency_in, hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.intent import Intent, Reading, classify
from hotline.attendant.port import Expect, Heard
from hotline.attendant.words import more_matters, yes_no
from hotline.domain.call_machine import GaveUp

MATTERS = frozenset({Intent.LOOKUP, Intent.MESSAGE, Intent.COMPLAINT, Intent.EMERGENCY,
                     Intent.PERSON, Intent.OUT_OF_SCOPE})
LOW_VOLUME_ASKS = 2  # low_volume said this often before goodbye


async def end_line(c: AttendantCall, why: GaveUp, phrase: str = "silent_goodbye") -> None:
    c.machine.give_up(why)
    await c.d.say(phrase)
    await c.d.pause(c.settings.goodbye_pause_s)
    await c.d.hang_up()


async def settle(c: AttendantCall, heard: Heard) -> Reading | None:
    """The caller's matter, or None: the line was ended (the machine says why), or, asked
    whether there is anything else after a remark, the caller said no (straight to the
    rating and goodbye; never a lookup of "没有了")."""
    quiet = strikes = 0
    asked_hear = prompted = named = asked_more = False
    while True:
        if not heard.spoke:
            if asked_hear or prompted:
                await end_line(c, GaveUp.NUISANCE if prompted else GaveUp.SILENT)
                return None
            asked_hear = True
            await c.d.say("can_you_hear", interruptible=True)
            heard = await c.d.hear(Expect.FREE)
            continue
        asked_hear = False
        if not heard.text:  # spoke, nothing made out
            quiet += 1
            if quiet > LOW_VOLUME_ASKS:
                await c.record.note("low_volume", {"asked": LOW_VOLUME_ASKS})
                await end_line(c, GaveUp.LOW_VOLUME, "low_volume_goodbye")
                return None
            await c.d.say("low_volume", interruptible=True)
            heard = await c.d.hear(Expect.FREE)
            continue
        if asked_more and more_matters(heard.text) is False and \
                emergency_in(c, heard.text) is None:
            await c.record.note("nothing_more", {"said": heard.text})
            c.machine.nothing_more()
            return None
        asked_more = False
        reading = classify(heard.text, c.settings.out_of_scope)
        await c.record.note("intent", {"intent": reading.intent.value, "cue": reading.cue,
                                       **({"line": reading.line.value} if reading.line else {})})
        if reading.intent in MATTERS:
            return reading
        if reading.intent is Intent.THANKS:
            await c.d.say("you_are_welcome")
            await c.d.say("anything_else", interruptible=True)
            asked_more = True
        elif reading.intent is Intent.ASK_NAME and not named:
            named = True
            await c.d.say("job_number_only", job_number=c.settings.job_number)
        elif reading.intent is Intent.DISSATISFIED:
            await c.d.say("dissatisfied_ack")
            await c.d.say("complaint_offer", interruptible=True)
            if yes_no((await hear(c, Expect.YES_NO)).text):
                return Reading(Intent.COMPLAINT, cue="offered", text=reading.text)
            await c.d.say("anything_else", interruptible=True)
            asked_more = True
        else:  # unclear, abusive, unrelated (or the name asked again): a strike
            strikes += 1
            if prompted:
                await end_line(c, GaveUp.NUISANCE)
                return None
            if strikes >= c.settings.nuisance_turns:
                prompted = True
                await c.record.note("nuisance_prompt", {"turns": strikes})
                await c.d.say("nuisance_prompt", interruptible=True)
            elif reading.intent is Intent.UNCLEAR and reading.text:
                await c.d.say("ask_again", content=reading.text)  # partly heard
            elif reading.intent in (Intent.UNRELATED, Intent.ASK_NAME):
                await c.d.say("anything_else", interruptible=True)
            else:
                await c.d.say("not_heard")
        heard = await c.d.hear(Expect.FREE)
