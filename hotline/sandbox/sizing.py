"""What one node carries, and the Asterisk limits rendered from it (asterisk.conf maxcalls,
http.conf sessionlimit, stasis.conf pools). The RTP port range is the measure: each call
holds up to three RTP streams (the caller, the seat, the speech tap's externalMedia), each an
even RTP port and the RTCP port above it."""

from __future__ import annotations

from dataclasses import dataclass

PORTS_PER_CALL = 6
# the caller, the seat, a second seat or a department during a warm transfer, the speech
# snoop and its externalMedia channel, the recording snoop
CHANNELS_PER_CALL = 6
ARI_CONNECTIONS = 100  # aiohttp's default pool in AriRest, plus the event WebSocket below
SPARE_SESSIONS = 10  # curl, doctor, a second controller connecting during a restart


@dataclass(frozen=True)
class NodeSize:
    calls: int  # calls at once
    channels: int  # asterisk.conf maxcalls: Asterisk refuses a channel beyond this
    http_sessions: int  # http.conf sessionlimit: ARI connections and browser softphones


def node_size(rtp_start: int, rtp_end: int) -> NodeSize:
    """10000-10199 -> 33 calls, 198 channels, 144 HTTP sessions."""
    calls = max(1, (rtp_end - rtp_start + 1) // PORTS_PER_CALL)
    # one browser softphone per seat, at most one seat per call
    sessions = ARI_CONNECTIONS + 1 + calls + SPARE_SESSIONS
    return NodeSize(calls, calls * CHANNELS_PER_CALL, sessions)
