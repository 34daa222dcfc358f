"""The SIP and RTP edge on the real sandbox (issue 15 item 2): only the trunk's address reaches
the public context, operators are refused outside their networks, ARI answers only the
controller's address, caller IDs are normalised, RTP from a third port is dropped, and
Asterisk does not run as root."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import socket
import struct
import time
import uuid
from pathlib import Path

import aiohttp

from hotline.ari.rest import AriRest
from hotline.config import Settings
from hotline.domain.caller_id import ANONYMOUS
from hotline.sandbox.instance import Sandbox, SandboxState
from hotline.seats.provision import sip_digest
from tests.integration.conftest import integration_settings, serving, wait_for_records
from tests.pcap_audio import silence, write_pcap
from tests.sipp import SCENARIOS, sipp

OUTSIDER = "127.0.0.2"  # loopback too, but neither the trunk (127.0.0.1) nor an operator


def _digest(challenge: str, user: str, password: str, method: str, uri: str) -> str:
    """The Authorization header answering a WWW-Authenticate (RFC 2617, qop=auth, MD5)."""
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split(" ", 1)[1]))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = sip_digest(user, realm, password)
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    cnonce, nc = uuid.uuid4().hex[:16], "00000001"
    response = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    opaque = f', opaque="{params["opaque"]}"' if "opaque" in params else ""
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"'
            f"{opaque}")


def sip_invite(sip_port: int, user: str, local_ip: str, timeout_s: float = 8,
               password: str = "") -> int:
    """Send one INVITE for 12345 from ``local_ip`` as ``user`` (answering a challenge with
    ``password`` once, if given); the final response's code (a 2xx is hung up again at
    once, anything else acknowledged)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((local_ip, 0))
        sock.settimeout(timeout_s)
        port = sock.getsockname()[1]
        call_id, branch, tag = uuid.uuid4().hex, "z9hG4bK" + uuid.uuid4().hex, "t1"
        sdp = (f"v=0\r\no=- 1 1 IN IP4 {local_ip}\r\ns=-\r\nc=IN IP4 {local_ip}\r\nt=0 0\r\n"
               f"m=audio {port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        target = f"sip:12345@127.0.0.1:{sip_port}"

        def request(method: str, cseq: int, to_tag: str = "", body: str = "",
                    br: str = branch, auth: str = "") -> bytes:
            to = f"<{target}>" + (f";tag={to_tag}" if to_tag else "")
            head = (f"{method} {target} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP {local_ip}:{port};branch={br};rport\r\n"
                    f"From: <sip:{user}@{local_ip}:{port}>;tag={tag}\r\nTo: {to}\r\n"
                    f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                    f"Contact: <sip:{user}@{local_ip}:{port}>\r\nMax-Forwards: 70\r\n")
            if auth:
                head += f"Authorization: {auth}\r\n"
            if body:
                head += "Content-Type: application/sdp\r\n"
            return (head + f"Content-Length: {len(body)}\r\n\r\n{body}").encode()

        dest = ("127.0.0.1", sip_port)
        sock.sendto(request("INVITE", 1, body=sdp), dest)
        cseq, challenged = 1, False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            reply = sock.recv(65535).decode(errors="replace")
            code = int(reply.split(" ", 2)[1])
            if code < 200 or f"CSeq: {cseq} INVITE" not in reply:
                continue
            headers = reply.split("\r\n")
            to_tag = next((line.split("tag=", 1)[1].split(";")[0] for line in headers
                           if line.lower().startswith("to:") and "tag=" in line), "")
            if code < 300:  # answered: ACK (a new transaction) and hang up
                sock.sendto(request("ACK", cseq, to_tag, br="z9hG4bK" + uuid.uuid4().hex),
                            dest)
                sock.sendto(request("BYE", cseq + 1, to_tag,
                                    br="z9hG4bK" + uuid.uuid4().hex), dest)
                return code
            sock.sendto(request("ACK", cseq, to_tag, br=branch), dest)
            if code == 401 and password and not challenged:
                challenge = next(line.split(":", 1)[1].strip() for line in headers
                                 if line.lower().startswith("www-authenticate:"))
                challenged, cseq, branch = True, cseq + 1, "z9hG4bK" + uuid.uuid4().hex
                sock.sendto(request("INVITE", cseq, body=sdp, br=branch, auth=_digest(
                    challenge, user, password, "INVITE", target)), dest)
                continue
            return code
    raise AssertionError("no final response")


async def test_only_the_trunks_address_reaches_the_public_context(
        settings: Settings) -> None:
    """From user `public` from another address used to be the trunk (username,ip): the call
    was answered. Now it is unidentified: challenged for a password nobody has."""
    async with serving(settings) as (services, _):
        code = await asyncio.to_thread(sip_invite, settings.sandbox_sip_port, "public",
                                       OUTSIDER)
        assert code in (401, 403), code
        result = await sipp(settings.sandbox_sip_port, hold_ms=500, timeout_s=15,
                            local_ip=OUTSIDER, caller="13900000001")
        assert result.successful == 0 and result.failed == 1, result.output[-1500:]
        await asyncio.sleep(0.5)
        assert not [c for c in await services.rest.list_channels()
                    if c.name.startswith("PJSIP/public")]
        assert await services.calls.recent(10) == []
        # the trunk's own address still gets through
        ok = await sipp(settings.sandbox_sip_port, hold_ms=500, timeout_s=15)
        assert ok.successful == 1, ok.output[-1500:]


async def test_an_operator_is_refused_outside_the_operators_networks(
        settings: Settings) -> None:
    """With the seat's right password: from the operators' network (127.0.0.1/32) the call
    is taken, and ended at once by the controller (what a softphone dials is not left in
    Stasis: 404, not a call ringing for ever); from 127.0.0.2 the endpoint's ACL hands the
    request to Asterisk's artificial endpoint, whose challenge no password answers."""
    password = "a-seat-password"
    async with serving(settings) as (services, _):
        await services.operators.add("1001", "operator 1001",
                                     sip_digest("1001", settings.sip_realm, password))
        await services.provisioner.push(await services.operators.get("1001"))
        try:
            inside = await asyncio.to_thread(sip_invite, settings.sandbox_sip_port, "1001",
                                             "127.0.0.1", password=password)
            outside = await asyncio.to_thread(sip_invite, settings.sandbox_sip_port, "1001",
                                              OUTSIDER, password=password)
        finally:
            await services.provisioner.remove("1001")
    assert inside == 404  # authenticated, dialled 12345 in context operators, hung up
    assert outside == 401  # refused whatever the password


async def test_ari_and_the_websocket_answer_only_their_networks(
        sandbox: SandboxState) -> None:
    async with AriRest(sandbox.ari_url, sandbox.ari_user, sandbox.ari_password) as ari:
        assert (await ari.asterisk_info())["system"]["version"]
    token = base64.b64encode(f"{sandbox.ari_user}:{sandbox.ari_password}".encode()).decode()
    connector = aiohttp.TCPConnector(local_addr=(OUTSIDER, 0))
    async with aiohttp.ClientSession(connector=connector) as s:
        async with s.get(f"{sandbox.ari_url}/asterisk/info",
                         headers={"Authorization": f"Basic {token}"}) as resp:
            assert resp.status == 403  # the right password, the wrong address
        ws = sandbox.sip_ws_url.replace("ws://", "http://")
        async with s.get(ws, headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                      "Sec-WebSocket-Version": "13",
                                      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                      "Sec-WebSocket-Protocol": "sip"}) as resp:
            assert resp.status == 403


async def test_a_200_character_caller_id_is_recorded_as_anonymous(
        settings: Settings) -> None:
    raw = "a1" * 100
    async with serving(settings) as (services, _):
        result = await sipp(settings.sandbox_sip_port, caller=raw, hold_ms=2000,
                            timeout_s=20)
        assert result.successful == 1, result.output[-1500:]
        [row] = await wait_for_records(services, 1)
        record = await services.calls.get(row.id)
    assert row.caller == ANONYMOUS
    [event] = [e.data for e in record.events if e.kind == "caller_id_rejected"]
    # Asterisk itself keeps the first 79 characters of a caller number
    assert raw.startswith(event["raw"]) and len(event["raw"]) > 32, event


def _rtp(seq: int, ssrc: int = 0x0BAD0BAD) -> bytes:
    return struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, seq * 160, ssrc) + b"\xff" * 160


async def _rtp_var(rest: AriRest, channel_id: str, name: str) -> str:
    return await rest.get_var(channel_id, name)


async def test_rtp_from_a_third_port_is_ignored(settings: Settings, tmp_path: Path) -> None:
    """A caller sends RTP from its SDP port; once the stream is learnt, packets from another
    socket change nothing: the call's audio is not sent there (no RTP bleed) and they are
    not counted as received."""
    pcap = tmp_path / "quiet.pcap"
    write_pcap(pcap, silence(40))
    scenario = tmp_path / "speak.xml"
    scenario.write_text((SCENARIOS / "speak.xml").read_text().replace("@PCAP@", str(pcap)))
    async with serving(settings) as (services, _):
        caller = asyncio.ensure_future(sipp(settings.sandbox_sip_port, scenario=str(scenario),
                                            timeout_s=60))
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            channel_id = ""
            while loop.time() < deadline and not channel_id:
                channel_id = next((c.id for c in await services.rest.list_channels()
                                   if c.name.startswith("PJSIP/public") and c.state == "Up"),
                                  "")
                await asyncio.sleep(0.1)
            assert channel_id, "the call was not answered"
            await asyncio.sleep(6)  # past strict RTP's learning
            rest = services.rest
            local = await _rtp_var(rest, channel_id, "CHANNEL(rtp,src)")
            remote = await _rtp_var(rest, channel_id, "CHANNEL(rtp,dest)")
            before = int(await _rtp_var(rest, channel_id, "CHANNEL(rtcp,rxcount)"))
            host, port = local.rsplit(":", 1)
            received = await asyncio.to_thread(_attack, (host, int(port)), 200)
            after = int(await _rtp_var(rest, channel_id, "CHANNEL(rtcp,rxcount)"))
            remote_after = await _rtp_var(rest, channel_id, "CHANNEL(rtp,dest)")
        finally:
            for c in await services.rest.list_channels():
                with contextlib.suppress(Exception):
                    await services.rest.hangup(c.id)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(caller, 20)
    assert received == 0, "the call's audio went to the third port (RTP bleed)"
    assert remote_after == remote
    # the caller's own 50 packets a second over the ~2 s of the attack, not the 200 injected
    assert after - before < 200, (before, after)


def _attack(target: tuple[str, int], packets: int) -> int:
    """Send ``packets`` in-sequence RTP packets (20 ms apart) from a fresh socket, then
    listen 1 s more; how many packets came back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        got = 0
        end = time.monotonic() + packets * 0.01 + 1.0
        for seq in range(packets):
            sock.sendto(_rtp(1000 + seq), target)
            time.sleep(0.01)
            got += _drain(sock)
        while time.monotonic() < end:
            time.sleep(0.02)
            got += _drain(sock)
        return got


def _drain(sock: socket.socket) -> int:
    n = 0
    while True:
        try:
            sock.recv(2048)
            n += 1
        except BlockingIOError:
            return n


def test_the_sandbox_asterisk_does_not_run_as_root(sandbox: SandboxState) -> None:
    now = Sandbox(integration_settings()).load_state()
    assert now is not None and now.pid
    status = Path(f"/proc/{now.pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert "0" not in uids, status
