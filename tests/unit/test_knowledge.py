"""The knowledge base (一次性告知): import refusals pointing at the row and field, all or
nothing, versions kept on edit, search by Chinese text, pinyin, initials and unit (on SQLite
FTS5 and PostgreSQL full text), the 已一次性告知 mark on the record and in the statistics."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from openpyxl import Workbook

from hotline.domain.calls import NewCall
from hotline.knowledge.importer import import_file
from hotline.knowledge.items import ItemProblems, parse_item
from hotline.knowledge.search import search
from hotline.knowledge.service import TOLD, KnowledgeService
from hotline.knowledge.store import KnowledgeStore
from hotline.paths import project_dir
from hotline.reports.review import console_stats
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database

SAMPLE = project_dir("knowledge") / "sample.yaml"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def sample_items() -> list[dict[str, object]]:
    items: list[dict[str, object]] = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))["items"]
    return items


def write_yaml(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"items": items}, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_sample_is_valid_and_large_enough() -> None:
    items = sample_items()
    assert len(items) >= 50
    for n, raw in enumerate(items, 1):
        item, problems = parse_item(raw, f"item {n}")
        assert item is not None, problems
        assert item.materials and item.basis and item.refusal


async def test_import_refuses_bad_rows_naming_row_and_field_and_writes_nothing(
        db: Database, tmp_path: Path) -> None:
    store = KnowledgeStore(db)
    items = sample_items()[:5]
    broken = [dict(i) for i in items]
    broken[1]["materials"] = []  # item 2: no materials
    broken[3]["review"] = "2026-13-40"  # item 4: not a date
    broken[4]["id"] = broken[0]["id"]  # item 5: the id of item 1 again
    broken[2]["fee"] = "0"  # item 3: a misspelt field
    with pytest.raises(ItemProblems) as got:
        await import_file(store, write_yaml(tmp_path / "bad.yaml", broken), "t", NOW)
    text = str(got.value)
    assert f"item 2 ({items[1]['id']}), field materials (所需材料): required" in text
    assert f"item 4 ({items[3]['id']}), field review (复核日期): not a date" in text
    assert f"item 3 ({items[2]['id']}), field fee" in text and "unknown field" in text
    assert "field id (编号)" in text and "again (first at item 1" in text
    assert "nothing imported" in text
    assert await store.count() == 0


async def test_xlsx_import_with_chinese_headers_and_a_bad_row(db: Database,
                                                             tmp_path: Path) -> None:
    store = KnowledgeStore(db)
    raw = sample_items()[0]
    headers = ["编号", "事项名称", "责任单位", "依据", "时限", "程序", "所需材料", "收费",
               "地点和时间", "不予办理的情形", "关键词", "生效日期", "复核日期"]
    keys = ["id", "title", "unit", "basis", "time_limit", "procedure", "materials", "fees",
            "where_when", "refusal", "keywords", "effective", "review"]

    def row(item: dict[str, object]) -> list[object]:
        return ["\n".join(map(str, v)) if isinstance(v, list) else v
                for v in (item[k] for k in keys)]

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(headers)
    ws.append(row(raw))
    bad = dict(raw, id="second", title="")
    ws.append(row(bad))
    wb.save(tmp_path / "kb.xlsx")
    with pytest.raises(ItemProblems) as got:
        await import_file(store, tmp_path / "kb.xlsx", "t", NOW)
    assert "row 3, field title (事项名称): required" in str(got.value)
    assert await store.count() == 0
    ws.delete_rows(3)
    wb.save(tmp_path / "kb.xlsx")
    _, saved = await import_file(store, tmp_path / "kb.xlsx", "t", NOW)
    assert saved.added == 1
    got_item = await store.get(str(raw["id"]))
    assert list(got_item.materials) == raw["materials"]


async def test_reimport_and_edit_keep_old_versions(db: Database, tmp_path: Path) -> None:
    store = KnowledgeStore(db)
    items = sample_items()[:3]
    path = write_yaml(tmp_path / "kb.yaml", items)
    _, first = await import_file(store, path, "cli", NOW)
    assert (first.added, first.changed, first.unchanged) == (3, 0, 0)
    _, again = await import_file(store, path, "cli", NOW)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    edited = dict(items[0], time_limit="当场办结（2027年起）")
    await import_file(store, write_yaml(tmp_path / "kb2.yaml", [edited]), "cli",
                      NOW + timedelta(days=1))
    item = await store.get(str(items[0]["id"]))
    assert item.version == 2 and item.time_limit == "当场办结（2027年起）"
    versions = await store.versions(item.id)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].item.time_limit == items[0]["time_limit"]
    assert versions[0].source == "kb2.yaml"
    # the search index follows the edit: the new words are found, once
    hits = (await search(store, "2027年起")).hits
    assert [h.id for h in hits][:1] == [item.id]


async def test_search_by_text_pinyin_initials_and_unit(db: Database) -> None:
    store = KnowledgeStore(db)
    items = [parse_item(raw, "t")[0] for raw in sample_items()]
    await store.save([i for i in items if i is not None], "t", "sample.yaml", NOW)

    async def top(q: str, unit: str = "") -> list[str]:
        return [h.id for h in (await search(store, q, 3, unit)).hits]

    assert (await top("喂 你好 我想问一下 那个居住正 要带什么东西"))[0] == "ga-juzhuzheng"
    assert (await top("驾照到期了怎么换"))[0] == "cgs-jiashizheng-huanzheng"
    assert (await top("jzz"))[0] == "ga-juzhuzheng"  # initials
    assert "ga-juzhuzheng" in await top("juzhuzheng")  # full pinyin
    assert (await top("dibao"))[0] == "mz-dibao"
    by_unit = await top("补办", unit="重庆市万州区民政局婚姻登记处")
    assert by_unit and all(i.startswith("hydj-") for i in by_unit)
    assert await top("") == []


async def test_told_goes_on_the_record_and_into_the_statistics(db: Database) -> None:
    store = KnowledgeStore(db)
    calls = CallRepository(db)
    items = [parse_item(raw, "t")[0] for raw in sample_items()[:4]]
    await store.save([i for i in items if i is not None], "t", "sample.yaml", NOW)
    kb = KnowledgeService(store, calls)
    call_id = await calls.open_call(NewCall("kb-1", "13900000001", "12345", NOW))
    other = await calls.open_call(NewCall("kb-2", "13900000002", "12345", NOW))
    told = await kb.told(call_id, ["ga-hukou-qianru", "ga-juzhuzheng", "ga-hukou-qianru"],
                         "1001", NOW + timedelta(minutes=2))
    assert [i.id for i in told] == ["ga-hukou-qianru", "ga-juzhuzheng"]
    await kb.told(other, ["ga-juzhuzheng"], "1002", NOW + timedelta(minutes=3))
    record = await calls.get(call_id)
    event = next(e for e in record.events if e.kind == TOLD)
    assert event.data == {"by": "1001", "items": [
        {"id": "ga-hukou-qianru", "title": "户口迁入（投靠落户）", "version": 1},
        {"id": "ga-juzhuzheng", "title": "居住证办理", "version": 1}]}
    zone = ZoneInfo("Asia/Shanghai")
    figures = await console_stats(calls, NOW - timedelta(days=1),
                                  NOW + timedelta(days=1), zone)
    assert (figures["told_calls"], figures["told_items"]) == (2, 3)
    assert ("一次性告知来电 calls told all at once", 2) in figures["rows"]


def test_review_date_flags_an_item() -> None:
    raw = dict(sample_items()[-1])
    item, _ = parse_item(raw, "t")
    assert item is not None
    assert item.overdue(date(2026, 12, 2)) and not item.overdue(date(2025, 6, 30))
    raw["review"] = "2022-01-01"  # before its effective date (2023-01-01)
    assert parse_item(raw, "row 9")[1][0].message == "before the effective date"


def test_cli_search_prints_the_directory_style_json(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.cli import main

    env = {"HOTLINE_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'kb.db'}",
           "HOTLINE_HOME": str(tmp_path)}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["knowledge", "import", str(SAMPLE)]) == 0
        assert "58 new" in capsys.readouterr().out
        assert main(["knowledge", "search", "--json", "--limit", "2", "社保卡丢了咋个补"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["query"] == "社保卡丢了咋个补" and len(data["results"]) == 2
        assert set(data["results"][0]) == {"id", "title", "unit", "score"}
        assert data["results"][0]["id"] == "rs-shebaoka-buban"
        bad = tmp_path / "bad.yaml"
        bad.write_text("items:\n - id: x\n   title: [unclosed\n", encoding="utf-8")
        assert main(["knowledge", "import", str(bad)]) == 2
        assert "not valid YAML" in capsys.readouterr().err
