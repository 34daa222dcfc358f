from hotline.ari.events import (
    ChannelDtmfReceived,
    PlaybackFinished,
    StasisStart,
    UnknownEvent,
    parse_event,
)


def test_stasis_start_is_typed() -> None:
    ev = parse_event({"type": "StasisStart", "application": "hotline", "args": ["public"],
                      "channel": {"id": "c1", "state": "Ring", "caller": {"number": "139"},
                                  "dialplan": {"exten": "12345", "context": "public"}}})
    assert isinstance(ev, StasisStart)
    assert ev.args == ("public",)
    assert (ev.channel.id, ev.channel.caller_number, ev.channel.exten) == ("c1", "139", "12345")


def test_dtmf_and_playback() -> None:
    ev = parse_event({"type": "ChannelDtmfReceived", "digit": "5", "duration_ms": 80,
                      "channel": {"id": "c1"}})
    assert isinstance(ev, ChannelDtmfReceived) and ev.digit == "5"
    pb = parse_event({"type": "PlaybackFinished",
                      "playback": {"id": "p1", "target_uri": "channel:c1"}})
    assert isinstance(pb, PlaybackFinished) and pb.target_uri == "channel:c1"


def test_malformed_and_unexpected_events_never_raise() -> None:
    for data in [None, [], "x", {}, {"type": 5}, {"type": "StasisStart"},
                 {"type": "StasisStart", "channel": {"name": "no id"}},
                 {"type": "PlaybackFinished", "playback": "nope"},
                 {"type": "ChannelDtmfReceived", "channel": {"id": "c"}, "duration_ms": "x"},
                 {"type": "BrandNewEvent", "whatever": 1}]:
        ev = parse_event(data)
        if isinstance(ev, UnknownEvent):
            assert ev.reason
    assert isinstance(parse_event({"type": "StasisStart"}), UnknownEvent)
    assert parse_event({"type": "BrandNewEvent"}).reason == "not handled"  # type: ignore[attr-defined]
