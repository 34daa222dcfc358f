"""Caller IDs validated and normalised at arrival (issue 15 item 2), and what the controller
does with channels an operator's softphone dialled (item 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from hotline.calls.reconcile import parse_unattended
from hotline.domain.caller_id import ANONYMOUS, MAX_LENGTH, escape_raw, normalise_caller
from tests.fake_ari import FakeAri
from tests.harness import running


def test_numbers_are_kept_and_separators_dropped() -> None:
    assert normalise_caller("13900000001").number == "13900000001"
    assert normalise_caller(" +86 139-0000-0001 ").number == "+8613900000001"
    assert normalise_caller("(023) 6386.1234").number == "02363861234"
    assert normalise_caller("13900000001").rejected is None


def test_withheld_numbers_are_anonymous_without_an_event() -> None:
    for raw in ("", "  ", "anonymous", "Anonymous", "unknown", "restricted"):
        cid = normalise_caller(raw)
        assert cid.number == ANONYMOUS and cid.anonymous and cid.rejected is None, raw


def test_anything_else_is_anonymous_with_the_raw_escaped() -> None:
    long = "1" * 200
    cid = normalise_caller(long)
    assert cid.number == ANONYMOUS and cid.rejected == long
    assert normalise_caller("1" * MAX_LENGTH).number == "1" * MAX_LENGTH
    assert normalise_caller("1" * (MAX_LENGTH + 1)).number == ANONYMOUS
    for raw in ("sipp", "139+0001", "++1", "+", "1\n2", "=HYPERLINK(1)", "１３９", "13٣"):
        assert normalise_caller(raw).number == ANONYMOUS, raw
    assert normalise_caller("a\nb\x00\\中").rejected == "a\\nb\\x00\\\\\\u4e2d"


def test_a_long_raw_value_is_cut_and_says_how_long() -> None:
    escaped = escape_raw("x" * 5000)
    assert escaped.startswith("x" * 256) and escaped.endswith("...(5000 characters)")


@given(st.text(max_size=300))
def test_the_number_is_always_safe(raw: str) -> None:
    cid = normalise_caller(raw)
    assert cid.number == ANONYMOUS or (
        len(cid.number) <= MAX_LENGTH and cid.number.lstrip("+").isascii()
        and cid.number.lstrip("+").isdigit() and cid.number.count("+") <= 1)
    if cid.rejected is not None:
        assert cid.rejected.isascii() and cid.rejected.isprintable()
        assert "\n" not in cid.rejected and "\r" not in cid.rejected


@given(st.from_regex(r"\+?[0-9]{1,32}", fullmatch=True).filter(lambda s: len(s) <= MAX_LENGTH))
def test_every_valid_number_comes_through_unchanged(raw: str) -> None:
    assert normalise_caller(raw).number == raw


def test_an_unattended_call_note_is_normalised_too() -> None:
    call = parse_unattended("1700000000.1_1700000000_12345_" + "1" * 40, "node")
    assert call is not None and call.caller == ANONYMOUS
    call = parse_unattended("1700000000.1_1700000000_12345_", "node")
    assert call is not None and call.caller == ANONYMOUS


async def test_a_200_character_caller_id_is_recorded_as_anonymous(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    raw = "<script>" + "9" * 192
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call(caller=raw)
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    assert row.caller == ANONYMOUS
    [event] = [e for e in record.events if e.kind == "caller_id_rejected"]
    assert event.data == {"raw": raw}


async def test_a_good_caller_id_leaves_no_event(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        cid = await fake_ari.incoming_call(caller="+86 139 0000 0001")
        row = await h.record_for(cid)
        record = await h.calls.get(row.id)
    assert row.caller == "+8613900000001"
    assert not [e for e in record.events if e.kind == "caller_id_rejected"]


async def test_a_channel_an_operator_dialled_is_ended(fake_ari: FakeAri,
                                                      tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        channel = {"id": "op-1", "name": "PJSIP/1001-00000001", "state": "Ring",
                   "caller": {"number": "1001", "name": ""},
                   "dialplan": {"context": "operators", "exten": "1002", "priority": 1}}
        await fake_ari.emit({"type": "StasisStart", "args": ["operator"], "channel": channel})
        for _ in range(200):
            if fake_ari.calls_to("/channels/op-1", "DELETE"):
                break
            await asyncio.sleep(0.01)
        assert not h.controller.legs
    [hangup] = fake_ari.calls_to("/channels/op-1", "DELETE")
    assert hangup.params.get("reason") == "unallocated"
