"""The lookup dialogue (004 篇10 企业查询 / 模糊查询), over the Recognizer and Directory ports.

Please hold while searching (and the keep-alive phrase if it takes long); ask which district
or industry when results compete; confirm "您要查询的是…对吗?"; read the number twice; offer a
transfer where the organisation accepts one; otherwise say it is not registered, offer
related units, and keep the unmatched query on the record.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from hotline.calls.context import CallContext
from hotline.directory.index import SearchResult
from hotline.directory.records import Entry
from hotline.ports import CallStore, Directory, Recognizer

log = logging.getLogger(__name__)
Say = Callable[..., Awaitable[bool]]

_NO = re.compile(r"不是|不对|不用|不要|没有|错了|^不$|^否")
_YES = re.compile(r"是|对|嗯|好|行|可以|没错|要|需要|转")


def yes_no(text: str) -> bool | None:
    """是/对/对的/好的… -> True; 不是/不对/不用… -> False; anything else -> None."""
    t = re.sub(r"\s+", "", text)
    if not t:
        return None
    if _NO.search(t):
        return False
    return True if _YES.search(t) else None


class Outcome(enum.StrEnum):
    FOUND = "found"
    TRANSFER = "transfer"
    NOT_FOUND = "not_found"
    UNHEARD = "unheard"


@dataclass(frozen=True)
class LookupSettings:
    listen_s: float = 8.0  # how long to wait for the caller's words
    keep_alive_s: float = 3.0  # a search slower than this gets the keep-alive phrase
    attempts: int = 2


class LookupSteps:
    def __init__(self, store: CallStore, directory: Directory, recognizer: Recognizer,
                 say: Say, settings: LookupSettings) -> None:
        self.store = store
        self.directory = directory
        self.recognizer = recognizer
        self.say = say
        self.s = settings
        self.entry: Entry | None = None

    async def hear(self, call: CallContext) -> str:
        """The caller's answer (each segment is already on the record as a transcript)."""
        return (await self.recognizer.listen(call.leg, self.s.listen_s)).strip()

    async def run(self, call: CallContext) -> tuple[Outcome, Entry | None]:
        text = await self.hear(call)
        for _ in range(self.s.attempts):
            if not text:
                await self.say(call, "not_heard")
                text = await self.hear(call)
                if not text:
                    return Outcome.UNHEARD, None
            result = await self.search(call, text)
            result = await self.narrow(call, result, text)
            if result.confident:
                entry = result.hits[0].entry
                await self.say(call, "lookup_confirm", organisation=entry.name, interruptible=True)
                answer = yes_no(await self.hear(call))
                if answer is False:
                    await self.say(call, "not_heard")
                    text = await self.hear(call)
                    continue
                return await self.found(call, entry)
            return await self.not_found(call, text, result), None
        return Outcome.UNHEARD, None

    async def search(self, call: CallContext, text: str) -> SearchResult:
        await self.say(call, "please_hold")
        task = asyncio.ensure_future(self.directory.lookup(text))
        done, _ = await asyncio.wait({task}, timeout=self.s.keep_alive_s)
        if not done:  # never leave the caller in silence
            await self.say(call, "keep_alive")
        result = await task
        await self.store.add_event(call.record_id, "lookup", {
            "query": text, "cleaned": result.cleaned, "confident": result.confident,
            "results": [{"id": h.entry.id, "name": h.entry.name, "score": h.score}
                        for h in result.hits[:3]]})
        return result

    async def narrow(self, call: CallContext, result: SearchResult,
                     text: str) -> SearchResult:
        """Results of different districts (or industries) compete: ask, as the seed does."""
        if result.confident or len(result.hits) < 2:
            return result
        top = [h.entry for h in result.hits[:3] if h.score >= result.hits[0].score - 8]
        districts = list(dict.fromkeys(e.district for e in top if e.district))
        industries = list(dict.fromkeys(e.industry for e in top if e.industry))
        if len(districts) > 1 and result.district is None:
            phrase, field, choices = "lookup_which_district", "district", districts
        elif len(industries) > 1 and result.industry is None:
            phrase, field, choices = "lookup_which_industry", "industry", industries
        else:
            return result
        await self.say(call, phrase, organisation=result.cleaned or text,
                       choices="还是".join(choices[:3]), interruptible=True)
        answer = await self.hear(call)
        if not answer:
            return result
        log.info("call %s: narrowed by %s", call.record_id, field)
        return await self.search(call, answer + (result.cleaned or text))

    async def found(self, call: CallContext, entry: Entry) -> tuple[Outcome, Entry]:
        self.entry = entry
        await self.store.add_event(call.record_id, "lookup_confirmed",
                                   {"id": entry.id, "name": entry.name})
        if entry.phone:
            await self.say(call, "lookup_found", organisation=entry.name, phone=entry.phone)
        if not entry.transferable:
            return Outcome.FOUND, entry
        await self.say(call, "transfer_offer", organisation=entry.name, interruptible=True)
        if yes_no(await self.hear(call)):
            return Outcome.TRANSFER, entry
        return Outcome.FOUND, entry

    async def not_found(self, call: CallContext, text: str, result: SearchResult) -> Outcome:
        await self.store.add_event(call.record_id, "unmatched_query", {"query": text})
        await self.say(call, "lookup_not_registered")
        near = result.hits[0].entry if result.hits else None
        related = await self.directory.related(near) if near is not None else []
        if related:
            await self.say(call, "lookup_offer_related", interruptible=True)
            if yes_no(await self.hear(call)):
                for unit in related[:2]:
                    await self.say(call, "lookup_related", organisation=unit.name,
                                   address=unit.address or unit.district, phone=unit.phone)
        return Outcome.NOT_FOUND
