"""The directory: CSV validation, all-or-nothing import, and the fuzzy lookup's tolerances."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.directory.importer import import_csv, load_entries
from hotline.directory.index import DirectoryIndex
from hotline.directory.pinyin import fuzzy, syllables
from hotline.directory.query import clean_query
from hotline.directory.records import CsvProblems, Entry, parse_csv
from hotline.errors import StoreError
from hotline.store.database import Database

SAMPLE = Path(__file__).parents[1] / "data" / "directory.csv"  # the five-entry fixture
HEADER = "id,name,aliases,industry,district,address,phone,transfer_to\n"


def entries() -> list[Entry]:
    rows = [
        Entry("1", "中国工商银行重庆万州分行", ("工行", "工商银行"), "银行", "万州区", "", "02358221111"),
        Entry("2", "中国工商银行重庆渝中支行", ("工行", "工商银行"), "银行", "渝中区", "", "02363001111"),
        Entry("3", "重庆市万州区人力资源和社会保障局", ("人社局", "社保局"), "政府机关", "万州区", "",
              "02358123456", "PJSIP/departments"),
        Entry("4", "重庆市渝中区人力资源和社会保障局", ("人社局", "社保局"), "政府机关", "渝中区", "",
              "02363123456"),
        Entry("5", "雾都火锅", (), "餐饮", "万州区", "", "02358765432"),
        Entry("6", "重庆市万州区三峡中心医院", ("三峡医院",), "医院", "万州区", "", "02358100000"),
        Entry("7", "重庆南山植物园", (), "公园", "南岸区", "", "02362461111"),
        Entry("8", "重庆市万州区牛栏坪小学", (), "学校", "万州区", "", "02358333333"),
    ]
    return rows


@pytest.fixture(scope="module")
def index() -> DirectoryIndex:
    return DirectoryIndex(entries(), home_district="万州区")


def top(index: DirectoryIndex, query: str) -> tuple[str | None, bool]:
    r = index.search(query)
    return (r.hits[0].entry.id if r.hits else None), r.confident


def test_pinyin_is_phrase_aware_and_folds_regional_sounds() -> None:
    assert syllables("重庆银行") == ["chong", "qing", "yin", "hang"]
    assert fuzzy("zhang") == fuzzy("zan") and fuzzy("niu") == fuzzy("liu")
    assert fuzzy("fu") == fuzzy("hu") and fuzzy("xing") == fuzzy("xin")


def test_sentence_frames_and_spacing_are_removed() -> None:
    assert clean_query("喂 你好 帮我 查一下 工行 的 电话") == "工行"
    assert clean_query("人社局电话是多少") == "人社局"
    assert clean_query("我想找 雾都 火锅") == "雾都火锅"


@pytest.mark.parametrize(("query", "expected"), [
    ("帮我查一下 工行 的 电话", "1"),          # alias, frame, spacing, home district first
    ("渝中的工商银行", "2"),                  # district word picks the outlet
    ("万州 社保局", "3"),                     # alias plus district
    ("渝中区人社局电话是多少", "4"),
    ("雾督火锅", "5"),                        # homophone (都 -> 督)
    ("无都火过", "5"),                        # homophones, two of them
    ("三峡中心医圆", "6"),
    ("南三植物园", "7"),                      # n/l and an/ang (山 shan -> 三 san)
    ("刘兰坪小学", "8"),                      # n/l (牛 niu -> 刘 liu, 栏)
    ("万州区三峡中心", "6"),                  # a dropped word
    ("那个重庆南山的植物园啊", "7"),           # extra characters
    ("gsyh", "1"),                            # initials typed by an operator
])
def test_noisy_queries_find_the_entry(index: DirectoryIndex, query: str, expected: str) -> None:
    assert top(index, query)[0] == expected


def test_absent_organisations_are_not_confident(index: DirectoryIndex) -> None:
    for query in ("重庆市气象局", "北京大学", "帮我查一下肯德基的电话"):
        assert not index.search(query).confident, query


def test_ambiguous_alias_is_not_confident_without_a_district() -> None:
    index = DirectoryIndex(entries(), home_district="")
    assert not index.search("社保局").confident
    assert index.search("万州社保局").confident


def test_category_lookup_lists_units_of_an_industry_in_a_district(
        index: DirectoryIndex) -> None:
    r = index.search("万州的银行")
    assert r.category and not r.confident
    assert [h.entry.id for h in r.hits] == ["1"]


def test_the_district_heard_in_a_query() -> None:
    """Which district a query names, and when it names none though it sounds as if."""
    index = DirectoryIndex([
        Entry("1", "重庆市黔江景博装饰工程有限公司", (), "装饰工程", "黔江区", "", "02379000001"),
        Entry("2", "重庆市江津景博装饰工程有限公司", (), "装饰工程", "江津区", "", "02347000002"),
        Entry("3", "重庆禾创区电子有限公司", (), "电子", "荣昌区", "", "02346000003"),
        Entry("4", "重庆市合川盟区电子有限公司", (), "电子", "合川区", "", "02342000004"),
        Entry("5", "重庆区数教育咨询有限公司", (), "教育咨询", "北碚区", "", "02368000005"),
        Entry("6", "重庆市北碚鸿数教育咨询有限公司", (), "教育咨询", "北碚区", "", "02368000006"),
        Entry("7", "重庆浙利旅游有限公司", (), "旅游", "合川区", "", "02342000007"),
        Entry("8", "重庆市合川旅游集散中心", (), "旅游", "合川区", "", "02342000008"),
        Entry("9", "重庆市长寿嘉地旅游有限公司", (), "旅游", "长寿区", "", "02340000009"),
        Entry("10", "重庆市忠腾数地旅游有限公司", (), "旅游", "忠县", "", "02354000010"),
    ])
    # the district said first: 黔江景博 also holds 江景 (jiang jing, like 江津)
    r = index.search("黔江 景博 装饰")
    assert r.district == "黔江区" and r.hits[0].entry.id == "1"
    # 禾创区 sounds like 合川区, but here it is the company's own name
    assert index.search("禾创区电子有限公司").hits[0].entry.id == "3"
    # 北碚区数: the district 北碚 and the name 区数, not 北碚区 and 数
    assert index.search("北碚区数教育咨询").hits[0].entry.id == "5"
    # 这利游 sounds like the filler 这里有, but those characters are a name: no category
    r = index.search("合川这利游")
    assert not r.category and r.hits[0].entry.id == "7"
    # 长 read zhang once the recogniser garbled the 寿 that told it was chang
    r = index.search("麻烦查下长瘦嘉地旅游")
    assert r.cleaned == "长瘦嘉地旅游" and r.district == "长寿区" and r.hits[0].entry.id == "9"


def test_csv_problems_name_the_lines() -> None:
    data = (HEADER + "1,甲,,,,,023,\n2,,,,,,023,\n3,丙,,,,,电话,\n1,丁,,,,,023,\n"
            "4,戊,,,,,,not a dial string\n5,己,,,,\n").encode()
    _, problems = parse_csv(data, "x.csv")
    assert problems == [
        (3, "name: empty"), (4, "phone: '电话' is not a phone number"),
        (5, "id '1' repeats line 2"),
        (6, "transfer_to: 'not a dial string' is not an Asterisk dial string (TECH/resource)"),
        (7, "expected 8 fields, found 6")]
    assert parse_csv(b"\xff\xfe", "x")[1][0][1].startswith("not UTF-8")
    assert parse_csv(b"a,b\n", "x")[1][0][0] == 1


async def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}")
    await db.upgrade()
    try:
        assert await import_csv(db, SAMPLE, progress=False) >= 5
        before = await load_entries(db)
        bad = tmp_path / "bad.csv"
        bad.write_text(HEADER + "900,好,,,,,023,\n901,坏,,,,,bad,\n", encoding="utf-8")
        with pytest.raises(CsvProblems, match=r"bad.csv:3: phone"):
            await import_csv(db, bad, replace=True, progress=False)
        clash = tmp_path / "clash.csv"
        clash.write_text(HEADER + "900,新,,,,,023,\n1,旧,,,,,023,\n", encoding="utf-8")
        with pytest.raises(StoreError, match="already in the directory"):
            await import_csv(db, clash, progress=False)
        assert await load_entries(db) == before  # nothing half-imported
    finally:
        await db.close()


def test_search_batch_prints_json_lines_in_order(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_HOME"] = str(tmp_path)
    cli = [sys.executable, "-m", "hotline", "directory"]
    done = subprocess.run([*cli, "import", str(SAMPLE)], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    lines = '人社局\n{"query": "gsyh"}\n北京大学\n'
    out = subprocess.run([*cli, "search", "--batch", "-", "--limit", "2"], input=lines,
                         env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["query"] for r in rows] == ["人社局", "gsyh", "北京大学"]
    assert rows[0]["confident"] and rows[0]["results"][0]["name"].endswith("社会保障局")
    assert set(rows[0]["results"][0]) == {"id", "name", "phone", "industry", "district",
                                          "hot", "score"}
    assert rows[1]["confident"] and not rows[2]["confident"]
    assert all(r["elapsed_ms"] >= 0 for r in rows)
    bad = subprocess.run([*cli, "search", "--batch", "-"], input='{"q": 1}\n', env=env,
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "batch line 1" in bad.stderr
