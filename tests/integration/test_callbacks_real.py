"""漏接回拨 through the real sandbox: a caller who gives up while the operator's phone rings
lands on the callback list; the operator's one-click callback rings their own phone (a sipp
UAS as the seat), then the person through the sandbox's outbound trunk (a sipp UAS), the
attempt's result is recorded and the entry clears. The public line cannot dial out."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from hotline.config import Settings, replace
from hotline.domain.callbacks import MissedReason, Outcome
from hotline.domain.tickets import NewTicket, TicketKind
from hotline.sandbox.instance import OUTBOUND_PORT
from hotline.store.users_repo import Role
from tests.integration.conftest import serving, wait_for_records, wait_seat_bridged
from tests.integration.test_seats_real import add_seats, events, greeting_heard_at_seat
from tests.integration.test_security_matrix import login
from tests.sipp import SCENARIOS, free_udp_port, sipp, sipp_seat

CALLER = "13900000001"


async def test_a_call_abandoned_while_ringing_is_called_back_in_one_click(
        settings: Settings, tmp_path: Path) -> None:
    real = replace(settings, outbound_trunk="PJSIP/{number}@outbound", seat_rtp_timeout_s=120)
    seat_port = free_udp_port()
    await add_seats(real, {"1001": (None, seat_port)})
    async with serving(real) as (services, server):
        assert services.callbacks is not None
        # 1. the caller gives up while the operator's phone rings
        async with sipp_seat("seat_no_answer", port=seat_port, timeout_s=30) as (_, rang):
            gave_up = await sipp(real.sandbox_sip_port, scenario="abandon", caller=CALLER,
                                 timeout_s=30)
            assert gave_up.successful == 1, gave_up.output[-3000:]
            [missed] = await wait_for_records(services, 1)
            assert (await asyncio.wait_for(rang, 15)).successful == 1
        assert missed.disposition == "abandoned" and missed.answered_at is None
        left = [d["state"] for k, d in await events(real, missed) if k == "caller_left"]
        assert left == ["offered"]  # while the operator's phone rang
        [entry] = (await services.callbacks.current()).entries
        assert (entry.id, entry.number, entry.reasons) == (
            missed.id, CALLER, [MissedReason.RINGING])

        # the person's phone rings 4 s before they answer
        slow = tmp_path / "person_answers.xml"
        slow.write_text((SCENARIOS / "seat_answer.xml").read_text().replace(
            '<pause milliseconds="300"/>', '<pause milliseconds="4000"/>'))
        async with sipp_seat(str(slow)[:-4], port=OUTBOUND_PORT, calls=2,
                             timeout_s=60) as (_, person):
            # 2. the public line is incoming only: a caller on the public trunk dialling the
            # person's number gets the apology, and nothing reaches the outbound trunk
            public = await sipp(real.sandbox_sip_port, number=CALLER, caller="13900000002",
                                hold_ms=1500, timeout_s=30)
            assert public.successful == 1, public.output[-3000:]
            assert not person.done()
            channels = [c.name for c in await services.rest.list_channels()]
            assert not [c for c in channels if c.startswith("PJSIP/outbound")], channels

            # 3. the operator calls back from the list, in one click
            await services.users.add("1001", Role.OPERATOR, "operator-pass-1")
            base = str(server.make_url("")).rstrip("/")
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http, \
                    sipp_seat("seat_answer", port=seat_port, calls=2,
                              timeout_s=60) as (_, seat):
                assert await login(http, base, "1001", "operator-pass-1") == 302
                async with http.get(f"{base}/callbacks") as r:
                    listing = await r.text()
                assert "139****0001" in listing and CALLER not in listing  # masked
                token = re.search(r'name="csrf" value="([^"]+)"', listing)
                assert token is not None and f'value="{missed.id}"' in listing
                async with http.post(f"{base}/outbound/calls", allow_redirects=False, data={
                        "csrf": token.group(1), "missed_id": str(missed.id)}) as r:
                    assert r.status == 303, await r.text()
                # the operator answers and hears the person's phone ring (in band, before
                # any bridge); the person answers; they talk, then the person hangs up
                heard = await greeting_heard_at_seat(services.rest, "PJSIP/1001-")
                assert heard["txcount"] > 50 and not heard["bridged"], heard
                trunk_leg = await wait_seat_bridged(services.rest, "PJSIP/outbound-",
                                                    timeout_s=30)
                await asyncio.sleep(1.0)
                await services.rest.hangup(trunk_leg)
                await asyncio.wait_for(services.callbacks.wait(), 15)
                async with http.get(f"{base}/callbacks") as r:
                    after = await r.text()
                # 4. the same from a ticket (a follow-up's call, over the API): on the ticket
                ticket = await services.tickets.open(NewTicket(
                    kind=TicketKind.CALLBACK, by="1001", summary="回访",
                    callback_number=CALLER), datetime.now(UTC))
                async with http.post(f"{base}/outbound/calls", json={"ticket_id": ticket},
                                     headers={"X-CSRF-Token": token.group(1)}) as r:
                    assert r.status == 202, await r.text()
                    placed = await r.json()
                trunk_leg = await wait_seat_bridged(services.rest, "PJSIP/outbound-",
                                                    timeout_s=30)
                await services.rest.hangup(trunk_leg)
                await asyncio.wait_for(services.callbacks.wait(), 15)
                assert (await asyncio.wait_for(seat, 15)).successful == 2
                history = [(e.kind, e.by, e.data.get("outcome"))
                           for e in (await services.tickets.get(ticket)).events]
            assert (await asyncio.wait_for(person, 15)).successful == 2
        listed = await services.callbacks.current()
        [cleared] = listed.cleared
        attempt = await services.callbacks.attempt(cleared.ref)
        audits = [(a.actor, a.action) for a in await services.users.audit_log()]
    assert listed.entries == []
    assert (cleared.entry_id, cleared.how) == (missed.id, "reached")
    assert (attempt.by, attempt.outcome, attempt.missed_id) == ("1001", Outcome.REACHED,
                                                                 missed.id)
    assert "没有待回拨的来电" in after and "回拨接通" in after
    assert ("1001", "view_callbacks") in audits and ("1001", "outbound_call") in audits
    assert history[-2:] == [("outbound_call", "1001", "pending"),
                            ("outbound_call", "1001", "reached")], history
    assert placed["id"] != cleared.ref
