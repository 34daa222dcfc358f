"""查询确认 (004 篇10): "您要查询的是…对吗？"; a number is read only after a clear yes. Unclear:
"请问您的意思是…吗？", still unclear: "请您重复一遍"; then the caller goes to a person."""

from __future__ import annotations

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.port import Expect
from hotline.attendant.words import yes_no
from hotline.directory.records import Entry


async def confirm(c: AttendantCall, entry: Entry) -> bool | None:
    """True on a clear yes, False on a clear no, None when still unclear."""
    await c.d.say("lookup_confirm", organisation=entry.name, interruptible=True)
    for again in ("ask_again", "not_heard", None):
        answer = yes_no((await hear(c, Expect.YES_NO)).text)
        if answer is not None:
            return answer
        if again is not None:
            await c.d.say(again, content=f"查询{entry.name}")
    return None
