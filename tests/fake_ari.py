"""An in-process fake ARI server for unit tests: REST + event WebSocket on aiohttp.

It records every request, keeps a table of channels, finishes playbacks after a set delay,
and can drop the WebSocket to test reconnection and resynchronisation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

USER, PASSWORD = "tester", "not-a-default-secret"


@dataclass
class Req:
    method: str
    path: str
    params: dict[str, str]


@dataclass
class FakeAri:
    app_name: str = "hotline"
    playback_s: float = 0.01
    # media (a substring of its URI) -> how long it plays instead, e.g. a long phrase
    slow_media: dict[str, float] = field(default_factory=dict)
    requests: list[Req] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    connections: int = 0
    fail_next: dict[str, int] = field(default_factory=dict)
    # Fault injection over a whole call: the Nth request (the event socket not counted)
    # fails with a 500, or the channel it names hangs up just before it is served.
    fail_at: int = 0
    hang_up_at: int = 0
    counted: int = 0
    # Operator seats by endpoint ("PJSIP/1001"): "answer", "no_answer" or "unreachable".
    seats: dict[str, str] = field(default_factory=dict)
    seat_answer_s: float = 0.05
    record_s: float = 2.0  # how long a caller speaks when their words are taken down
    recorded: list[tuple[str, str]] = field(default_factory=list)  # (channel, name)
    bridges: dict[str, list[str]] = field(default_factory=dict)
    # called with each request (the event socket not counted) before it is served
    before_request: Callable[[Req], Awaitable[None]] | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    server: TestServer | None = None

    # -- server -------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(middlewares=[self._record])
        r = app.router
        r.add_get("/ari/events", self._events)
        r.add_get("/ari/asterisk/info", self._info)
        r.add_get("/ari/channels", self._list_channels)
        r.add_get("/ari/channels/{id}", self._get_channel)
        r.add_post("/ari/channels/{id}/answer", self._answer)
        r.add_post("/ari/channels/{id}/ring", self._ok)
        r.add_delete("/ari/channels/{id}/ring", self._ok)
        r.add_post("/ari/channels", self._originate)
        r.add_post("/ari/bridges", self._create_bridge)
        r.add_post("/ari/bridges/{bid}/addChannel", self._add_to_bridge)
        r.add_post("/ari/bridges/{bid}/removeChannel", self._remove_from_bridge)
        r.add_get("/ari/bridges", self._list_bridges)
        r.add_post("/ari/channels/{id}/snoop", self._snoop)
        r.add_delete("/ari/bridges/{bid}", self._destroy_bridge)
        r.add_post("/ari/channels/{id}/variable", self._ok)
        r.add_delete("/ari/channels/{id}", self._hangup)
        r.add_post("/ari/channels/{id}/play/{pid}", self._play)
        r.add_delete("/ari/playbacks/{pid}", self._stop_playback)
        r.add_post("/ari/channels/{id}/record", self._record_channel)
        r.add_post("/ari/recordings/live/{name}/stop", self._stop_recording)
        r.add_get("/ari/applications/{app}", self._application)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return f"http://127.0.0.1:{self.server.port}/ari"

    async def close(self) -> None:
        await self.drop_sockets()
        if self.server is not None:
            await self.server.close()

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization", "") != _basic(USER, PASSWORD):
            return web.json_response({"message": "Authentication required"}, status=401)
        self.requests.append(Req(request.method, request.path, dict(request.query)))
        key = f"{request.method} {request.match_info.route.resource.canonical}" \
            if request.match_info.route.resource else ""
        if self.fail_next.get(key, 0) > 0:
            self.fail_next[key] -= 1
            return web.json_response({"message": "injected failure"}, status=500)
        if request.path != "/ari/events":
            if self.before_request is not None:
                await self.before_request(self.requests[-1])
            self.counted += 1
            if self.counted == self.fail_at:
                return web.json_response({"message": "injected failure"}, status=500)
            cid = request.match_info.get("id", "")
            if self.counted == self.hang_up_at and cid in self.channels:
                await self.caller_hangs_up(cid)  # the leg this request names hangs up now
        return await handler(request)

    # -- test controls ------------------------------------------------------------------------
    async def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("application", self.app_name)
        event.setdefault("timestamp", "2026-11-22T10:00:00.000+0800")
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(event))

    async def emit_raw(self, text: str) -> None:
        for ws in list(self.sockets):
            await ws.send_str(text)

    async def drop_sockets(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        self.sockets.clear()
        self.connected.clear()

    def channel_json(self, channel_id: str) -> dict[str, Any]:
        return self.channels[channel_id]

    async def incoming_call(self, caller: str = "13900000001", exten: str = "12345",
                            channel_id: str | None = None) -> str:
        cid = channel_id or f"chan-{next(self._ids)}"
        self.channels[cid] = {"id": cid, "name": f"PJSIP/public-{cid}", "state": "Ring",
                              "caller": {"number": caller, "name": ""},
                              "dialplan": {"context": "public", "exten": exten, "priority": 2}}
        await self.emit({"type": "StasisStart", "args": ["public"],
                         "channel": self.channels[cid]})
        return cid

    async def caller_hangs_up(self, channel_id: str, cause: int = 16) -> None:
        chan = self.channels.pop(channel_id, None)
        if chan is not None:
            await self.emit({"type": "ChannelHangupRequest", "channel": chan, "cause": cause})
            if chan.get("in_stasis", True):
                await self.emit({"type": "StasisEnd", "channel": chan})
            await self.emit({"type": "ChannelDestroyed", "channel": chan, "cause": cause})

    def seat_channels(self, endpoint: str) -> list[str]:
        return [r.params.get("channelId", "") for r in self.calls_to("/ari/channels")
                if r.params.get("endpoint") == endpoint]

    def in_bridge(self, channel_id: str) -> bool:
        return any(channel_id in members for members in self.bridges.values())

    async def dtmf(self, channel_id: str, digit: str) -> None:
        await self.emit({"type": "ChannelDtmfReceived", "digit": digit, "duration_ms": 100,
                         "channel": self.channels[channel_id]})

    async def talking(self, channel_id: str) -> None:
        await self.emit({"type": "ChannelTalkingStarted", "channel": self.channels[channel_id]})

    def calls_to(self, suffix: str, method: str = "POST") -> list[Req]:
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    def played(self, channel_id: str) -> list[str]:
        return [r.params.get("media", "") for r in self.requests
                if r.path.startswith(f"/ari/channels/{channel_id}/play")]

    # -- handlers -----------------------------------------------------------------------------
    async def _events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connections += 1
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
        if ws in self.sockets:
            self.sockets.remove(ws)
        return ws

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response({"system": {"version": "22.0.0-fake"}})

    async def _ok(self, request: web.Request) -> web.Response:
        if request.match_info["id"] not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)
        return web.Response(status=204)

    async def _answer(self, request: web.Request) -> web.Response:
        cid = request.match_info["id"]
        if cid not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)
        self.channels[cid]["state"] = "Up"
        return web.Response(status=204)

    async def _list_channels(self, request: web.Request) -> web.Response:
        return web.json_response(list(self.channels.values()))

    async def _get_channel(self, request: web.Request) -> web.Response:
        chan = self.channels.get(request.match_info["id"])
        if chan is None:
            return web.json_response({"message": "Channel not found"}, status=404)
        return web.json_response(chan)

    async def _hangup(self, request: web.Request) -> web.Response:
        cid = request.match_info["id"]
        if cid not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)
        asyncio.get_running_loop().call_soon(
            lambda: asyncio.ensure_future(self.caller_hangs_up(cid)))
        return web.Response(status=204)

    async def _play(self, request: web.Request) -> web.Response:
        cid, pid = request.match_info["id"], request.match_info["pid"]
        if cid not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)

        media = request.query.get("media", "")
        seconds = next((t for k, t in self.slow_media.items() if k in media), self.playback_s)

        async def finish() -> None:
            await asyncio.sleep(seconds)
            await self.emit({"type": "PlaybackFinished", "playback": {
                "id": pid, "target_uri": f"channel:{cid}", "state": "done",
                "media_uri": request.query.get("media", "")}})

        asyncio.get_running_loop().create_task(finish())
        return web.json_response({"id": pid, "target_uri": f"channel:{cid}",
                                  "state": "queued"}, status=201)

    async def _originate(self, request: web.Request) -> web.Response:
        q = request.query
        cid = q.get("channelId") or f"seat-{next(self._ids)}"
        endpoint = q.get("endpoint", "")
        behaviour = self.seats.get(endpoint, "unreachable")
        chan = {"id": cid, "name": f"{endpoint}-{cid}", "state": "Down", "in_stasis": False,
                "caller": {"number": endpoint.rsplit("/", 1)[-1], "name": ""},
                "dialplan": {"context": "operators", "exten": "s", "priority": 1}}
        self.channels[cid] = chan
        loop = asyncio.get_running_loop()

        async def later() -> None:
            if behaviour == "answer":
                await asyncio.sleep(self.seat_answer_s)
                if cid in self.channels:
                    chan.update(state="Up", in_stasis=True)
                    await self.emit({"type": "StasisStart", "args": [q.get("appArgs") or "seat"],
                                     "channel": chan})
            elif behaviour == "no_answer":
                await asyncio.sleep(float(q.get("timeout", "30")))
                await self.caller_hangs_up(cid, 19)
            else:
                await self.caller_hangs_up(cid, 20)

        task = loop.create_task(later())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(chan)

    async def _create_bridge(self, request: web.Request) -> web.Response:
        bid = f"bridge-{next(self._ids)}"
        self.bridges[bid] = []
        return web.json_response({"id": bid, "bridge_type": "mixing", "channels": []})

    async def _add_to_bridge(self, request: web.Request) -> web.Response:
        bid, cid = request.match_info["bid"], request.query.get("channel", "")
        if bid not in self.bridges:
            return web.json_response({"message": "Bridge not found"}, status=404)
        if cid not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=422)
        self.bridges[bid].append(cid)
        return web.Response(status=204)

    async def _remove_from_bridge(self, request: web.Request) -> web.Response:
        bid, cid = request.match_info["bid"], request.query.get("channel", "")
        if bid not in self.bridges:
            return web.json_response({"message": "Bridge not found"}, status=404)
        if cid not in self.bridges[bid]:
            return web.json_response({"message": "Channel not in bridge"}, status=422)
        self.bridges[bid].remove(cid)
        return web.Response(status=204)

    async def _list_bridges(self, request: web.Request) -> web.Response:
        return web.json_response([{"id": bid, "bridge_type": "mixing", "channels": [
            c for c in members if c in self.channels]} for bid, members in self.bridges.items()])

    async def _snoop(self, request: web.Request) -> web.Response:
        """A snoop channel on a channel, entering the app (with its appArgs) at once."""
        target, q = request.match_info["id"], request.query
        if target not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)
        cid = q.get("snoopId") or f"snoop-{next(self._ids)}"
        chan = {"id": cid, "name": f"Snoop/{target}-{cid}", "state": "Up",
                "caller": {"number": "", "name": ""},
                "dialplan": {"context": "default", "exten": "s", "priority": 1}}
        self.channels[cid] = chan

        async def enter() -> None:
            await asyncio.sleep(0.005)
            if cid in self.channels:
                await self.emit({"type": "StasisStart", "args": [q.get("appArgs", "")],
                                 "channel": chan})

        task = asyncio.get_running_loop().create_task(enter())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(chan)

    async def _destroy_bridge(self, request: web.Request) -> web.Response:
        self.bridges.pop(request.match_info["bid"], None)
        return web.Response(status=204)

    async def _record_channel(self, request: web.Request) -> web.Response:
        """The caller speaks for ``record_s``, then pauses: the recording ends by silence
        (or at once with the hang-up), and RecordingFinished says how long it is."""
        cid, name = request.match_info["id"], request.query.get("name", "")
        if cid not in self.channels:
            return web.json_response({"message": "Channel not found"}, status=404)
        self.recorded.append((cid, name))
        started = asyncio.get_running_loop().time()

        async def finish() -> None:
            while cid in self.channels and \
                    asyncio.get_running_loop().time() - started < self.record_s:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            took = asyncio.get_running_loop().time() - started
            await self.emit({"type": "RecordingFinished", "recording": {
                "name": name, "target_uri": f"channel:{cid}", "state": "done",
                "format": "wav", "duration": int(min(took, self.record_s))}})

        task = asyncio.get_running_loop().create_task(finish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"name": name, "target_uri": f"channel:{cid}",
                                  "state": "queued"}, status=201)

    async def _stop_recording(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _stop_playback(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _application(self, request: web.Request) -> web.Response:
        return web.json_response({"name": request.match_info["app"],
                                  "channel_ids": list(self.channels), "bridge_ids": []})


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
