"""Reconnect and resync of the event stream, on the fake ARI."""

import asyncio
from pathlib import Path

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
