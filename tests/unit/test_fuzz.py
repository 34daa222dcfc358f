"""Property-based bad input (hypothesis): the phrasebook YAML, the directory CSV (and an
import that must be all rows or none), ARI events with missing or unexpected fields, and
callers who hang up at any moment or press keys in storms. Expected every time: no crash
other than the documented error, which names the place, and nothing half-written."""

from __future__ import annotations

import asyncio
import string
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.ari.events import Event, parse_event
from hotline.directory.importer import import_csv
from hotline.directory.records import CsvProblems, parse_csv
from hotline.errors import HotlineError, PhrasebookError
from hotline.paths import project_dir
from hotline.phrasebook.model import parse_phrasebook
from hotline.store.database import Database
from tests.fake_ari import FakeAri
from tests.harness import FAST, running

SHIPPED = (project_dir("scripts") / "phrasebook.yaml").read_text(encoding="utf-8")
HEADER = "id,name,aliases,industry,district,address,phone,transfer_to\n"
cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cells,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(cells, inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.text(max_size=400),
    # the shipped phrasebook with a slice cut out, or a line doubled, or bytes changed
    st.integers(0, len(SHIPPED)).flatmap(lambda i: st.integers(i, min(len(SHIPPED), i + 200))
                                         .map(lambda j: SHIPPED[:i] + SHIPPED[j:])),
    st.tuples(st.integers(0, len(SHIPPED)), st.text(alphabet=":-{}[]'\"\n\t #&*!|>%@`",
                                                     max_size=5))
    .map(lambda t: SHIPPED[:t[0]] + t[1] + SHIPPED[t[0]:])))
def test_any_phrasebook_text_loads_or_names_its_problem(text: str) -> None:
    try:
        book = parse_phrasebook(text, "fuzz.yaml")
    except PhrasebookError as exc:
        assert "fuzz.yaml" in str(exc)  # points at the file (and the line where known)
    else:
        assert all(p.id and p.text for p in book.phrases.values())


rows = st.lists(st.tuples(*([cells] * 8)), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300),
                 rows.map(lambda rs: (HEADER + "".join(",".join(
                     '"' + c.replace('"', '""') + '"' for c in r) + "\n" for r in rs))
                     .encode())))
def test_any_csv_parses_or_names_the_line(data: bytes) -> None:
    entries, problems = parse_csv(data, "fuzz.csv")
    assert not (entries and problems)  # all rows or none
    for line, reason in problems:
        assert line >= 1 and reason


async def test_an_import_with_one_bad_row_writes_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'dir.db'}")
    await db.upgrade()
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "1,中国工商银行,工行,银行,万州区,,02358221111,\n", "utf-8")
    assert await import_csv(db, good, progress=False) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "2,雾都宾馆,,住宿,渝中区,,02363801234,\n"
                   "3,,,住宿,渝中区,,not-a-phone,\n", "utf-8")
    with pytest.raises(CsvProblems) as caught:
        await import_csv(db, bad, replace=True, progress=False)
    assert "3" in str(caught.value) or ":3" in str(caught.value)
    from hotline.directory.importer import load_entries
    assert [e.name for e in await load_entries(db)] == ["中国工商银行"]  # untouched
    await db.close()


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, st.dictionaries(
    st.sampled_from(["type", "channel", "args", "digit", "cause", "playback", "application",
                     "duration", "duration_ms", "timestamp", "cause_txt"]),
    json_values, max_size=6),
    st.builds(lambda t, ch: {"type": t, "channel": ch},
              st.sampled_from(["StasisStart", "StasisEnd", "ChannelDestroyed",
                               "ChannelHangupRequest", "ChannelDtmfReceived",
                               "PlaybackFinished", "ChannelTalkingStarted", "Dial"]),
              json_values)))
def test_any_ari_event_is_typed_or_unknown_never_a_crash(data: object) -> None:
    event = parse_event(data)
    assert isinstance(event, Event)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hang_up_after=st.floats(0.0, 4.0),
       keys=st.text(alphabet=string.digits + "*#", max_size=40))
def test_a_caller_may_hang_up_or_press_keys_at_any_moment(
        tmp_path_factory: pytest.TempPathFactory, hang_up_after: float, keys: str) -> None:
    """Whatever the moment (ringing, greeting, listening, the rating) and however many keys
    arrive, the call's record ends closed and no task is left behind."""
    tmp = tmp_path_factory.mktemp("call")

    async def one_call() -> None:
        fake_ari = FakeAri()
        await fake_ari.start()
        try:
            await call_on(fake_ari)
        finally:
            await fake_ari.close()

    async def call_on(fake_ari: FakeAri) -> None:
        async with running(fake_ari, tmp, FAST) as h:
            cid = await fake_ari.incoming_call()
            for key in keys:  # a storm, faster than any prompt
                if cid in fake_ari.channels:
                    await fake_ari.dtmf(cid, key)
            await asyncio.sleep(hang_up_after)
            await fake_ari.caller_hangs_up(cid)
            row = await h.record_for(cid, timeout_s=10)
            assert row.ended_at is not None and row.disposition
            for _ in range(100):
                if not h.controller.tasks:
                    break
                await asyncio.sleep(0.01)
            assert not h.controller.tasks
            assert row.ended_at - row.arrived_at < timedelta(seconds=hang_up_after + 5)

    asyncio.run(one_call())


def test_documented_errors_are_hotline_errors() -> None:
    assert issubclass(PhrasebookError, HotlineError) and issubclass(CsvProblems, HotlineError)
