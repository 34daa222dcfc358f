"""归类查询 (004 篇10 模糊查询 例3): "万州的银行" names a kind of unit, not one unit. Ask the
district if none was said, then offer up to three units with name, address and number."""

from __future__ import annotations

from hotline.attendant.call import AttendantCall
from hotline.attendant.lookup.narrow import ask_district
from hotline.directory.index import SearchResult

OFFERED = 3


async def offer_category(c: AttendantCall, result: SearchResult) -> bool:
    """True once units were offered; False when there are none of that kind to offer."""
    kind = result.industry or ""
    if result.district is None and kind:
        districts = list(dict.fromkeys(h.entry.district for h in result.hits
                                       if h.entry.district))
        if len(districts) > 1:
            result = await ask_district(c, kind, districts, result)
    units = [h.entry for h in result.hits][:OFFERED]
    if not units:
        return False
    await c.record.note("lookup_category", {"district": result.district, "industry": kind,
                                            "offered": [u.id for u in units]})
    for unit in units:
        await c.d.say("lookup_related", organisation=unit.name,
                      address=unit.address or unit.district, phone=unit.phone)
    return True
