"""查询中需要等待 (004 篇10 6、): "请稍候，正在为您查询", the keep-alive phrase every
``keep_alive_s`` while the search runs, and thanks for waiting once it needed one."""

from __future__ import annotations

import asyncio

from hotline.attendant.call import AttendantCall
from hotline.directory.index import SearchResult


async def search(c: AttendantCall, text: str) -> SearchResult:
    assert c.directory is not None
    await c.d.say("please_hold")
    task = asyncio.ensure_future(c.directory.lookup(text))
    kept_alive = False
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=c.settings.keep_alive_s)
            if done:
                break
            kept_alive = True  # never leave the caller in silence
            await c.d.say("keep_alive")
    finally:
        if not task.done():
            task.cancel()
    result = task.result()
    if kept_alive:
        await c.d.say("thanks_for_waiting")
    await c.record.note("lookup", {
        "query": text, "cleaned": result.cleaned, "confident": result.confident,
        "category": result.category,
        "results": [{"id": h.entry.id, "name": h.entry.name, "score": h.score}
                    for h in result.hits[:3]]})
    return result
