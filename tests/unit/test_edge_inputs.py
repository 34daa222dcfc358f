"""Inputs that reach another program or Asterisk (issue 15 item 8): espeak's text, a
directory row's transfer target, and the settings of the SIP edge."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.config import Settings, load_settings, networks
from hotline.directory.records import parse_csv
from hotline.domain.seats import BROWSER_PHONE
from hotline.errors import ConfigError
from hotline.prompts import tts
from hotline.sandbox.sizing import node_size
from hotline.seats.provision import SeatProvisioner
from hotline.store.models import Operator

HEADER = "id,name,aliases,industry,district,address,phone,transfer_to\n"


def test_a_text_that_looks_like_an_option_is_spoken(tmp_path: Path) -> None:
    out = tts.synthesise("--version", tmp_path / "p", voice="en")
    assert [p.name for p in out] == ["p.wav", "p.wav16"]
    assert all(p.stat().st_size > 10_000 for p in out)  # speech, not an empty file


def test_transfer_targets_must_match_the_allowed_pattern() -> None:
    rows = ["1,甲,,,,,023,PJSIP/departments", "2,乙,,,,,023,PJSIP/8001@departments",
            "3,丙,,,,,023,PJSIP/1001", "4,丁,,,,,023,Local/forget@hotline-reconcile",
            "5,戊,,,,,023,PJSIP/public", "6,己,,,,,023,PJSIP/x@evil.example",
            "7,庚,,,,,023,PJSIP/departments&PJSIP/1001"]
    entries, problems = parse_csv((HEADER + "\n".join(rows) + "\n").encode(), "x.csv")
    assert [e.id for e in entries] == ["1", "2"]
    assert [line for line, _ in problems] == [4, 5, 6, 7, 8]
    assert "is not allowed (HOTLINE_TRANSFER_PATTERN" in problems[0][1]
    entries, problems = parse_csv((HEADER + rows[2] + "\n").encode(), "x.csv",
                                  transfer_pattern=r"PJSIP/10\d\d")
    assert [e.id for e in entries] == ["3"] and not problems


def _env(**kv: str) -> dict[str, str]:
    return {f"HOTLINE_{k.upper()}": v for k, v in kv.items()}


def test_edge_settings_are_validated() -> None:
    s = load_settings(_env(trunk_match="203.0.113.5, 198.51.100.0/24",
                           operator_networks="10.1.0.0/16"))
    assert networks(s.trunk_match) == ["203.0.113.5/32", "198.51.100.0/24"]
    for key, value in (("trunk_match", "carrier.example"), ("trunk_match", ""),
                       ("operator_networks", "10.0.0.0/33"), ("seat_nat", "maybe"),
                       ("transfer_pattern", "PJSIP/(")):
        with pytest.raises(ConfigError) as err:
            load_settings(_env(**{key: value}))
        assert f"HOTLINE_{key.upper()}" in str(err.value)


def _op(phone: str = "sip") -> Operator:
    return Operator(job_number="1001", name="x", sip_digest="0" * 32, phone=phone, contact="")


def test_a_seat_is_refused_outside_the_operators_networks() -> None:
    p = SeatProvisioner(rest=None, realm="hotline", rtp_timeout_s=15,  # type: ignore[arg-type]
                        networks=("10.1.0.0/16", "192.0.2.7/32"))
    fields = p.endpoint_fields(_op())
    assert list(fields).index("deny") < list(fields).index("permit")  # order is the rule
    assert fields["deny"] == "0.0.0.0/0.0.0.0,::/0"
    assert fields["permit"] == "10.1.0.0/16,192.0.2.7/32"


def test_symmetric_rtp_only_where_nat_needs_it() -> None:
    plain = SeatProvisioner(rest=None, realm="h", rtp_timeout_s=15)  # type: ignore[arg-type]
    assert "rtp_symmetric" not in plain.endpoint_fields(_op())
    browser = plain.endpoint_fields(_op(BROWSER_PHONE))
    assert browser["rtp_symmetric"] == "yes" and browser["webrtc"] == "yes"
    natted = SeatProvisioner(rest=None, realm="h", rtp_timeout_s=15,  # type: ignore[arg-type]
                             nat=True)
    assert natted.endpoint_fields(_op())["rtp_symmetric"] == "yes"
    assert natted.endpoint_fields(_op())["force_rport"] == "yes"


def test_node_size_follows_the_rtp_range() -> None:
    size = node_size(10000, 10199)
    assert (size.calls, size.http_sessions) == (33, 144)
    assert node_size(10200, 10299).calls == 16
    assert Settings().sandbox_rtp_end - Settings().sandbox_rtp_start + 1 == 200
