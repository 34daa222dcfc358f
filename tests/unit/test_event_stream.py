"""Reconnect and resync of the event stream, on the fake ARI."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from hotline.ari.events import Channel
from hotline.calls.controller import CallController
from hotline.domain.calls import Disposition
from tests.fake_ari import FakeAri
from tests.harness import running


async def test_reconnects_after_the_socket_drops(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        assert fake_ari.connections == 1
        await fake_ari.drop_sockets()
        await asyncio.wait_for(fake_ari.connected.wait(), 5)
        await asyncio.wait_for(h.stream.connected.wait(), 5)
        assert fake_ari.connections == 2
        assert h.stream.reconnects == 1
        resyncs = [r for r in fake_ari.requests if r.path == "/ari/applications/hotline"]
        assert len(resyncs) == 2  # once per connection


async def test_resync_ends_calls_that_vanished_while_disconnected(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        fake_ari.playback_s = 5.0  # the caller is mid-prompt
        cid = await fake_ari.incoming_call()
        await h.record_for(cid, ended=False)
        await fake_ari.drop_sockets()
        del fake_ari.channels[cid]  # hung up while we could not hear it: no events
        await asyncio.wait_for(fake_ari.connected.wait(), 5)
        row = await h.record_for(cid)
        assert row.disposition == Disposition.ABANDONED
        assert not h.controller.legs


async def test_resync_adopts_channels_it_did_not_know(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        await fake_ari.drop_sockets()
        fake_ari.channels["orphan"] = {"id": "orphan", "state": "Up",
                                       "caller": {"number": "13900000002"},
                                       "dialplan": {"exten": "12345"}}
        await asyncio.wait_for(fake_ari.connected.wait(), 5)
        row = await h.record_for("orphan", ended=False)
        assert row.caller == "13900000002"
        await fake_ari.caller_hangs_up("orphan")
        assert (await h.record_for("orphan")).ended_at is not None


class Leg:
    def __init__(self, channel_id: str) -> None:
        self.id = channel_id
        self.gone: list[int] = []

    def on_gone(self, cause: int, destroyed: bool) -> None:
        self.gone.append(cause)


class ListingRest:
    """ARI as resync sees it, with what happens on the controller while each request is
    on its way (the call flows run meanwhile)."""

    def __init__(self, listed: list[str], meanwhile: Callable[[str], None]) -> None:
        self.listed = listed
        self.meanwhile = meanwhile

    async def request(self, method: str, path: str) -> dict:
        self.meanwhile(path)
        return {"channel_ids": self.listed}

    async def get_channel(self, channel_id: str) -> Channel:
        self.meanwhile(f"/channels/{channel_id}")
        return Channel(channel_id, state="Ring", exten="12345", context="public")


async def test_a_leg_taken_on_while_the_resync_lists_channels_is_not_ended_by_the_listing(
        ) -> None:
    """A call in progress rings a seat while the listing, made just before, is on its way:
    the seat's leg is not in it, and must not be taken for a leg that vanished."""
    held, seat = Leg("chan-1"), Leg("seat-9")
    controller = CallController(None, "hotline", None)  # type: ignore[arg-type]
    controller.legs["chan-1"] = held  # type: ignore[assignment]

    def seat_rung(path: str) -> None:
        if path == "/applications/hotline":
            controller.legs["seat-9"] = seat  # type: ignore[assignment]

    controller.rest = ListingRest(["chan-1"], seat_rung)  # type: ignore[assignment]
    present = await controller.resync()
    assert seat.gone == [] and held.gone == []
    assert present == {"chan-1", "seat-9"}
    del controller.legs["chan-1"]  # a leg held before the listing and not in it: gone
    controller.rest = ListingRest([], lambda path: None)  # type: ignore[assignment]
    await controller.resync()
    assert seat.gone == [0]


async def test_a_listed_channel_started_while_it_is_looked_up_is_not_started_twice() -> None:
    controller = CallController(None, "hotline", None)  # type: ignore[arg-type]
    started: list[str] = []
    controller._group = object()  # type: ignore[assignment]
    controller._start_call = lambda leg, adopted=False: started.append(leg.id)  # type: ignore[method-assign]
    late = Leg("late")

    def served_meanwhile(path: str) -> None:
        if path == "/channels/late":
            controller.legs["late"] = late  # type: ignore[assignment]

    controller.rest = ListingRest(["late", "other"], served_meanwhile)  # type: ignore[assignment]
    await controller.resync()
    assert started == ["other"]  # "late" was being served already: not adopted again


async def test_malformed_events_do_not_stop_the_stream(fake_ari: FakeAri, tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path) as h:
        await fake_ari.emit_raw("not json")
        await fake_ari.emit({"type": "StasisStart"})
        await fake_ari.emit({"type": "ChannelDtmfReceived", "channel": {"id": "ghost"},
                             "digit": "1"})
        await fake_ari.emit({"type": "SomethingNew"})
        cid = await fake_ari.incoming_call()
        await h.record_for(cid, ended=False)
        assert h.controller.unknown_events >= 3
        assert h.stream.connects == 1
