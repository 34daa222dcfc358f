"""Warm-transfer requests across nodes: PostgreSQL LISTEN/NOTIFY on ``hotline_requests``.

An operator's console may be on another node than the call (the proxy spreads the calls,
the consoles are anyone's). The console asks with the record's ``node``; a request for a call
this node holds is submitted here (``CallRequests``); one for another node's call goes to
that node as an ``AskMessage`` with a correlation id, is submitted there, and its
``ReplyMessage`` comes back. No reply within ``reply_timeout_s`` (the node is down, or the
database is away) answers ``NO_ANSWER``: the console says so rather than wait. The asking
node has checked that the operator may act on the call; the holding node trusts it (both
are ours, on our database).

Messages are typed here and travel as explicit JSON; one that is not ours is logged (never
its content: the summary may be about the caller) and ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from hotline.calls.commands import Answer, CallRequests, TransferRequest
from hotline.live.notify import NotifyBus

log = logging.getLogger(__name__)

CHANNEL = "hotline_requests"
VERSION = 1


@dataclass(frozen=True)
class AskMessage:
    """``sender`` asks ``to`` (the node holding call ``call_id``) to submit ``request``."""

    id: str
    sender: str
    to: str
    call_id: int
    request: TransferRequest


@dataclass(frozen=True)
class ReplyMessage:
    """``sender`` (the node holding the call) answers ``to``'s ask ``id``."""

    id: str
    sender: str
    to: str
    answer: Answer


Message = AskMessage | ReplyMessage
REPLIES = (Answer.ACCEPTED, Answer.REFUSED)  # NO_ANSWER is the asker's own conclusion


def to_wire(message: Message) -> str:
    body: dict[str, Any] = {"v": VERSION, "id": message.id, "from": message.sender,
                            "to": message.to}
    if isinstance(message, AskMessage):
        r = message.request
        body |= {"kind": "ask", "call": message.call_id, "by": r.by, "endpoint": r.endpoint,
                 "summary": r.summary, "seat": r.seat, "organisation": r.organisation}
    else:
        body |= {"kind": "reply", "answer": message.answer.value}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def from_wire(text: str) -> Message:
    """The message, or ValueError naming what is wrong (never quoting the payload)."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("not an object")
    if body.get("v") != VERSION:
        raise ValueError("unknown version")
    ids = _text(body, "id"), _text(body, "from"), _text(body, "to")
    kind = body.get("kind")
    if kind == "reply":
        answer = _text(body, "answer")
        if answer not in REPLIES:
            raise ValueError("unknown answer")
        return ReplyMessage(*ids, Answer(answer))
    if kind != "ask":
        raise ValueError("unknown kind")
    call = body.get("call")
    if not isinstance(call, int) or isinstance(call, bool):
        raise ValueError("call is not a number")
    request = TransferRequest(_text(body, "by"), _text(body, "endpoint"),
                              _text(body, "summary"), seat=_text(body, "seat"),
                              organisation=_text(body, "organisation"))
    return AskMessage(*ids, call, request)


class PgCallRequests(CallRequests):
    def __init__(self, bus: NotifyBus, node: str, reply_timeout_s: float = 1.0) -> None:
        if not node:
            raise ValueError("requests across nodes need this node's name (HOTLINE_NODE)")
        super().__init__()
        self.bus = bus
        self.node = node
        self.reply_timeout_s = reply_timeout_s
        self._pending: dict[str, asyncio.Future[Answer]] = {}
        bus.on(CHANNEL, self._heard)

    async def ask(self, call_id: int, node: str, request: TransferRequest) -> Answer:
        if not node or node == self.node:
            return await super().ask(call_id, node, request)
        ask = AskMessage(secrets.token_hex(8), self.node, node, call_id, request)
        answered: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[ask.id] = answered
        try:
            self.bus.send(CHANNEL, to_wire(ask))
            async with asyncio.timeout(self.reply_timeout_s):
                return await answered
        except TimeoutError:
            log.warning("transfer request for call %d: node %s did not answer within %.1f s",
                        call_id, node, self.reply_timeout_s)
            return Answer.NO_ANSWER
        finally:
            self._pending.pop(ask.id, None)

    def _heard(self, payload: str) -> None:
        try:
            message = from_wire(payload)
        except ValueError as exc:
            log.warning("transfer requests: ignored a message (%s)", exc)
            return
        if message.to != self.node:
            return
        if isinstance(message, AskMessage):
            taken = self.submit(message.call_id, message.request)
            answer = Answer.ACCEPTED if taken else Answer.REFUSED
            self.bus.send(CHANNEL, to_wire(ReplyMessage(message.id, self.node,
                                                        message.sender, answer)))
            return
        answered = self._pending.get(message.id)
        if answered is not None and not answered.done():
            answered.set_result(message.answer)
