"""Time to answer a call through the controller (ARI ring + answer + record writes) against a
plain dialplan Answer() (extension 12399), on the sandbox Asterisk, measured by sipp as the
INVITE -> 200 OK time of each call. Prints medians, p90 and the ratio (goal <= 1.5).

    .venv/bin/python -m bench.answer_latency [--calls 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from datetime import datetime
from pathlib import Path

from hotline.config import replace
from hotline.sandbox.instance import Sandbox
from tests.integration.conftest import integration_settings, serving
from tests.sipp import sipp


async def measure(port: int, number: str, calls: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        result = await sipp(port, number=number, calls=calls, rate=5, limit=1, hold_ms=300,
                            timeout_s=120, workdir=Path(tmp), extra=["-trace_msg"])
        if result.successful != calls:
            raise SystemExit(f"sipp: {result.successful}/{calls} calls\n{result.output[-2000:]}")
        return await asyncio.to_thread(read_traces, Path(tmp))


def read_traces(folder: Path) -> list[float]:
    return [ms for f in folder.glob("*_messages.log") for ms in invite_to_ok(f)]


def invite_to_ok(log: Path) -> list[float]:
    """Per call, milliseconds from the first INVITE sent to the 200 OK for it (µs stamps)."""
    sent: dict[str, datetime] = {}
    out: list[float] = []
    for block in log.read_text(errors="replace").split("-" * 47 + " ")[1:]:
        lines = block.splitlines()
        at = datetime.strptime(lines[0].strip(), "%Y-%m-%d %H:%M:%S.%f")
        first = lines[3] if len(lines) > 3 else ""
        call_id = next((ln.split(":", 1)[1].strip() for ln in lines
                        if ln.lower().startswith("call-id:")), "")
        if first.startswith("INVITE") and call_id not in sent:
            sent[call_id] = at
        elif first.startswith("SIP/2.0 200") and "INVITE" in block and call_id in sent:
            out.append((at - sent.pop(call_id)).total_seconds() * 1000)
    return out


def summary(name: str, ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=10)
    return (f"{name:<34} n={len(ms):>3}  median {statistics.median(ms):7.1f} ms  "
            f"p90 {q[8]:7.1f} ms  max {max(ms):7.1f} ms")


async def main(calls: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(integration_settings(),
                           db_url=f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        await Sandbox(settings).up()
        baseline = await measure(settings.sandbox_sip_port, "12399", calls)
        async with serving(settings):
            hotline = await measure(settings.sandbox_sip_port, settings.public_number, calls)
    ratio = statistics.median(hotline) / statistics.median(baseline)
    print(summary("baseline: dialplan Answer()", baseline))
    print(summary("hotline: ARI ring+answer+record", hotline))
    print(f"ratio of medians (hotline / baseline): {ratio:.2f}  (goal <= 1.5)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=40)
    asyncio.run(main(parser.parse_args().calls))
