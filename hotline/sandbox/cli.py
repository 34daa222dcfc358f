"""`hotline sandbox up | down | status [--json]`, and `hotline sandbox cluster …`."""

from __future__ import annotations

import argparse
import asyncio
import json

from hotline.cluster.topology import RTP_SPAN
from hotline.config import Settings
from hotline.sandbox.instance import Sandbox


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sandbox", help="the development Asterisk (Debian sid chroot, loopback)")
    p.add_argument("action", choices=["up", "down", "status", "cluster"])
    p.add_argument("cluster_action", nargs="?", choices=["up", "down", "status", "kill"],
                   help="cluster: up | down | status | kill NODE")
    p.add_argument("node", nargs="?", help="cluster kill: the node (node-1, node-2…)")
    p.add_argument("--nodes", type=int, default=2, help="cluster up: how many nodes")
    p.add_argument("--rtp-ports", type=int, default=RTP_SPAN,
                   help="cluster up: each node's RTP ports (6 a call; they size maxcalls)")
    p.add_argument("--json", action="store_true", help="status as JSON")
    p.add_argument("--secrets", action="store_true",
                   help="status includes the ARI password (kept out unless asked)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "cluster":
        from hotline.cluster.cli import run as run_cluster

        return run_cluster(args, settings)
    sandbox = Sandbox(settings)
    if args.action == "up":
        figures = asyncio.run(sandbox.up())
        status = asyncio.run(sandbox.status())
        word = "already running" if figures["already_running"] else "started"
        print(f"sandbox {word} in {figures['seconds']:.1f} s "
              f"(chroot build {figures['build_seconds']:.1f} s): Asterisk "
              f"{status.get('asterisk_version', '?')}, ARI {status['ari_url']}, "
              f"SIP udp:{status['sip']}")
        return 0
    if args.action == "down":
        print("sandbox stopped" if sandbox.down() else "sandbox was not running")
        return 0
    status = asyncio.run(sandbox.status(secrets=args.secrets))
    if args.json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        for key, value in status.items():
            print(f"{key}: {value}")
    return 0 if status["running"] else 1
