"""The ARI event WebSocket under a supervisor: connect, read, reconnect with backoff.

Asterisk does not replay events missed while disconnected, so after every (re)connect the
``on_connected`` hook runs first; the controller uses it to resynchronise its calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

import aiohttp

from hotline.ari.events import Event, UnknownEvent, parse_event
from hotline.ari.rest import basic_auth

log = logging.getLogger(__name__)

EventSink = Callable[[Event], Awaitable[None]]
Hook = Callable[[], Awaitable[None]]


class EventStream:
    def __init__(self, base_url: str, user: str, password: str, app: str, sink: EventSink,
                 *, on_connected: Hook | None = None, on_disconnected: Hook | None = None,
                 backoff_initial_s: float = 0.2, backoff_max_s: float = 5.0) -> None:
        ws_base = base_url.rstrip("/").replace("http://", "ws://", 1).replace(
            "https://", "wss://", 1)
        self.url = f"{ws_base}/events?" + urlencode({"app": app, "subscribeAll": "false"})
        self._headers = {"Authorization": basic_auth(user, password)}
        self._sink = sink
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._backoff = (backoff_initial_s, backoff_max_s)
        self.connected = asyncio.Event()
        self.connects = 0
        self.last_error = ""

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    async def run(self) -> None:
        """Run until cancelled. Never raises on a lost connection; it retries. Anything else
        (the on_connected hook failing) ends it with that error, for its supervisor to start
        it again; ``connected`` is never left set by a stream that is not running."""
        try:
            await self._connect_and_read()
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            await self._lost()
            raise
        finally:
            self.connected.clear()

    async def _lost(self) -> None:
        if self.connected.is_set():
            self.connected.clear()
            log.warning("ARI event stream lost: %s", self.last_error)
            if self._on_disconnected is not None:
                await self._on_disconnected()

    async def _connect_and_read(self) -> None:
        delay = self._backoff[0]
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.ws_connect(self.url, headers=self._headers, heartbeat=20,
                                                  max_msg_size=8 * 1024 * 1024) as ws:
                        self.connects += 1
                        self.connected.set()
                        delay = self._backoff[0]
                        log.info("ARI event stream connected (%d)", self.connects)
                        if self._on_connected is not None:
                            await self._on_connected()
                        await self._read(ws)
                        self.last_error = "the event stream closed"
                except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                await self._lost()
                await asyncio.sleep(delay * (1 + random.random() / 4))
                delay = min(delay * 2, self._backoff[1])

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type == aiohttp.WSMsgType.ERROR:
                    break
                continue
            try:
                event = parse_event(json.loads(msg.data))
            except ValueError:
                event = UnknownEvent(type="?", reason="event is not valid JSON")
            try:
                await self._sink(event)
            except Exception:  # a handler bug must not take the stream down
                log.exception("handler failed on %s", event.type)


class Dispatcher:
    """asyncari-style dispatch: a parsed event of class X goes to ``handler.on_X(event)``.
    Dispatching on the class (not the raw type string) keeps a malformed StasisStart, parsed
    as UnknownEvent, away from on_StasisStart."""

    def __init__(self, handler: object) -> None:
        self._handler = handler

    async def __call__(self, event: Event) -> None:
        method = getattr(self._handler, f"on_{type(event).__name__}", None)
        if method is None:
            method = getattr(self._handler, "on_unhandled", None)
        if method is not None:
            await method(event)
