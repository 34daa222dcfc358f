"""The knowledge base's console routes on the production console app over real stores:
operators read and search, only keepers (supervisors, admins) save, a bad form names the
field, an item past its review date is flagged, the told mark needs the record."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from hotline.domain.calls import NewCall
from hotline.knowledge.items import parse_item
from hotline.knowledge.service import KnowledgeService
from hotline.knowledge.store import KnowledgeStore
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from tests.console import add_users, client, console, console_services, csrf, login
from tests.knowledge_fixture import raw_items


async def test_readers_keepers_and_the_told_mark(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await db.upgrade()
    await add_users(db)
    store = KnowledgeStore(db)
    items = [parse_item(r, "t")[0] for r in raw_items()[:58]]
    await store.save([i for i in items if i is not None], "t", "sample", datetime.now(UTC))
    calls = CallRepository(db)
    call = await calls.open_call(NewCall("c-kb", "13900000001", "12345", datetime.now(UTC)))
    await calls.update_call(call, answered_by="1001")
    services = console_services(db, knowledge=KnowledgeService(store, calls))
    try:
        async with console(services) as (base, _), client() as op, client() as sup:
            assert await login(op, base, "1001") == 302
            assert await login(sup, base, "8001") == 302
            op_token, sup_token = await csrf(op, base), await csrf(sup, base)
            async with op.get(f"{base}/knowledge") as r:
                page = await r.text()
                assert r.status == 200 and "1 项已过复核日期" in page and "居住证办理" in page
            async with op.get(f"{base}/api/knowledge", params={"q": "低保怎么申请"}) as r:
                assert (await r.json())["results"][0]["id"] == "mz-dibao"
            async with op.get(f"{base}/api/knowledge/mz-dibao") as r:
                data = await r.json()
                assert data["version"] == 1 and data["overdue"] is False
                assert "家庭经济状况核对授权书" in data["materials"]
            form = {k: v for k, v in (await (await op.get(
                f"{base}/api/knowledge/mz-dibao")).json()).items()
                if k not in ("version", "overdue")}
            form = {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in form.items()}
            form["fees"] = "不收费（2027年起网上申请）"
            async with op.post(f"{base}/knowledge", data=form | {"csrf": op_token},
                               allow_redirects=False) as r:
                assert r.status == 403  # operators read, never edit
            async with sup.post(f"{base}/knowledge", data=form | {"materials": "",
                                                                   "csrf": sup_token}) as r:
                assert r.status == 400
                assert "form, field materials (所需材料): required" in await r.text()
            async with sup.post(f"{base}/knowledge", data=form | {"csrf": sup_token},
                                allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/knowledge/mz-dibao"
            assert (await store.get("mz-dibao")).version == 2
            assert [v.version for v in await store.versions("mz-dibao")] == [2, 1]
            audit = [a for a in await services.users.audit_log() if a.action == "knowledge_saved"]
            assert [(a.actor, a.target) for a in audit] == [("8001", "mz-dibao")]
            async with op.post(f"{base}/calls/{call}/told", data={"item": "mz-dibao"},
                               headers={"X-CSRF-Token": op_token}) as r:
                assert r.status == 200
                assert (await r.json())["told"] == [{"id": "mz-dibao", "title":
                                                     "城乡最低生活保障申请（低保）",
                                                     "version": 2}]
            async with op.post(f"{base}/calls/{call}/told", data={"item": "no-such"},
                               headers={"X-CSRF-Token": op_token}) as r:
                assert r.status == 400
    finally:
        await db.close()


async def test_the_listing_pages_and_counts_every_item_past_review(tmp_path: Path) -> None:
    """200 items, a page of 100 at a time; those past review are counted over all the items
    (not only the page shown) and can be listed alone; a bad page number names the field."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}")
    await db.upgrade()
    await add_users(db)
    store = KnowledgeStore(db)
    parsed = [parse_item(r, "t")[0] for r in raw_items()]
    items = [i for i in parsed if i is not None]
    # every 9th item (across every page) is past review
    items = [replace(i, effective=date(2019, 1, 1), review=date(2020, 1, 1)) if n % 9 == 0
             else i for n, i in enumerate(items)]
    await store.save(items, "t", "sample", datetime.now(UTC))
    today = datetime.now(UTC).date()
    overdue = sorted(i.id for i in items if i.review < today)
    assert len(items) == 200 and 22 <= len(overdue) < 100
    services = console_services(db, knowledge=KnowledgeService(store, CallRepository(db)))
    try:
        async with console(services) as (base, _), client() as op:
            assert await login(op, base, "1001") == 302
            shown: list[str] = []
            for number, more in ((1, True), (2, False)):
                async with op.get(f"{base}/knowledge", params={"page": str(number)}) as r:
                    text = await r.text()
                assert r.status == 200
                assert f"{len(overdue)} 项已过复核日期" in text
                assert ('id="next-page"' in text) is more
                rows = re.findall(r'<a href="/knowledge/([^"]+)">', text)
                assert len(rows) == 100
                shown += rows
            assert sorted(shown) == sorted(i.id for i in items)
            async with op.get(f"{base}/knowledge", params={"overdue": "1"}) as r:
                text = await r.text()
            assert sorted(re.findall(r'<a href="/knowledge/([^"]+)">', text)) == overdue
            assert 'id="next-page"' not in text and 'id="overdue-only"' not in text
            async with op.get(f"{base}/knowledge", params={"page": "0"}) as r:
                assert r.status == 400 and "page: a whole number from 1" in await r.text()
    finally:
        await db.close()
