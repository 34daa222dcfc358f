"""The shipped demo directory (directory/sample.csv), the CSV's comment lines and its `hot`
column, and the names the recogniser is told to expect (AskedNames.most_asked), through the
real importer, index and store on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from hotline.cli import main
from hotline.directory.asked import AskedNames
from hotline.directory.importer import import_csv, load_entries
from hotline.directory.index import DirectoryIndex
from hotline.directory.records import CsvProblems, parse_csv
from hotline.domain.calls import NewCall
from hotline.store.calls_repo import CallRepository
from hotline.store.database import Database
from hotline.store.models import DirectoryEntry

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "directory" / "sample.csv"
HEADER = "id,name,aliases,industry,district,address,phone,transfer_to,hot\n"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


# -- comments and the hot column ---------------------------------------------------------------
def test_comment_lines_are_skipped_and_line_numbers_stay_the_files() -> None:
    data = ('# a header comment, with a "stray quote\n'
            '#\n'
            + HEADER +
            '1,甲,,,,,023,,1\n'
            '# a comment between rows\n'
            '2,乙,,,,,bad,,\n'
            '3,"丙\n#not a comment: inside a quoted field",,,,,023,,\n'
            '4,丁,,,,,023,,maybe\n').encode()
    entries, problems = parse_csv(data, "x.csv")
    assert problems == [
        (6, "phone: 'bad' is not a phone number"),
        (8, "name: contains control characters"),  # read on: the # line was in the field
        (9, "hot: 'maybe' is not one of 1/0, yes/no, true/false, 是/否 (or empty)")]
    assert [(e.id, e.name, e.hot) for e in entries] == [("1", "甲", True)]


@pytest.mark.parametrize(("value", "hot"), [
    ("", False), ("1", True), ("0", False), ("yes", True), ("No", False), ("TRUE", True),
    ("false", False), ("是", True), ("否", False), (" 1 ", True)])
def test_hot_values(value: str, hot: bool) -> None:
    entries, problems = parse_csv((HEADER + f"1,甲,,,,,023,,{value}\n").encode())
    assert not problems and entries[0].hot is hot


def test_the_hot_column_is_optional_and_only_after_the_others() -> None:
    old = "id,name,aliases,industry,district,address,phone,transfer_to\n1,甲,,,,,023,\n"
    entries, problems = parse_csv(old.encode())
    assert not problems and not entries[0].hot
    moved = "hot,id,name,aliases,industry,district,address,phone,transfer_to\n"
    _, problems = parse_csv(("# first\n" + moved).encode())
    assert problems[0][0] == 2 and problems[0][1].startswith(
        "header must be id,name,aliases,industry,district,address,phone,transfer_to[,hot]")
    _, problems = parse_csv((HEADER + "1,甲,,,,,023,\n").encode())  # a row without its hot
    assert problems == [(2, "expected 9 fields, found 8")]
    assert parse_csv(b"# only a comment\n")[1][0][1].startswith("empty file")


async def test_hot_is_stored_and_a_bad_value_imports_nothing(db: Database,
                                                             tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("# example numbers\n" + HEADER + "1,甲,,,,,023,,是\n2,乙,,,,,023,,\n",
                    encoding="utf-8")
    assert await import_csv(db, good, progress=False) == 2
    assert [(e.id, e.hot) for e in sorted(await load_entries(db), key=lambda e: e.id)] == [
        ("1", True), ("2", False)]
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "3,丙,,,,,023,,1\n4,丁,,,,,023,,hot\n", encoding="utf-8")
    with pytest.raises(CsvProblems, match=r"bad.csv:3: hot: 'hot' is not one of"):
        await import_csv(db, bad, replace=True, progress=False)
    assert {e.id for e in await load_entries(db)} == {"1", "2"}  # all rolled back


# -- the shipped sample --------------------------------------------------------------------------
def test_the_sample_is_what_its_script_makes() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_directory.py"),
                           "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def sample() -> DirectoryIndex:
    entries, problems = parse_csv(SHIPPED.read_bytes(), str(SHIPPED))
    assert problems == []
    return DirectoryIndex(entries, home_district="万州区")


def test_the_sample_is_one_district_with_examples_marked(sample: DirectoryIndex) -> None:
    head = SHIPPED.read_text(encoding="utf-8").split("\nid,", 1)[0]
    assert "EXAMPLE DATA" in head and "made up" in head
    entries = list(sample.entries())
    assert len(entries) >= 300
    assert 40 <= sum(e.hot for e in entries) <= 60
    local = [e for e in entries if e.district == "万州区"]
    assert len(local) >= 0.95 * len(entries)
    assert sum(e.transferable for e in entries) >= 4
    assert len({e.phone for e in entries}) == len(entries)  # no two units share a number
    # the README's five, as they were
    first = {e.id: e for e in entries[:5]}
    assert first["1"].name == "中国工商银行重庆万州分行"
    assert first["2"].aliases == ("人社局", "社保局")
    assert (first["4"].name, first["4"].district) == ("雾都宾馆", "渝中区")
    assert (first["5"].name, first["5"].district) == ("雾都火锅", "万州区")
    kinds = {e.industry for e in entries}
    assert {"政府机关", "派出所", "医院", "学校", "银行", "供水", "供电", "燃气", "通信",
            "邮政快递", "交通", "商场超市", "酒店", "餐饮"} <= kinds


@pytest.mark.parametrize(("query", "expected"), [
    ("帮我查一下人社局的电话", "重庆市万州区人力资源和社会保障局"),  # the Mandarin call's words
    ("帮我查一下工行的电话", "中国工商银行重庆万州分行"),           # the README's
    ("社保局", "重庆市万州区人力资源和社会保障局"),                  # an alias
    ("仁社局", "重庆市万州区人力资源和社会保障局"),                  # a homophone (人 -> 仁)
    ("医保局电话是多少", "重庆市万州区医疗保障局"),
    ("公鸡金中心", "重庆市住房公积金管理中心万州分中心"),              # 积 -> 鸡
    ("车管所", "重庆市万州区公安局交巡警支队车辆管理所"),
    ("出入镜", "重庆市万州区公安局出入境管理支队"),                  # 境 -> 镜
    ("三峡中心医院", "重庆大学附属三峡医院"),
    ("高笋塘派出所", "重庆市万州区公安局高笋塘派出所"),
    ("供电局", "国网重庆市电力公司万州供电分公司"),
    ("燃气公司", "重庆万州燃气有限公司"),
    ("我想找自来水公司", "重庆市万州区自来水有限公司"),
    ("飞机场", "重庆万州五桥机场"),
    ("云阳的人民医院", "云阳县人民医院"),                          # a district narrows
])
def test_the_sample_answers_what_callers_ask(sample: DirectoryIndex, query: str,
                                             expected: str) -> None:
    r = sample.search(query)
    assert r.confident and r.hits[0].entry.name == expected, r.hits[:2]


def test_the_sample_keeps_deliberate_ambiguities(sample: DirectoryIndex) -> None:
    """Names listed in two districts are not answered without the district."""
    for query in ("雾都", "老年大学", "人民医院"):
        r = sample.search(query)
        assert not r.confident and len({h.entry.district for h in r.hits[:2]}) == 2, query


def test_search_prints_the_hot_mark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    monkeypatch.setenv("HOTLINE_HOME_DISTRICT", "万州区")
    assert main(["directory", "import", str(SHIPPED)]) == 0
    capsys.readouterr()
    assert main(["directory", "search", "人社局", "--limit", "1"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert "重庆市万州区人力资源和社会保障局" in line and line.endswith("  hot")
    assert main(["directory", "search", "雾都火锅", "--limit", "1", "--json"]) == 0
    assert '"hot": false' in capsys.readouterr().out


# -- the recogniser's vocabulary -----------------------------------------------------------------
VOCAB_CSV = HEADER + (
    "1,重庆市万州区人力资源和社会保障局,人社局|社保局,政府机关,万州区,,02358123456,,1\n"
    "2,重庆市万州区医疗保障局,医保局|医保,政府机关,万州区,,02358100002,,1\n"
    "3,雾都火锅,雾都,餐饮,万州区,,02358765432,,\n"
    "4,雾都宾馆,雾都,住宿,渝中区,,02363801234,,\n"
    "5,重庆市万州区老年大学,老年大学,政府机关,万州区,,02358100005,,\n"
    "6,万州区五桥农贸市场,,商场超市,万州区,,02358100006,,\n")


async def _calls(db: Database, n: int) -> tuple[CallRepository, list[int]]:
    repo = CallRepository(db)
    ids = [await repo.open_call(NewCall(f"v-{i}", "13900000001", "12345",
                                        T0 + timedelta(minutes=i))) for i in range(n)]
    return repo, ids


def _lookup(entry: str, confident: bool) -> dict[str, object]:
    return {"query": "q", "cleaned": "q", "confident": confident, "category": False,
            "results": [{"id": entry, "name": "n", "score": 99.0},
                        {"id": "6", "name": "n", "score": 50.0}]}


async def test_most_asked_is_hot_first_then_the_lookups_on_record(db: Database,
                                                                  tmp_path: Path) -> None:
    csv_file = tmp_path / "d.csv"
    csv_file.write_text(VOCAB_CSV, encoding="utf-8")
    await import_csv(db, csv_file, progress=False)
    repo, calls = await _calls(db, 5)
    events = [
        # 雾都火锅 asked in three calls (twice in one of them: counted once)
        (calls[0], "lookup", _lookup("3", True)), (calls[0], "lookup_confirmed", {"id": "3"}),
        (calls[1], "lookup", _lookup("3", True)), (calls[2], "lookup", _lookup("3", True)),
        # 老年大学: not confident, then confirmed once the district was asked
        (calls[3], "lookup", _lookup("5", False)), (calls[3], "lookup_confirmed", {"id": "5"}),
        # never confident nor confirmed: the second hit of every lookup is not counted either
        (calls[4], "lookup", _lookup("4", False)),
        # the hot 医保局 asked once, the hot 人社局 never
        (calls[4], "lookup_confirmed", {"id": "2"}),
        # an entry no longer in the directory, asked the most
        *[(c, "lookup_confirmed", {"id": "gone"}) for c in calls],
        (calls[4], "unmatched_query", {"query": "婚姻登记处"}),
    ]
    for call_id, kind, data in events:
        await repo.add_event(call_id, kind, data, T0 + timedelta(minutes=calls.index(call_id)))
    assert await repo.asked_entries() == [("gone", 5), ("3", 3), ("2", 1), ("5", 1)]

    vocab = AskedNames(db, repo)
    assert await vocab.most_asked(20) == [
        "重庆市万州区医疗保障局", "医保局", "医保",        # hot, asked once
        "重庆市万州区人力资源和社会保障局", "人社局", "社保局",  # hot, never asked yet
        "雾都火锅", "雾都",                               # asked in three calls
        "重庆市万州区老年大学", "老年大学"]                 # in one
    assert await vocab.most_asked(4) == ["重庆市万州区医疗保障局", "医保局", "医保",
                                         "重庆市万州区人力资源和社会保障局"]
    assert await vocab.most_asked(5, aliases=False) == [
        "重庆市万州区医疗保障局", "重庆市万州区人力资源和社会保障局", "雾都火锅",
        "重庆市万州区老年大学"]
    assert await vocab.most_asked(0) == []
    # only what was asked since call 3 (老年大学 at call 3, 医保局 at call 4)
    since = T0 + timedelta(minutes=3)
    assert await vocab.most_asked(20, since=since, aliases=False) == [
        "重庆市万州区医疗保障局", "重庆市万州区人力资源和社会保障局", "重庆市万州区老年大学"]
    # the names come from the directory as it is now
    async with db.unit() as s:
        await s.execute(delete(DirectoryEntry).where(DirectoryEntry.id == "3"))
    assert "雾都火锅" not in await vocab.most_asked(20)


async def test_most_asked_on_the_shipped_sample(db: Database) -> None:
    """An empty record: the sample's hot entries, each name once, 人社局 among them."""
    await import_csv(db, SHIPPED, progress=False)
    words = await AskedNames(db).most_asked(1000)
    names = await AskedNames(db).most_asked(1000, aliases=False)
    assert len(names) == sum(e.hot for e in await load_entries(db))
    assert len(words) == len(set(words)) and "人社局" in words and "车管所" in words
    assert len(await AskedNames(db).most_asked(30)) == 30
