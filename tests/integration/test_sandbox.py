"""The sandbox Asterisk: status, ARI, loopback binding, and the no-app apology."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import aiohttp

from hotline.ari.rest import AriRest
from hotline.config import Settings
from hotline.sandbox.instance import Sandbox, SandboxState
from tests.integration.conftest import (
    PORTS,
    TEST_HOME,
    integration_settings,
    serving,
    wait_for_records,
)
from tests.sipp import sipp


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **PORTS, "HOTLINE_HOME": str(TEST_HOME)}
    return subprocess.run([sys.executable, "-m", "hotline", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_up_is_idempotent_and_status_json(sandbox: SandboxState) -> None:
    up = _cli("sandbox", "up")
    assert up.returncode == 0, up.stderr
    assert "already running" in up.stdout
    status = _cli("sandbox", "status", "--json")
    assert status.returncode == 0
    data = json.loads(status.stdout)
    assert data["running"] is True
    assert data["ari_url"] == "http://127.0.0.1:8188/ari"
    assert data["ari_user"] == "hotline" and "ari_password" not in data
    assert sandbox.ari_password not in status.stdout
    assert data["asterisk_version"].startswith(("20", "21", "22", "23"))
    secrets = json.loads(_cli("sandbox", "status", "--json", "--secrets").stdout)
    assert secrets["ari_password"] == sandbox.ari_password and len(secrets["ari_password"]) >= 24
    assert sandbox.ari_password not in _cli("sandbox", "status").stdout


async def test_ari_answers_on_loopback_with_the_generated_password(
        sandbox: SandboxState) -> None:
    async with AriRest(sandbox.ari_url, sandbox.ari_user, sandbox.ari_password) as ari:
        info = await ari.asterisk_info()
    assert info["system"]["version"]
    async with aiohttp.ClientSession() as s, s.get(
            f"{sandbox.ari_url}/asterisk/info",
            headers={"Authorization": "Basic YXN0ZXJpc2s6YXN0ZXJpc2s="}) as resp:
        assert resp.status == 401  # no default asterisk:asterisk


def test_services_bind_loopback_only(sandbox: SandboxState) -> None:
    """Every TCP listener, and SIP and RTP, are on 127.0.0.1. (PJSIP's DNS resolver keeps an
    ephemeral, unconnected client socket; it serves nothing and is outside the RTP range.)"""
    out = subprocess.run(["ss", "-lntupH"], capture_output=True, text=True, check=True).stdout
    now = Sandbox(integration_settings()).load_state()  # an earlier test may have restarted it
    assert now is not None
    lines = [ln for ln in out.splitlines() if f"pid={now.pid}," in ln]
    tcp = [ln for ln in lines if ln.startswith("tcp")]
    assert any(":8188 " in ln for ln in tcp), out
    for line in lines:
        local = line.split()[4]
        port = int(local.rsplit(":", 1)[1])
        if line.startswith("tcp") or port == sandbox.sip_port or 10200 <= port <= 10399:
            assert local.startswith("127.0.0.1:"), line


async def test_without_the_app_the_dialplan_answers_with_an_apology(
        settings: Settings) -> None:
    """No controller: the dialplan answers and apologises, and notes the call; the next
    controller to connect writes its record (unattended) and clears the note."""
    result = await sipp(settings.sandbox_sip_port, caller="13900000077", hold_ms=1000,
                        timeout_s=20)
    assert result.successful == 1, result.output[-2000:]
    async with serving(settings) as (services, _):
        rows = await wait_for_records(services, 1, timeout_s=10)
    [row] = [r for r in rows if r.caller == "13900000077"]
    assert row.disposition == "unattended" and row.called == "12345"


async def test_doctor_says_what_to_fix(settings: Settings) -> None:
    from tests.integration.test_seats_real import hotline_cli

    fresh = hotline_cli(settings, "doctor")  # the database was never migrated
    assert fresh.returncode == 1, fresh.stdout
    assert "✗ migrations" in fresh.stdout and "fix: hotline db upgrade" in fresh.stdout
    assert "✓ asterisk: Asterisk 22" in fresh.stdout and "✓ trunk" in fresh.stdout
    assert "! speech model" in fresh.stdout  # a warning: calls go to operators
    assert hotline_cli(settings, "db", "upgrade").returncode == 0
    done = hotline_cli(settings, "doctor", "--json")
    assert done.returncode == 0, done.stdout
    found = {f["check"]: f for f in json.loads(done.stdout)}
    assert found["migrations"]["status"] == "ok"
    assert found["accounts"]["status"] == "warning" and "users add" in found["accounts"]["fix"]
    assert found["directory"]["status"] == "warning"
    assert found["softphone"]["status"] == "ok"
