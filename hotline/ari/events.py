"""Typed ARI events. ``parse_event`` never raises: an event it cannot read becomes
``UnknownEvent`` with the reason, so one odd message cannot stop the stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Channel:
    id: str
    name: str = ""
    state: str = ""
    caller_number: str = ""
    caller_name: str = ""
    exten: str = ""
    context: str = ""
    creationtime: str = ""

    @classmethod
    def from_json(cls, data: Any) -> Channel:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise ValueError("channel without an id")
        caller = _obj(data.get("caller"))
        dialplan = _obj(data.get("dialplan"))
        return cls(
            id=data["id"],
            name=str(data.get("name", "")),
            state=str(data.get("state", "")),
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            exten=str(dialplan.get("exten", "")),
            context=str(dialplan.get("context", "")),
            creationtime=str(data.get("creationtime", "")),
        )


@dataclass(frozen=True)
class Event:
    type: str
    application: str = ""
    timestamp: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class ChannelEvent(Event):
    channel: Channel = field(default_factory=lambda: Channel(id=""))


@dataclass(frozen=True)
class StasisStart(ChannelEvent):
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class StasisEnd(ChannelEvent):
    pass


@dataclass(frozen=True)
class ChannelStateChange(ChannelEvent):
    pass


@dataclass(frozen=True)
class ChannelDtmfReceived(ChannelEvent):
    digit: str = ""
    duration_ms: int = 0


@dataclass(frozen=True)
class ChannelHangupRequest(ChannelEvent):
    cause: int = 0


@dataclass(frozen=True)
class ChannelDestroyed(ChannelEvent):
    cause: int = 0
    cause_txt: str = ""


@dataclass(frozen=True)
class ChannelTalkingStarted(ChannelEvent):
    pass


@dataclass(frozen=True)
class ChannelTalkingFinished(ChannelEvent):
    duration_ms: int = 0


@dataclass(frozen=True)
class PlaybackEvent(Event):
    playback_id: str = ""
    target_uri: str = ""
    state: str = ""


@dataclass(frozen=True)
class PlaybackStarted(PlaybackEvent):
    pass


@dataclass(frozen=True)
class PlaybackFinished(PlaybackEvent):
    pass


@dataclass(frozen=True)
class RecordingFinished(Event):
    """A live recording ended (finished, or failed: ``state`` says); ``duration_s`` is what
    was kept."""

    name: str = ""
    target_uri: str = ""
    state: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True)
class Dial(Event):
    peer_id: str = ""
    caller_id: str = ""
    dialstatus: str = ""


@dataclass(frozen=True)
class UnknownEvent(Event):
    reason: str = ""


_CHANNEL_EVENTS: dict[str, type[ChannelEvent]] = {
    "StasisStart": StasisStart,
    "StasisEnd": StasisEnd,
    "ChannelStateChange": ChannelStateChange,
    "ChannelDtmfReceived": ChannelDtmfReceived,
    "ChannelHangupRequest": ChannelHangupRequest,
    "ChannelDestroyed": ChannelDestroyed,
    "ChannelTalkingStarted": ChannelTalkingStarted,
    "ChannelTalkingFinished": ChannelTalkingFinished,
}


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def parse_event(data: Any) -> Event:
    """Turn one decoded WebSocket message into a typed event."""
    if not isinstance(data, dict):
        return UnknownEvent(type="?", reason="event is not a JSON object")
    etype = data.get("type")
    if not isinstance(etype, str):
        return UnknownEvent(type="?", reason="event has no type", raw=data)
    common: dict[str, Any] = {
        "type": etype,
        "application": str(data.get("application", "")),
        "timestamp": str(data.get("timestamp", "")),
        "raw": data,
    }
    try:
        cls = _CHANNEL_EVENTS.get(etype)
        if cls is not None:
            channel = Channel.from_json(data.get("channel"))
            extra: dict[str, Any] = {}
            if cls is StasisStart:
                args = data.get("args") or []
                extra["args"] = tuple(str(a) for a in args) if isinstance(args, list) else ()
            elif cls is ChannelDtmfReceived:
                extra = {"digit": str(data.get("digit", "")),
                         "duration_ms": _int(data.get("duration_ms"))}
            elif cls is ChannelHangupRequest:
                extra = {"cause": _int(data.get("cause"))}
            elif cls is ChannelDestroyed:
                extra = {"cause": _int(data.get("cause")),
                         "cause_txt": str(data.get("cause_txt", ""))}
            elif cls is ChannelTalkingFinished:
                extra = {"duration_ms": _int(data.get("duration"))}
            return cls(channel=channel, **common, **extra)
        if etype in ("PlaybackStarted", "PlaybackFinished"):
            pb = data.get("playback")
            if not isinstance(pb, dict) or not isinstance(pb.get("id"), str):
                raise ValueError("playback without an id")
            pcls = PlaybackStarted if etype == "PlaybackStarted" else PlaybackFinished
            return pcls(playback_id=pb["id"], target_uri=str(pb.get("target_uri", "")),
                        state=str(pb.get("state", "")), **common)
        if etype in ("RecordingFinished", "RecordingFailed"):
            rec = data.get("recording")
            if not isinstance(rec, dict) or not isinstance(rec.get("name"), str):
                raise ValueError("recording without a name")
            return RecordingFinished(
                name=rec["name"], target_uri=str(rec.get("target_uri", "")),
                state=str(rec.get("state", "failed" if etype == "RecordingFailed" else "")),
                duration_s=float(_int(rec.get("duration"))), **common)
        if etype == "Dial":
            peer = _obj(data.get("peer"))
            caller = _obj(data.get("caller"))
            return Dial(peer_id=str(peer.get("id", "")), caller_id=str(caller.get("id", "")),
                        dialstatus=str(data.get("dialstatus", "")), **common)
    except ValueError as exc:
        return UnknownEvent(reason=f"malformed {etype}: {exc}", **common)
    return UnknownEvent(reason="not handled", **common)
