"""A caller who asks for confidentiality (GB/T 33358 要求个人信息保密): the complaint ticket's
caller details, the recording of their voice included, are for its owner and supervisors
only; its assignee works it without them. On the production console, both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.domain.tickets import Move, NewTicket, TicketKind, TicketStatus, sees_caller
from hotline.store.database import Database
from tests.console import add_users, client, console, console_services, login, status_of

FORM = {"complainant_name": "王先生", "complainant_phone": "13900000001",
        "respondent_unit": "某物业公司", "request": "楼道灯坏了三个月", "recording": "words-1-1"}


class FakeRecorder:
    async def fetch(self, name: str) -> bytes:
        return b"RIFF" + name.encode()


def test_who_sees_a_tickets_caller() -> None:
    secret, open_ = {"confidential": True}, {"confidential": False}
    assert sees_caller(secret, "9000", "9000", False, "1001")  # the owner
    assert sees_caller(secret, "9000", "8001", True, "1001")  # a supervisor
    assert not sees_caller(secret, "9000", "1001", False, "1001")  # the assignee: not this one
    assert sees_caller(open_, "9000", "1001", False, "1001")  # ...but an ordinary one
    assert not sees_caller(open_, "9000", "1002", False, "1001")  # nobody else


async def test_a_confidential_tickets_recording_is_for_its_owner_and_supervisors(
        db: Database) -> None:
    await add_users(db)
    services = console_services(db, recorder=FakeRecorder())
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    ids = {}
    for name, secret in (("secret", True), ("open", False)):
        ids[name] = await services.tickets.open(NewTicket(
            TicketKind.COMPLAINT, "9000", summary="投诉：楼道灯",
            fields={**FORM, "confidential": secret}), now)
        await services.tickets.move(ids[name], Move(TicketStatus.ASSIGNED, "8001"), now,
                                    assignee="1001")
    async with console(services) as (base, _), client() as operator, client() as supervisor:
        assert await login(operator, base, "1001") == 302
        assert await login(supervisor, base, "8001") == 302
        secret_url = f"{base}/tickets/{ids['secret']}/recording"
        assert await status_of(operator, secret_url) == 404
        assert await status_of(operator, f"{base}/tickets/{ids['open']}/recording") == 200
        assert await status_of(supervisor, secret_url) == 200
        async with operator.get(f"{base}/tickets") as r:
            board = await r.text()
    assert f"/tickets/{ids['open']}/recording" in board
    assert f"/tickets/{ids['secret']}/recording" not in board and "保密" in board
