"""The directory index saved in one memory-mapped file: the same answers as the in-memory
index, a damaged or stale file rebuilt (never trusted), and entries changed by hand
searchable at the next poll, laid over the saved index."""

from __future__ import annotations

import json
import logging
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from hotline.cli import main
from hotline.directory import indexfile
from hotline.directory.edits import remove_entry, save_entry
from hotline.directory.importer import import_csv
from hotline.directory.index import DirectoryIndex, top_k
from hotline.directory.live import LiveIndex
from hotline.directory.records import Entry, parse_csv
from hotline.directory.service import DirectoryService
from hotline.errors import HotlineError
from hotline.store.database import Database

DATA = Path(__file__).parents[1] / "data"
ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "directory" / "sample.csv"
EXPECTED = json.loads((DATA / "directory_expected.json").read_text(encoding="utf-8"))


def _entries(name: str) -> list[Entry]:
    entries, problems = parse_csv((ROOT / name).read_bytes())
    assert problems == []
    return entries


def _answers(index: DirectoryIndex | LiveIndex, queries: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for q in queries:
        r = index.search(q)
        out.append({"query": q, "confident": r.confident, "category": r.category,
                    "hits": [[h.entry.id, h.score] for h in r.hits]})
    return out


@pytest.mark.parametrize("name", ["directory/sample.csv", "tests/data/directory.csv"])
def test_the_saved_index_answers_as_the_in_memory_one_did(tmp_path: Path, name: str) -> None:
    """The lookups recorded from the index before it was persisted: the same hits, scores
    and confidence, from memory and from the mapped file."""
    expected = EXPECTED[name]
    queries = [e["query"] for e in expected]
    entries = _entries(name)
    built = DirectoryIndex(entries, home_district="万州区")
    assert _answers(built, queries) == expected
    size = indexfile.save(built.data, tmp_path / "index")
    assert size == (tmp_path / "index").stat().st_size
    mapped = DirectoryIndex.over(indexfile.load(tmp_path / "index"), "万州区")
    assert _answers(mapped, queries) == expected
    assert list(mapped.entries()) == entries  # every field, decoded back
    assert all(mapped.find(e.id) == n for n, e in enumerate(entries))
    assert mapped.find("no-such-id") is None
    assert not mapped.data.arrays["grams_values"].flags.writeable


def _saved(tmp_path: Path) -> Path:
    path = tmp_path / "index"
    indexfile.save(DirectoryIndex(_entries("tests/data/directory.csv")).data, path)
    return path


def test_a_damaged_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    whole = path.read_bytes()
    path.write_bytes(whole[:-10])
    with pytest.raises(indexfile.IndexFileError, match="truncated"):
        indexfile.load(path)
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 0xFF  # a byte in the middle of the arrays
    path.write_bytes(bytes(flipped))
    with pytest.raises(indexfile.IndexFileError, match="checksum"):
        indexfile.load(path)
    versioned = bytearray(whole)
    struct.pack_into("<I", versioned, 8, indexfile.FORMAT_VERSION + 1)
    path.write_bytes(bytes(versioned))
    with pytest.raises(indexfile.IndexFileError, match="format version"):
        indexfile.load(path)
    header = bytearray(whole)
    header[30] ^= 0x20  # inside the JSON header
    path.write_bytes(bytes(header))
    with pytest.raises(indexfile.IndexFileError, match="header"):
        indexfile.load(path)
    path.write_bytes(b"not an index at all, just text")
    with pytest.raises(indexfile.IndexFileError, match="not a directory index"):
        indexfile.load(path)
    path.write_bytes(b"HLDIR")
    with pytest.raises(indexfile.IndexFileError, match="truncated"):
        indexfile.load(path)


def test_the_file_is_replaced_whole(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    indexfile.save(DirectoryIndex([Entry("1", "雾都火锅", phone="02358765432")]).data, path)
    assert len(DirectoryIndex.over(indexfile.load(path))) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["index"]  # no temporary left behind
    assert path.stat().st_mode & 0o077 == 0


async def _service(db: Database, path: Path) -> DirectoryService:
    service = DirectoryService(path=path, in_process=True)
    await service.start(db, "万州区")
    return service


async def test_start_uses_the_saved_file_and_rebuilds_a_bad_one(
        db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "hotline.directory")
    await import_csv(db, SAMPLE, progress=False)
    path = tmp_path / "hotline.db.directory-index"
    first = await _service(db, path)
    assert "no saved directory index" in caplog.text and path.exists()
    assert (await first.lookup("工行")).hits[0].entry.id == "1"
    caplog.clear()
    second = await _service(db, path)
    assert "indexed" not in caplog.text  # mapped, not built
    assert len(second.live) == 353 and (await second.lookup("工行")).hits[0].entry.id == "1"
    damaged = bytearray(path.read_bytes())
    damaged[-100] ^= 0xFF
    path.write_bytes(bytes(damaged))
    caplog.clear()
    third = await _service(db, path)
    assert "not trusted" in caplog.text and "checksum mismatch" in caplog.text
    assert "indexed" in caplog.text
    assert (await third.lookup("工行")).hits[0].entry.id == "1"
    indexfile.load(path)  # written again, whole


async def test_a_file_older_than_the_directory_is_rebuilt(
        db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "hotline.directory")
    await import_csv(db, DATA / "directory.csv", progress=False)
    path = tmp_path / "index"
    await _service(db, path)
    await import_csv(db, SAMPLE, replace=True, progress=False)  # while nothing was running
    caplog.clear()
    service = await _service(db, path)
    assert "is stale (the directory was imported since" in caplog.text
    assert len(service.live) == 353
    # a file from another database is not trusted either
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    await other.upgrade()
    try:
        await import_csv(other, SAMPLE, progress=False)
        caplog.clear()
        await _service(other, path)
        assert "built from another database" in caplog.text
    finally:
        await other.close()


async def test_an_import_is_rebuilt_in_the_background_while_the_old_index_serves(
        db: Database, tmp_path: Path) -> None:
    await import_csv(db, DATA / "directory.csv", progress=False)
    service = await _service(db, tmp_path / "index")
    before = service.live
    await import_csv(db, SAMPLE, replace=True, progress=False)
    await service.poll(db)
    assert service._rebuild is not None
    assert (await service.lookup("雾都火锅")).hits  # the old index answers meanwhile
    await service._rebuild
    assert service.live is not before and len(service.live) == 353
    restarted = await _service(db, tmp_path / "index")
    assert restarted.live.overlay_size == 0 and len(restarted.live) == 353


async def test_a_change_by_hand_is_searchable_at_the_next_poll(db: Database,
                                                               tmp_path: Path) -> None:
    await import_csv(db, SAMPLE, progress=False)
    path = tmp_path / "index"
    service = await _service(db, path)
    new = Entry("new-1", "重庆市万州区星辰量子科技有限公司", ("星辰量子",), "科技", "万州区", "",
                "02358000001")
    assert await save_entry(db, new, by="test", must_exist=False) == "add"
    assert all(h.entry.id != "new-1" for h in (await service.lookup("星辰量子")).hits)
    await service.poll(db)
    found = await service.lookup("星辰量子科技")
    assert found.confident and found.hits[0].entry == new
    assert await service.entry("new-1") == new and len(service.live) == 354
    # edited: the new name is found, the old one is not
    old = await service.entry("1")
    assert old is not None and old.name == "中国工商银行重庆万州分行"
    await save_entry(db, Entry("1", "万州江南新区政务服务中心", (), "政府机关", "万州区", "",
                               "02358221111"), must_exist=True)
    await service.poll(db)
    assert (await service.lookup("江南新区政务服务中心")).hits[0].entry.id == "1"
    assert all(h.entry.id != "1" for h in (await service.lookup("中国工商银行重庆万州分行")).hits)
    # removed: never offered again, nor its id
    await remove_entry(db, "5")
    await service.poll(db)
    assert all(h.entry.id != "5" for h in (await service.lookup("雾都火锅")).hits)
    assert all(h.entry.id != "5" for h in (await service.lookup("wdhg")).hits)
    assert await service.entry("5") is None and len(service.live) == 353
    # the changes survive a restart (laid over the same file) and are folded in at a rebuild
    again = await _service(db, path)
    assert again.live.overlay_size == 3
    assert (await again.lookup("星辰量子科技")).hits[0].entry.id == "new-1"
    await again._rebuild_now(db)
    assert again.live.overlay_size == 0 and len(again.live) == 353
    assert (await again.lookup("星辰量子科技")).hits[0].entry.id == "new-1"
    assert await again.entry("5") is None


async def test_a_change_by_hand_is_checked_as_an_imported_row(db: Database) -> None:
    with pytest.raises(HotlineError, match="phone"):
        await save_entry(db, Entry("x", "某单位", phone="not a number"))
    with pytest.raises(HotlineError, match="transfer_to"):
        await save_entry(db, Entry("x", "某单位", transfer_to="Local/9000@internal"))
    with pytest.raises(HotlineError, match="no directory entry"):
        await save_entry(db, Entry("x", "某单位", phone="02358000001"), must_exist=True)
    with pytest.raises(HotlineError, match="no directory entry"):
        await remove_entry(db, "x")


def test_the_overlay_masks_and_adds_without_touching_the_base() -> None:
    base = DirectoryIndex(_entries("tests/data/directory.csv"), "万州区")
    live = LiveIndex(base)
    hot = Entry("9", "万州区雾都火锅二店", (), "餐饮", "万州区", "", "02358765400")
    changed = live.with_changes({"9": hot, "1": None})
    assert len(live) == len(base) and len(changed) == len(base)  # one added, one removed
    assert changed.entry("1") is None and live.entry("1") is not None
    assert any(h.entry.id == "9" for h in changed.search("雾都火锅二店").hits)
    category = changed.search("万州的餐饮")
    assert category.category and "9" in {h.entry.id for h in category.hits}
    assert base.search("雾都火锅二店").hits[0].entry.id != "9"  # the base is unchanged


def test_search_uses_the_saved_index_from_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`directory search` builds the file in a child process once, then maps it; `add` is
    searchable by the next command."""
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    assert main(["directory", "import", str(SAMPLE)]) == 0
    assert main(["directory", "search", "人社局", "--limit", "1", "--json"]) == 0
    assert (tmp_path / "hotline.db.directory-index").exists()
    assert main(["directory", "add", "n1", "--name", "万州区星辰量子科技有限公司",
                 "--phone", "02358000001", "--district", "万州区"]) == 0
    assert main(["directory", "edit", "n1", "--aliases", "星辰|量子公司"]) == 0
    capsys.readouterr()
    assert main(["directory", "search", "量子公司", "--limit", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["id"] == "n1"
    assert main(["directory", "remove", "n1"]) == 0
    assert main(["directory", "edit", "n1", "--name", "x"]) == 2
    assert "no directory entry with id 'n1'" in capsys.readouterr().err


def test_candidates_tied_at_the_cut_are_the_same_on_every_processor() -> None:
    """The k best weights, ties at the cut going to the lowest positions (numpy's
    argpartition leaves ties to the CPU's sorting kernel: an AVX-512 machine and an AMD one
    picked different 4th and 5th hits for one query)."""
    weights = np.array([1.0, 3.0, 2.0, 2.0, 5.0, 2.0, 0.5])
    assert top_k(weights, 3).tolist() == [1, 2, 4]
    assert top_k(weights, 4).tolist() == [1, 2, 3, 4]
    assert top_k(weights, 9).tolist() == list(range(7))
    flat = np.ones(1000)
    assert top_k(flat, 300).tolist() == list(range(300))
