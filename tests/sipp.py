"""Run sipp (Debian's sip-tester) as a caller against the sandbox, on loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).parent / "sipp"


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    output: str


async def sipp(target_port: int, *, scenario: str = "call", number: str = "12345",
               calls: int = 1, rate: float = 1.0, limit: int = 1, hold_ms: int = 2000,
               timeout_s: int = 60, extra: list[str] | None = None,
               caller: str = "13900000001", workdir: Path | None = None,
               local_ip: str = "127.0.0.1") -> SippResult:
    """``local_ip``: the caller's address (any of 127.0.0.0/8 is loopback; the sandbox's
    trunk is 127.0.0.1 only)."""
    port = free_udp_port(local_ip)
    if scenario in ("uac", "uas"):
        scen = ["-sn", scenario]
    else:
        scen = ["-sf", scenario if scenario.endswith(".xml") else str(
            SCENARIOS / f"{scenario}.xml")]
    cmd = ["sipp", f"127.0.0.1:{target_port}", *scen, "-s", number, "-i", local_ip,
           "-p", str(port), "-mp", str(free_udp_port(local_ip)), "-m", str(calls),
           "-r", str(rate),
           "-l", str(limit), "-d", str(hold_ms), "-timeout", f"{timeout_s}s",
           "-timeout_error", "-nostdin", "-key", "caller", caller, *(extra or [])]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        cwd=str(workdir) if workdir else None)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 15)
    return _result(proc.returncode or 0, out)


def _result(returncode: int, out: bytes) -> SippResult:
    """sipp's final statistics: successful and failed call counts (-1 if absent)."""
    text = out.decode(errors="replace")
    ok = re.search(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    bad = re.search(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", text)
    return SippResult(returncode, int(ok.group(1)) if ok else -1,
                      int(bad.group(1)) if bad else -1, text)


@contextlib.asynccontextmanager
async def sipp_seat(scenario: str, *, calls: int = 1, timeout_s: int = 90,
                    port: int = 0, extra: list[str] | None = None
                    ) -> AsyncIterator[tuple[int, asyncio.Future[SippResult]]]:
    """An operator's phone (or a department's): sipp as a UAS on a loopback port (a free
    one unless given), running ``scenario`` (seat_answer, seat_no_answer, seat_silent, or
    the path of a rendered scenario).
    Yields the port and the future result."""
    port = port or free_udp_port()
    path = scenario if scenario.endswith(".xml") else str(SCENARIOS / f"{scenario}.xml")
    cmd = ["sipp", "-sf", path, "-i", "127.0.0.1",
           "-p", str(port), "-mp", str(free_udp_port()), "-m", str(calls),
           "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin", *(extra or [])]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)

    async def result() -> SippResult:
        out, _ = await proc.communicate()
        return _result(proc.returncode or 0, out)

    done = asyncio.ensure_future(result())
    await asyncio.sleep(0.2)  # let it bind
    try:
        yield port, done
    finally:
        if proc.returncode is None:
            proc.terminate()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(done), 5)
