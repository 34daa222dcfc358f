"""Every step of the loop from the shell: units and the sample catalogue, a unit user, and
dispatch → return → redispatch → sign → extend-request → extend-approve → reply → follow-up
(不满意) → send-back → reply → follow-up (满意), then show --json (the history in order)
and export --jsonl."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest

from hotline.cli import main

ROOT = Path(__file__).resolve().parents[2]
WATER = "重庆市万州区自来水有限公司"
CITY = "重庆市万州区城市管理局"


def run(*args: str, stdin: str = "") -> int:
    sys.stdin = io.StringIO(stdin)
    try:
        return main(list(args))
    finally:
        sys.stdin = sys.__stdin__


async def test_the_loop_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite+aiosqlite:///{tmp_path / 'h.db'}")

    def shell(*args: str, stdin: str = "") -> int:
        return run(*args, stdin=stdin)

    async def ok(*args: str, stdin: str = "") -> str:
        code = await asyncio.to_thread(shell, *args, stdin=stdin)
        out = capsys.readouterr()
        assert code == 0, (args, out.err)
        return out.out

    async def refused(*args: str, stdin: str = "") -> str:
        code = await asyncio.to_thread(shell, *args, stdin=stdin)
        out = capsys.readouterr()
        assert code == 2, (args, out.out)
        return out.err

    lines = (ROOT / "directory/units_sample.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines if line and not line.startswith("#")][1:]
    for name, parent, contact in rows:
        await ok("units", "add", name, *(["--parent", parent] if parent else []),
                 "--contact", contact)
    assert WATER in await ok("units", "list")
    assert "already exists" in await refused("units", "add", WATER)
    bad = tmp_path / "bad.csv"
    bad.write_text("category,keywords,unit\n供水,,水务局\n", encoding="utf-8")
    err = await refused("units", "catalogue", str(bad))
    assert "row 2, field keywords" in err and "row 2, field unit: '水务局'" in err
    assert "15 rows" in await ok("units", "catalogue",
                                 str(ROOT / "directory/dispatch_catalogue.csv"))
    await ok("users", "add", "w1", "--role", "unit", "--unit", WATER, "--password-stdin",
             stdin="unit-pass-123\n")
    await ok("users", "add", "c1", "--role", "unit", "--unit", CITY, "--password-stdin",
             stdin="unit-pass-123\n")
    for user, role in (("1001", "operator"), ("8001", "supervisor")):
        await ok("users", "add", user, "--role", role, "--password-stdin",
                 stdin=f"{role}-pass-123\n")
    assert "needs its unit" in await refused("users", "add", "x", "--role", "unit",
                                             "--password-stdin", stdin="unit-pass-123\n")
    out = await ok("tickets", "open", "--kind", "complaint", "--by", "1001", "--summary",
                   "小区停水，水压低", "--field", "complainant_name=王先生", "--field",
                   "complainant_phone=13800000001", "--field", f"respondent_unit={WATER}",
                   "--field", "request=停水三天")
    tid = out.split()[1]
    assert WATER in await ok("tickets", "suggest", tid)
    steps = [
        ("dispatch", tid, "--unit", CITY, "--assist", WATER, "--by", "1001"),
        ("return", tid, "--reason", "供水不归城管", "--by", "c1"),
        ("redispatch", tid, "--unit", WATER, "--by", "8001"),
        ("sign", tid, "--by", "w1"),
        ("extend-request", tid, "--days", "3", "--reason", "管网改造", "--by", "w1"),
        ("extend-approve", tid, "--informed", "--by", "8001"),
        ("reply", tid, "--text", "已恢复供水", "--by", "w1"),
        ("follow-up", tid, "--method", "电话", "--grade", "不满意", "--opinion", "水压低",
         "--by", "1001"),
        ("send-back", tid, "--reason", "水压仍低", "--by", "8001"),
        ("reply", tid, "--text", "已加压", "--by", "w1"),
        ("follow-up", tid, "--method", "走访", "--grade", "满意", "--by", "1001"),
    ]
    assert "not dispatched" in await refused("tickets", "sign", tid, "--by", "w1")
    for step in steps:
        await ok("tickets", *step)
        if step[0] == "dispatch":
            assert "only the lead unit" in await refused("tickets", "sign", tid, "--by", "w1")
    assert "no such console user" in await refused("tickets", "remind", "--by", "nobody")
    shown = json.loads(await ok("tickets", "show", tid, "--json"))
    assert (shown["status"], shown["stage"], shown["unit"]) == ("closed", "closed", WATER)
    assert [(e["kind"], e["by"]) for e in shown["events"]] == [
        ("created", "1001"), ("dispatched", "1001"), ("returned", "c1"),
        ("redispatched", "8001"), ("signed", "w1"), ("extension_requested", "w1"),
        ("extension_approved", "8001"), ("replied", "w1"), ("follow_up", "1001"),
        ("sent_back", "8001"), ("replied", "w1"), ("follow_up", "1001")]
    assert [e["at"] for e in shown["events"]] == sorted(e["at"] for e in shown["events"])
    exported = (await ok("tickets", "export", "--since", "2020-01-01", "--jsonl")).splitlines()
    assert [json.loads(line)["id"] for line in exported] == [int(tid)]
    assert await ok("tickets", "export", "--since", "2999-01-01", "--jsonl") == ""
