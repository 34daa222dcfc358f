"""如果客户查询的企业在数据库中查不到 (004 篇10): not registered; the query goes on the list
for the directory keepers (we will contact the enterprise), and related units are offered."""

from __future__ import annotations

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.port import Expect
from hotline.attendant.words import yes_no
from hotline.directory.index import SearchResult


async def not_registered(c: AttendantCall, text: str, result: SearchResult) -> None:
    assert c.directory is not None
    await c.record.note("unmatched_query", {"query": text})
    await c.d.say("lookup_not_registered")
    near = result.hits[0].entry if result.hits else None
    related = await c.directory.related(near) if near is not None else []
    if not related:
        return
    await c.d.say("lookup_offer_related", interruptible=True)
    if yes_no((await hear(c, Expect.YES_NO)).text):
        for unit in related[:2]:
            await c.d.say("lookup_related", organisation=unit.name,
                          address=unit.address or unit.district, phone=unit.phone)
