"""Pushing a seat into Asterisk is idempotent: a push of what Asterisk already holds for the
seat changes nothing (its endpoint's fingerprint says so), so the several pushers (the CLI,
the console, every node's seat-sync) never re-create the AOR and endpoint under a phone that
has just registered; a changed seat is pushed whole. On an in-memory model of ARI's dynamic
configuration (PUT adds fields, DELETE removes the object, GET lists its fields)."""

from __future__ import annotations

from typing import Any

from hotline.domain.seats import BROWSER_PHONE, SeatConfig
from hotline.errors import AriError, AriNotFound
from hotline.seats.provision import FINGERPRINT, SeatProvisioner, sip_digest

PREFIX = "/asterisk/config/dynamic/res_pjsip/"


class DynamicConfig:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], dict[str, str]] = {}
        self.writes: list[str] = []
        self.get_fails = False

    async def request(self, method: str, path: str, **_: Any) -> Any:
        assert method == "GET" and path.startswith(PREFIX)
        if self.get_fails:
            raise AriError(method, path, 500, "Internal Server Error")
        kind, name = path[len(PREFIX):].split("/")
        if (kind, name) not in self.objects:
            raise AriNotFound(method, path, 404)
        return [{"attribute": k, "value": v} for k, v in self.objects[kind, name].items()]

    async def put_dynamic_config(self, config_class: str, object_type: str, object_id: str,
                                 fields: dict[str, str]) -> None:
        self.writes.append(f"PUT {object_type}")
        self.objects.setdefault((object_type, object_id), {}).update(fields)

    async def delete_dynamic_config(self, config_class: str, object_type: str,
                                    object_id: str) -> None:
        self.writes.append(f"DELETE {object_type}")
        if self.objects.pop((object_type, object_id), None) is None:
            raise AriNotFound("DELETE", object_type, 404)


def seat(password: str = "secret-1", phone: str = "sip") -> SeatConfig:
    return SeatConfig("1001", sip_digest("1001", "hotline", password), "", phone)


def provisioner(ari: DynamicConfig) -> SeatProvisioner:
    return SeatProvisioner(ari, "hotline", 15)  # type: ignore[arg-type]


async def test_a_seat_asterisk_already_holds_is_not_pushed_again() -> None:
    ari = DynamicConfig()
    p = provisioner(ari)
    assert await p.push(seat()) is True
    assert ari.writes == ["PUT auth", "DELETE aor", "PUT aor", "DELETE endpoint",
                          "PUT endpoint"]
    assert ari.objects["endpoint", "1001"][FINGERPRINT].startswith("hotline-")
    ari.writes.clear()
    assert await p.push(seat()) is False  # a second pusher, or seat-sync's next look
    assert await provisioner(ari).push(seat()) is False  # another process: same answer
    assert ari.writes == []


async def test_a_changed_seat_is_pushed_whole() -> None:
    ari = DynamicConfig()
    p = provisioner(ari)
    await p.push(seat())
    before = ari.objects["endpoint", "1001"][FINGERPRINT]
    ari.writes.clear()
    assert await p.push(seat(password="secret-2")) is True  # a new password
    assert ari.objects["auth", "1001"]["md5_cred"] == sip_digest("1001", "hotline", "secret-2")
    assert ari.objects["endpoint", "1001"][FINGERPRINT] != before
    assert await p.push(seat(password="secret-2", phone=BROWSER_PHONE)) is True  # switched
    assert ari.objects["endpoint", "1001"]["webrtc"] == "yes"
    assert ari.writes.count("PUT endpoint") == 2


async def test_a_seat_is_pushed_when_asterisk_cannot_say_what_it_holds() -> None:
    ari = DynamicConfig()
    p = provisioner(ari)
    await p.push(seat())
    ari.get_fails = True
    ari.writes.clear()
    assert await p.push(seat()) is True  # in doubt: pushed
    assert "PUT endpoint" in ari.writes
