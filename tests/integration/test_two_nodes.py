"""Beyond one machine: two Asterisk nodes (two sandboxes on different ports), each with its
own controller, writing to one PostgreSQL: every node's records in one place, and one
node's restart never touches the other's calls."""

from __future__ import annotations

import asyncio
import os
import shutil

from hotline.config import Settings, load_settings, replace
from hotline.sandbox.instance import Sandbox
from tests.integration.conftest import TEST_HOME, serving
from tests.sipp import sipp

NODE_B_HOME = TEST_HOME.with_name("test-home-b")
NODE_B_PORTS = {"HOTLINE_SANDBOX_HTTP_PORT": "8288", "HOTLINE_SANDBOX_SIP_PORT": "5260",
                "HOTLINE_SANDBOX_RTP_START": "13600", "HOTLINE_SANDBOX_RTP_END": "13699"}


def node_b_settings(base: Settings) -> Settings:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(NODE_B_PORTS, HOTLINE_HOME=str(NODE_B_HOME))
    b = load_settings(env)
    return replace(b, silence_prompt_s=base.silence_prompt_s, goodbye_pause_s=0.5,
                   caller_hangup_wait_s=2.0, rating_wait_s=2.0, node="node-b")


async def test_two_asterisks_two_controllers_one_database(settings: Settings,
                                                          shared_pg: str) -> None:
    a = replace(settings, db_url=shared_pg, node="node-a", rating_wait_s=2.0)
    b = replace(node_b_settings(settings), db_url=shared_pg)
    NODE_B_HOME.mkdir(parents=True, exist_ok=True)
    if (TEST_HOME / "prompts").is_dir():  # the same phrasebook: no need to render it twice
        await asyncio.to_thread(shutil.copytree, TEST_HOME / "prompts", b.prompts_dir,
                                dirs_exist_ok=True)
    await Sandbox(b).up()
    async with serving(a) as (services_a, _), serving(b) as (services_b, _):
        results = await asyncio.gather(
            sipp(a.sandbox_sip_port, calls=3, rate=3, limit=3, hold_ms=1500,
                 caller="13900000011"),
            sipp(b.sandbox_sip_port, calls=3, rate=3, limit=3, hold_ms=1500,
                 caller="13900000022"))
        assert [r.successful for r in results] == [3, 3], results[1].output[-2000:]
        on_b = asyncio.create_task(sipp(b.sandbox_sip_port, scenario="silent",
                                        caller="13900000033", timeout_s=60))
        for _ in range(100):
            if any(r.caller == "13900000033" for r in await services_b.calls.open_calls()):
                break
            await asyncio.sleep(0.1)
        [talking] = [r for r in await services_b.calls.open_calls()
                     if r.caller == "13900000033"]
        async with serving(a) as (again_a, _):  # node a restarts and reconciles
            await asyncio.sleep(1.0)
            assert (await again_a.calls.get(talking.id)).ended_at is None  # b's, untouched
        assert (await on_b).successful == 1
        for _ in range(100):
            rows = await services_a.calls.recent(50)
            if len(rows) == 7 and all(r.ended_at is not None for r in rows):
                break
            await asyncio.sleep(0.2)
    by_node = sorted((r.node, r.caller) for r in rows)
    assert by_node == sorted([("node-a", "13900000011")] * 3 + [("node-b", "13900000022")] * 3
                             + [("node-b", "13900000033")])
    assert all(r.answered_at is not None and r.rings <= 3 for r in rows)
    assert len({r.id for r in rows}) == 7
