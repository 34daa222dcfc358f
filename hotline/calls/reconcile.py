"""After every (re)connection to Asterisk: make the records agree with what happened while
this controller was away (killed, restarted, or cut off from ARI).

- A record still open whose channel Asterisk no longer has: the call ended unseen; the
  record is closed (disposition ``failed``, a ``reconciled`` event says why).
- A call the dialplan answered with the apology because no controller was connected: the
  dialplan left ``epoch|number called|caller`` in AstDB under ``hotline-unattended/<uniqueid>``;
  each becomes a record (disposition ``unattended``) and the AstDB entry is marked done (ARI
cannot delete it; the entries are one short row per call that arrived during an outage).
Calls still in the application are adopted by the controller (see ``resync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hotline.ari.rest import AriRest
from hotline.domain.caller_id import normalise_caller
from hotline.domain.calls import NewCall
from hotline.errors import StoreError, TelephonyError
from hotline.privacy import mask_number
from hotline.store.calls_repo import CallRepository

log = logging.getLogger(__name__)
FAMILY = "hotline-unattended"


@dataclass
class Reconciled:
    closed: int = 0
    unattended: int = 0


def parse_unattended(key: str, node: str) -> NewCall | None:
    """``uniqueid_epoch_called_caller`` (the dialplan keeps only digits and + of the caller)
    as a new record."""
    parts = key.split("_")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[0]:
        return None
    at = datetime.fromtimestamp(int(parts[1]), UTC)
    return NewCall(channel_id=parts[0], caller=normalise_caller(parts[3]).number,
                   called=parts[2], arrived_at=at, node=node)


class Reconciler:
    def __init__(self, rest: AriRest, calls: CallRepository, node: str, app: str) -> None:
        self.app = app
        self.rest = rest
        self.calls = calls
        self.node = node

    async def after_connect(self, present: set[str], connected_at: datetime) -> Reconciled:
        """``present``: the channels in the application now (and those this controller
        holds); records of calls that arrived after ``connected_at`` are left alone."""
        done = Reconciled()
        try:
            done.closed = await self._close_stale(present, connected_at)
            done.unattended = await self._unattended()
        except StoreError as exc:
            log.error("reconciliation postponed, the database is unavailable: %s", exc)
        if done.closed or done.unattended:
            log.warning("reconciled: %d records closed, %d unattended calls recorded",
                        done.closed, done.unattended)
        return done

    async def _close_stale(self, present: set[str], before: datetime) -> int:
        closed = 0
        for row in await self.calls.open_calls(self.node, before=before):
            if row.channel_id not in present:
                await self.calls.close_stale(row.id, "the call ended while the controller "
                                             "was not following it")
                closed += 1
        return closed

    async def keep_sweeping(self, connected: asyncio.Event, every_s: float,
                            held: Callable[[], set[str]]) -> None:
        """Between reconnects too: record unattended calls noted after the last reconnect
        (a call can meet a controller that is still registering), and close any record
        whose call is neither held by this controller nor known to Asterisk any more (a
        call that ended in the instant of a reconnect)."""
        while True:
            await asyncio.sleep(every_s)
            if not connected.is_set():
                continue
            try:
                now = datetime.now(UTC)
                channels = {c.id for c in await self.rest.list_channels()} | held()
                done = Reconciled(await self._close_stale(
                    channels, now - timedelta(seconds=every_s)), await self._unattended())
            except (StoreError, TelephonyError) as exc:
                log.warning("reconciliation sweep postponed: %s", exc)
                continue
            if done.closed or done.unattended:
                log.warning("sweep: %d records closed, %d unattended calls recorded",
                            done.closed, done.unattended)

    async def _unattended(self) -> int:
        # ARI evaluates AstDB functions only on a channel: a Local channel created for the
        # purpose (never dialled) serves, and is hung up after.
        try:
            probe = await self.rest.request("POST", "/channels/create", params={
                "endpoint": "Local/probe@hotline-probe", "app": self.app})
            probe_id = str(probe["id"])
        except (TelephonyError, KeyError, TypeError) as exc:
            log.warning("cannot read the unattended calls: %s", exc)
            return 0
        try:
            return await self._record_unattended(probe_id)
        except TelephonyError as exc:
            log.warning("unattended calls not all read: %s", exc)
            return 0
        finally:
            with contextlib.suppress(TelephonyError):
                await self.rest.hangup(probe_id)

    async def _record_unattended(self, probe: str) -> int:
        recorded = 0
        keys = [k for k in (await self.rest.get_var(probe, f"DB_KEYS({FAMILY})")).split(",")
                if k]
        for key in keys:
            call = parse_unattended(key, self.node)
            if call is None:
                log.error("unattended call: unreadable AstDB key %r, left there", key)
                continue
            if await self.calls.record_unattended(call) is not None:  # None: recorded before
                recorded += 1
                log.info("unattended call from %s recorded", mask_number(call.caller))
            await self._forget(key)  # only now: a crash before this loses nothing
        return recorded

    async def _forget(self, key: str) -> None:
        """Delete the AstDB note through the dialplan (``hotline-reconcile``)."""
        try:
            await self.rest.originate("Local/forget@hotline-reconcile", self.app,
                                      app_args="reconcile", timeout_s=5,
                                      variables={"__HOTLINE_KEY": key})
        except TelephonyError as exc:  # read again next time; the record is not doubled
            log.warning("unattended note %s not cleared: %s", key, exc)
