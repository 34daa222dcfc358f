"""紧急求助 (000: 与110、120的联动; 国办发〔2022〕12号: 一键转接, 三方通话): the caller hears
"请不要挂机，马上为您转接119" while the line is already being dialled; the line hears a brief
with the caller's number and what was said, then both are bridged. A line that does not
answer (or has no dial string here): the caller is told to dial it directly. Every step is
on the record with the line and the dial string, a failed dial with why (not answered,
busy, unreachable with the PBX's cause, not originated), and the wallboard shows the
``emergency`` events as they happen."""

from __future__ import annotations

import asyncio

from hotline.attendant.call import AttendantCall
from hotline.attendant.port import Connection
from hotline.domain.call_machine import Served
from hotline.domain.dialled import NotReached


async def emergency(c: AttendantCall, line: str, said: str) -> None:
    c.machine.emergency(line)
    dial = c.settings.emergency_lines.get(line, "")
    reaching: asyncio.Future[Connection | NotReached] | None = None
    after = c.d.since_words_ms()  # from the end of the caller's words to the dial
    if dial and c.transfers is not None:  # dialled before a word is said to the caller
        reaching = asyncio.ensure_future(c.transfers.reach_line(line, dial, said))
    dialled = {"dial": dial} if reaching else {}
    note: dict[str, object] = {"line": line, **dialled, "said": said,
                               "outcome": "dialling" if reaching else "not_dialled"}
    if after is not None:
        note["after_words_ms"] = round(after, 1)
    await c.record.note("emergency", note)
    got: Connection | NotReached | None = None
    try:
        await c.d.say("emergency_transfer", line=line)
        if reaching is not None:
            got = await reaching
    finally:
        if reaching is not None and not reaching.done():
            reaching.cancel()
            await asyncio.gather(reaching, return_exceptions=True)
    if got is not None and not isinstance(got, NotReached):
        c.machine.connected()
        await c.record.note("emergency", {"line": line, **dialled, "outcome": "bridged"})
        await got.talk()  # returns when the line hung up first
        c.machine.served(Served.RESOLVED)
        return
    c.machine.not_connected()
    why = got.event() if got is not None else {}
    await c.record.note("emergency", {"line": line, **dialled, **why,
                                      "outcome": "no_answer" if reaching else "no_line_here"})
    await c.d.say("emergency_dial_direct", line=line)
    c.machine.served(Served.REFERRED)
