"""The monitoring session's state machine: every event has a guard."""

from __future__ import annotations

import pytest

from hotline.domain.monitoring import (
    IllegalMonitorStep,
    Mode,
    MonitorMachine,
    MonitorState,
    snoop_for,
)


def test_the_modes_snoop_as_the_issue_says() -> None:
    listen, whisper = snoop_for(Mode.LISTEN), snoop_for(Mode.WHISPER)
    assert listen is not None and (listen.spy, listen.whisper) == ("both", "none")
    assert whisper is not None and (whisper.spy, whisper.whisper) == ("both", "out")
    assert snoop_for(Mode.BARGE) is None  # the supervisor is in the call's bridge


def test_a_session_from_ringing_to_its_end() -> None:
    m = MonitorMachine(Mode.LISTEN)
    m.answered()
    assert m.state is MonitorState.CONNECTING
    m.connected()
    assert m.state is MonitorState.ACTIVE and m.live
    assert m.switch(Mode.WHISPER) is Mode.LISTEN and m.state is MonitorState.SWITCHING
    m.connected()
    m.switch(Mode.BARGE)
    m.connected()
    assert m.modes == [Mode.LISTEN, Mode.WHISPER, Mode.BARGE]
    assert m.gone("caller") and not m.gone("operator")  # the first party gone is said
    assert m.ended_by == "caller" and not m.live
    m.end()
    assert m.state is MonitorState.ENDED


@pytest.mark.parametrize("state", list(MonitorState))
def test_every_event_is_guarded(state: MonitorState) -> None:
    allowed = {"answered": {MonitorState.DIALLING},
               "connected": {MonitorState.CONNECTING, MonitorState.SWITCHING},
               "switch": {MonitorState.ACTIVE}, "end": {MonitorState.ENDING}}
    for event, states in allowed.items():
        m = MonitorMachine(Mode.LISTEN, state=state)
        step = {"answered": m.answered, "connected": m.connected, "end": m.end,
                "switch": lambda m=m: m.switch(Mode.BARGE)}[event]
        if state in states:
            step()
        else:
            with pytest.raises(IllegalMonitorStep):
                step()
    m = MonitorMachine(Mode.LISTEN, state=state)  # gone: from any state but the last two
    assert m.gone("stop") is (state not in (MonitorState.ENDING, MonitorState.ENDED))


def test_a_switch_to_the_mode_on_is_refused() -> None:
    m = MonitorMachine(Mode.WHISPER, state=MonitorState.ACTIVE)
    with pytest.raises(IllegalMonitorStep):
        m.switch(Mode.WHISPER)
    assert m.state is MonitorState.ACTIVE
