"""`hotline sandbox cluster up|down|status [--nodes N] [--json]`, `… cluster kill NODE`."""

from __future__ import annotations

import argparse
import asyncio
import json

from hotline.cluster.cluster import Cluster
from hotline.config import Settings
from hotline.errors import SandboxError


def run(args: argparse.Namespace, settings: Settings) -> int:
    cluster = Cluster(settings)
    action = args.cluster_action
    if action is None:
        raise SandboxError("hotline sandbox cluster up|down|status|kill NODE")
    if action == "up":
        try:
            status = asyncio.run(cluster.up(args.nodes, args.rtp_ports))
        except ValueError as exc:
            raise SandboxError(str(exc)) from None
        names = ", ".join(f"{n['name']} (SIP {n['sip']}, console {n['console_url']})"
                          for n in status["nodes"])
        print(f"cluster up in {status['seconds']:.1f} s: proxy udp:{status['proxy']}; {names}")
        return 0
    if action == "down":
        print("cluster stopped" if cluster.down() else "the cluster was not running")
        return 0
    if action == "kill":
        if not args.node:
            raise SandboxError("hotline sandbox cluster kill NODE (node-1, node-2…)")
        try:
            pid = cluster.kill(args.node)
        except ValueError as exc:
            raise SandboxError(str(exc)) from None
        print(f"{args.node}'s Asterisk (pid {pid}) killed with SIGKILL")
        return 0
    status = asyncio.run(cluster.status())
    if args.json:
        print(json.dumps({"proxy": status["proxy"], "nodes": status["nodes"]}))
    else:
        print(f"proxy udp:{status['proxy']}: "
              f"{'running' if status.get('proxy_running') else 'not running'}")
        for n in status["nodes"]:
            print(f"{n['name']}: {'running' if n['running'] else 'DOWN'} (Asterisk "
                  f"{'up' if n['asterisk'] else 'down'}, controller "
                  f"{'up' if n['controller'] else 'down'}), SIP {n['sip']}, "
                  f"ARI {n['ari_url']}, console {n['console_url']}")
    nodes = status["nodes"]
    return 0 if nodes and all(n["running"] for n in nodes) else 1
