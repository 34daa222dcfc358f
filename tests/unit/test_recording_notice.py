"""The recording notice (录音提示, PIPL): where calls are recorded the caller hears it before
the opening, on the attendant's path and when an operator answers (who hears it too); it is
said when HOTLINE_RECORD_CALLS is on unless configured otherwise, and may be turned off only
where calls are not recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import load_settings
from hotline.domain.seats import DutyState
from hotline.errors import ConfigError
from hotline.server.flow_settings import attendant_settings
from tests.fake_ari import FakeAri
from tests.harness import attendant_for, running
from tests.unit.test_call_flow import phrases, wait_played
from tests.unit.test_seats import SEATED, _until

NOTICE = attendant_for(recording_notice=True, rating_wait_s=0.5)


async def test_the_caller_hears_the_notice_before_the_opening(fake_ari: FakeAri,
                                                              tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path, attendant=NOTICE):
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.caller_hangs_up(cid)
    assert phrases(fake_ari, cid)[:2] == ["recording_notice", "opening"]


async def test_with_an_operator_both_hear_the_notice_then_the_opening(
        fake_ari: FakeAri, tmp_path: Path) -> None:
    fake_ari.seats = {"PJSIP/1001": "answer"}
    async with running(fake_ari, tmp_path, SEATED, attendant=NOTICE,
                       seats=[("1001", None, DutyState.ON_DUTY)]):
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        [seat] = fake_ari.seat_channels("PJSIP/1001")
        await _until(lambda: "opening" in " ".join(fake_ari.played(seat)))
        await fake_ari.caller_hangs_up(cid)
    assert phrases(fake_ari, cid)[:2] == ["recording_notice", "opening"]
    heard = " ".join(fake_ari.played(seat))  # one playback of both
    assert 0 <= heard.index("recording_notice") < heard.index("opening")


async def test_without_the_notice_the_opening_comes_first(fake_ari: FakeAri,
                                                          tmp_path: Path) -> None:
    async with running(fake_ari, tmp_path, attendant=attendant_for(recording_notice=False)):
        cid = await fake_ari.incoming_call()
        await wait_played(fake_ari, cid, "opening")
        await fake_ari.caller_hangs_up(cid)
    assert "recording_notice" not in phrases(fake_ari, cid)


@pytest.mark.parametrize(("record", "notice", "said"), [
    ("yes", None, True), ("no", None, False), ("no", "no", False), ("no", "yes", True),
    ("yes", "yes", True), ("yes", "auto", True)])
def test_the_notice_follows_the_recording(record: str, notice: str | None, said: bool,
                                          tmp_path: Path) -> None:
    env = {"HOTLINE_HOME": str(tmp_path), "HOTLINE_RECORD_CALLS": record}
    if notice is not None:
        env["HOTLINE_RECORDING_NOTICE"] = notice
    assert attendant_settings(load_settings(env)).recording_notice is said


def test_the_notice_cannot_be_turned_off_while_calls_are_recorded(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_RECORDING_NOTICE": "no"})
    assert err.value.key == "HOTLINE_RECORDING_NOTICE" and "RECORD_CALLS" in str(err.value)
    with pytest.raises(ConfigError):
        load_settings({"HOTLINE_HOME": str(tmp_path), "HOTLINE_RECORDING_NOTICE": "maybe"})
