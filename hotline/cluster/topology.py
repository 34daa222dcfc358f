"""Where each part of a development cluster listens (loopback only): pure, no I/O.

Node i (1-based) gets ARI/HTTP 8487+i, PJSIP UDP 5459+i, RTP 11000+S(i-1) to +S-1 (S, the
span, 200 ports by default: 33 calls; `cluster up --rtp-ports S` for a bench), its console
8579+i; the proxy listens on 5190. Clear of the demo sandbox (8088/5060, RTP 10000-10199),
the test sandbox (8188/5160, RTP 10200-10399), the second test node (8288/5260, RTP
13600-13699) and bench/load's (8388/5360, RTP 10400-10999).
"""

from __future__ import annotations

from dataclasses import dataclass

BIND = "127.0.0.1"
PROXY_PORT = 5190
HTTP_BASE = 8487
SIP_BASE = 5459
RTP_BASE = 11000
RTP_SPAN = 200
RTP_TOP = 32767  # below Linux's ephemeral ports (32768-60999), which outgoing sockets take
CONSOLE_BASE = 8579
PG_PORT = 5489
MAX_NODES = 8


@dataclass(frozen=True)
class NodePlan:
    index: int  # 1-based
    rtp_span: int = RTP_SPAN  # RTP ports (6 a call: hotline/sandbox/sizing.py)

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    @property
    def http_port(self) -> int:
        return HTTP_BASE + self.index

    @property
    def sip_port(self) -> int:
        return SIP_BASE + self.index

    @property
    def rtp_start(self) -> int:
        return RTP_BASE + self.rtp_span * (self.index - 1)

    @property
    def rtp_end(self) -> int:
        return self.rtp_start + self.rtp_span - 1

    @property
    def console_port(self) -> int:
        return CONSOLE_BASE + self.index

    @property
    def sip(self) -> str:
        return f"{BIND}:{self.sip_port}"

    @property
    def ari_url(self) -> str:
        return f"http://{BIND}:{self.http_port}/ari"

    @property
    def console_url(self) -> str:
        return f"http://{BIND}:{self.console_port}"


def plan(nodes: int, rtp_span: int = RTP_SPAN) -> list[NodePlan]:
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError(f"--nodes {nodes}: between 1 and {MAX_NODES}")
    widest = (RTP_TOP + 1 - RTP_BASE) // nodes
    if not 12 <= rtp_span <= widest or rtp_span % 2:
        raise ValueError(f"--rtp-ports {rtp_span}: an even number from 12 to {widest} for "
                         f"{nodes} nodes (node RTP ranges from {RTP_BASE} up to {RTP_TOP})")
    return [NodePlan(i, rtp_span) for i in range(1, nodes + 1)]


def node_named(name: str, nodes: int, rtp_span: int = RTP_SPAN) -> NodePlan:
    for node in plan(nodes, rtp_span):
        if node.name == name:
            return node
    names = ", ".join(n.name for n in plan(nodes, rtp_span))
    raise ValueError(f"no node {name!r} in this cluster (nodes: {names})")


@dataclass(frozen=True)
class ProxyTimers:
    """The proxy's timers against the caller's ring budget (ring_on + ring_off a ring).

    A dead node never replies: fr_timer moves the call to the next node before the first
    ring is over. A node that replied (100 Trying, 180) has until the end of the budget
    to answer (fr_inv_timer). A dead node leaves the set after one unanswered probe.
    A seat's leg (a node ringing a phone registered at the proxy) gets none of these: the
    node ends that ring itself (the seat's or a transfer's ring time, then CANCEL), and the
    proxy only stops a ring the node forgot, after seat_ring_limit_ms."""

    fr_timer_ms: int
    fr_inv_timer_ms: int
    ping_interval_s: int
    seat_ring_limit_ms: int = 120_000  # below tm's max_inv_lifetime (180 s)

    @classmethod
    def for_ring(cls, ring_on_s: float, ring_off_s: float, budget: int) -> ProxyTimers:
        ring_ms = int((ring_on_s + ring_off_s) * 1000)
        budget_ms = ring_ms * (budget - 1) + int(ring_on_s * 1000)  # the end of the last ring
        return cls(fr_timer_ms=min(1500, max(500, ring_ms // 3)),
                   fr_inv_timer_ms=budget_ms + 1000, ping_interval_s=1)
