"""The call store the flow writes through: every write goes to the records, then to the hub.

A decorator over any CallStore, so the flow stays unaware of the console; nothing is
published for a write that failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hotline.domain.calls import NewCall
from hotline.live.hub import Happening, LiveHub
from hotline.ports import CallStore


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


class PublishingCallStore:
    def __init__(self, inner: CallStore, hub: LiveHub) -> None:
        self.inner = inner
        self.hub = hub

    async def open_call(self, call: NewCall) -> int:
        call_id = await self.inner.open_call(call)
        self.hub.publish(Happening(call_id, "arrived", {
            "caller": call.caller, "called": call.called,
            "arrived_at": call.arrived_at.isoformat(), "node": call.node}))
        return call_id

    async def update_call(self, call_id: int, **fields: Any) -> None:
        await self.inner.update_call(call_id, **fields)
        self.hub.publish(Happening(call_id, "update",
                                   {k: _plain(v) for k, v in fields.items()}))

    async def add_event(self, call_id: int, kind: str, data: dict[str, Any],
                        at: datetime | None = None) -> None:
        await self.inner.add_event(call_id, kind, data, at)
        self.hub.publish(Happening(call_id, kind, dict(data)))

    async def ping(self) -> None:
        await self.inner.ping()
