"""What travels between the nodes, chosen once for the composition root: with several nodes
on one PostgreSQL, the live hub, the warm-transfer requests and the session revocations go
over one LISTEN/NOTIFY connection (the bus); one node keeps them in process."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.calls.commands import CallRequests
from hotline.live.hub import LiveHub
from hotline.live.notify import NotifyBus
from hotline.live.pg_hub import PgLiveHub
from hotline.live.pg_requests import PgCallRequests
from hotline.live.pg_revocations import PgRevocations


@dataclass(frozen=True)
class LiveParts:
    hub: LiveHub
    requests: CallRequests
    bus: NotifyBus | None  # the supervised task `notify-bus` runs it, when there is one
    revocations: PgRevocations | None


def live_parts(db_url: str, node: str, shared: bool) -> LiveParts:
    """``shared``: this node shares its PostgreSQL with others (seat claims are on)."""
    if not shared:
        return LiveParts(LiveHub(), CallRequests(), None, None)
    bus = NotifyBus(db_url)
    return LiveParts(PgLiveHub(db_url, node, bus=bus), PgCallRequests(bus, node), bus,
                     PgRevocations(bus, node))
