"""企业查询 (004 篇10), top to bottom: search, narrow, confirm, read the number twice, offer a
transfer where the unit takes one; a kind of unit gets up to three offered; an unknown one
is not registered, with related units."""

from __future__ import annotations

import dataclasses
import enum
import re

from hotline.attendant.answers import hear
from hotline.attendant.call import AttendantCall
from hotline.attendant.lookup.absent import not_registered
from hotline.attendant.lookup.category import offer_category
from hotline.attendant.lookup.confirm import confirm
from hotline.attendant.lookup.narrow import ask_district, narrow
from hotline.attendant.lookup.search import search
from hotline.attendant.port import Expect
from hotline.attendant.words import asks_for_person, squeeze, yes_no
from hotline.directory.index import SearchResult
from hotline.directory.records import Entry

_TRANSFER = re.compile(r"转接|转到|转给|转过去|接通|帮我转|给我转|接到")


class LookupEnd(enum.StrEnum):
    READ = "read"  # the number was read out, after a clear yes
    OFFERED = "offered"  # units of the kind asked for were offered
    TRANSFER = "transfer"  # the caller wants to be put through
    NOT_REGISTERED = "not_registered"
    PERSON = "person"  # the caller asked for an operator
    UNHEARD = "unheard"  # still unclear after asking again


def wants_transfer(text: str) -> bool:
    return bool(_TRANSFER.search(squeeze(text)))


def _bare(entry: Entry) -> str:
    """The name without its district (万州区老年大学 -> 老年大学)."""
    for form in (entry.district, entry.district[:-1]):
        if form and entry.name.startswith(form):
            return entry.name[len(form):]
    return entry.name


def home_pick(result: SearchResult) -> SearchResult | None:
    """A name shared by several districts, asked for without one: the first is the home
    district's (the index ranks it first); it is confirmed as such, and on "no" the caller
    is asked which district. This is a local centre's line."""
    if result.confident or result.district is not None or len(result.hits) < 2:
        return None
    top = [h.entry for h in result.hits[:3] if h.score >= result.hits[0].score - 8]
    if len(top) < 2 or len({_bare(e) for e in top}) != 1 or \
            len({e.district for e in top}) != len(top):
        return None
    return dataclasses.replace(result, confident=True)


def _shared_elsewhere(result: SearchResult, entry: Entry) -> list[str]:
    """Other districts where a unit of much the same name is listed."""
    return list(dict.fromkeys(
        h.entry.district for h in result.hits[1:4]
        if h.entry.district and h.entry.district != entry.district
        and h.score >= result.hits[0].score - 8))


async def look_up(c: AttendantCall, text: str) -> tuple[LookupEnd, Entry | None]:
    transfer = wants_transfer(text)
    for _ in range(c.settings.attempts):
        if not text:
            await c.d.say("not_heard")
            text = (await hear(c, Expect.FREE)).text
            if not text:
                return LookupEnd.UNHEARD, None
        if asks_for_person(text):
            return LookupEnd.PERSON, None
        result = await search(c, _TRANSFER.sub("", squeeze(text)) or text)
        if result.category:
            if await offer_category(c, result):
                return LookupEnd.OFFERED, None
            return await _not_registered(c, text, result)
        result = home_pick(result) or await narrow(c, result, text)
        if not result.confident:
            return await _not_registered(c, text, result)
        entry = result.hits[0].entry
        answer = await confirm(c, entry)
        if answer is None:
            return LookupEnd.UNHEARD, None
        if answer:
            return await found(c, entry, transfer)
        elsewhere = _shared_elsewhere(result, entry)
        if elsewhere:  # 万州区老年大学? no: which district, then
            result = await ask_district(c, result.cleaned or text,
                                        [entry.district, *elsewhere], result)
            if result.confident and result.hits[0].entry != entry:
                entry = result.hits[0].entry
                if await confirm(c, entry):
                    return await found(c, entry, transfer)
        await c.d.say("not_heard")
        text = (await hear(c, Expect.FREE)).text
    return LookupEnd.UNHEARD, None


async def _not_registered(c: AttendantCall, text: str,
                          result: SearchResult) -> tuple[LookupEnd, None]:
    await not_registered(c, text, result)
    return LookupEnd.NOT_REGISTERED, None


async def found(c: AttendantCall, entry: Entry, transfer: bool) -> tuple[LookupEnd, Entry]:
    await c.record.note("lookup_confirmed", {"id": entry.id, "name": entry.name})
    if transfer and entry.transferable:
        return LookupEnd.TRANSFER, entry
    if transfer:  # 如果客户要求转接到未与我公司合作的企业时
        await c.d.say("transfer_not_registered")
    if entry.phone:
        await c.d.say("lookup_found", organisation=entry.name, phone=entry.phone)
    if not entry.transferable:
        return LookupEnd.READ, entry
    await c.d.say("transfer_offer", organisation=entry.name, interruptible=True)
    if yes_no((await hear(c, Expect.YES_NO)).text):
        return LookupEnd.TRANSFER, entry
    return LookupEnd.READ, entry
