"""模糊查询 (004 篇10 归类查询 例1, 例3): when results of different districts or industries
compete, ask which."""

from __future__ import annotations

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.lookup.search import search
from hotline.attendant.port import Expect
from hotline.directory.index import SearchResult
from hotline.directory.records import Entry


def competing(result: SearchResult) -> list[Entry]:
    return [h.entry for h in result.hits[:3] if h.score >= result.hits[0].score - 8]


async def ask_district(c: AttendantCall, what: str, districts: list[str],
                       result: SearchResult) -> SearchResult:
    await c.d.say("lookup_which_district", organisation=what,
                  choices="还是".join(districts[:3]), interruptible=True)
    answer = (await hear(c, Expect.DISTRICT)).text
    return await search(c, answer + what) if answer else result


async def narrow(c: AttendantCall, result: SearchResult, text: str) -> SearchResult:
    if result.confident or len(result.hits) < 2:
        return result
    top = competing(result)
    districts = list(dict.fromkeys(e.district for e in top if e.district))
    industries = list(dict.fromkeys(e.industry for e in top if e.industry))
    what = result.cleaned or text
    if len(districts) > 1 and result.district is None:
        return await ask_district(c, what, districts, result)
    if len(industries) > 1 and result.industry is None:
        await c.d.say("lookup_which_industry", organisation=what,
                      choices="还是".join(industries[:3]), interruptible=True)
        answer = (await hear(c, Expect.INDUSTRY)).text
        return await search(c, what + answer) if answer else result
    return result
