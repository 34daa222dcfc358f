"""A seat's phone is dialled one way everywhere (hotline.domain.seats.seat_dial): its own
endpoint on one node, through the SIP proxy in a cluster (HOTLINE_SEAT_PROXY), where the
phone registered maybe through another node. Each dialler's own test checks the endpoint
it rings with and without the proxy (test_seats, test_callbacks, test_monitor); these check
that the composition root hands every one of them the setting, and that no other code makes
a seat's dial string of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hotline
from hotline.calls.flow import CallFlow
from hotline.config import Settings
from hotline.domain.seats import seat_dial
from hotline.server.root import build_services
from tests.fake_ari import PASSWORD, USER

PROXY = "127.0.0.1:5190"
# a dial string put together from a job number: an f-string or a concatenation
MADE_HERE = re.compile(r"""f["']PJSIP/\{|["']PJSIP/["']\s*\+""")


@pytest.mark.parametrize(("proxy", "dialled"), [
    ("", "PJSIP/1001"), (PROXY, f"PJSIP/1001/sip:1001@{PROXY}")])
def test_a_seat_is_dialled_as_its_endpoint_or_through_the_proxy(proxy: str,
                                                                  dialled: str) -> None:
    assert seat_dial("1001", proxy) == dialled


@pytest.mark.parametrize("proxy", ["", PROXY])
async def test_the_root_gives_every_seat_dialler_the_proxy_setting(tmp_path: Path,
                                                                    proxy: str) -> None:
    settings = Settings(home=tmp_path, db_url=f"sqlite+aiosqlite:///{tmp_path / 'calls.db'}",
                        journal=str(tmp_path / "journal" / "calls.jsonl"), record_calls="no",
                        ari_url="http://127.0.0.1:9/ari", ari_user=USER, ari_password=PASSWORD,
                        outbound_trunk="PJSIP/{number}@outbound", seat_proxy=proxy)
    services, _ = build_services(settings)
    try:
        flow = services.controller.flow
        assert isinstance(flow, CallFlow)
        assert flow.deps.settings.seat_proxy == proxy  # a call's seats, a warm transfer's
        assert services.callbacks is not None and services.callbacks.dialer is not None
        assert services.callbacks.dialer.seat_proxy == proxy  # an operator's callback
        assert services.monitors is not None
        assert services.monitors.seat_proxy == proxy  # a supervisor's listen/whisper/barge
    finally:
        await services.rest.close()
        await services.db.close()


def test_no_code_but_seat_dial_makes_a_seats_dial_string() -> None:
    package = Path(hotline.__file__).parent
    own = package / "domain" / "seats.py"
    made = [f"{path.relative_to(package)}:{number}: {line.strip()}"
            for path in sorted(package.rglob("*.py")) if path != own
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if MADE_HERE.search(line)]
    assert made == [], "dial a seat with hotline.domain.seats.seat_dial"
