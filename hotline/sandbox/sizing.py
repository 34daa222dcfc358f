"""What one node carries, and the Asterisk limits rendered from it (asterisk.conf maxcalls,
http.conf sessionlimit, stasis.conf pools). The RTP port range is the measure: each call
holds up to three RTP streams (the caller, the seat, the speech tap's externalMedia), each an
even RTP port and the RTCP port above it.

Asterisk's ``maxcalls`` counts calls running the dialplan (its PBX count: every incoming
call, which enters Stasis from the dialplan), not channels: the seat, the snoops and the
externalMedia channels a call adds are not counted. So ``maxcalls`` is the number of calls the
RTP range carries. A call beyond it is refused at once ("Maximum call limit ... exceeded",
SIP 503), which the cluster's proxy takes to the next node (failure_route[NEXT_NODE]); with
``maxcalls`` at six channels a call (198), a 100-call burst took every RTP port, Asterisk
logged "couldn't allocate a port for RTP instance" and then died (bench/capacity, 2 December
2026)."""

from __future__ import annotations

from dataclasses import dataclass

PORTS_PER_CALL = 6
ARI_CONNECTIONS = 100  # aiohttp's default pool in AriRest, plus the event WebSocket below
SPARE_SESSIONS = 10  # curl, doctor, a second controller connecting during a restart


@dataclass(frozen=True)
class NodeSize:
    calls: int  # calls at once: asterisk.conf maxcalls; Asterisk refuses the next (503)
    http_sessions: int  # http.conf sessionlimit: ARI connections and browser softphones


def node_size(rtp_start: int, rtp_end: int) -> NodeSize:
    """10000-10199 -> 33 calls, 144 HTTP sessions."""
    calls = max(1, (rtp_end - rtp_start + 1) // PORTS_PER_CALL)
    # one browser softphone per seat, at most one seat per call
    sessions = ARI_CONNECTIONS + 1 + calls + SPARE_SESSIONS
    return NodeSize(calls, sessions)
