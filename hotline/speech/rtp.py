"""Receive the RTP stream Asterisk's externalMedia channel sends to loopback.

Asterisk sends signed linear audio (slin, slin16) in network byte order; the recogniser wants
little-endian, so each payload is byte-swapped. Packets that are not RTP version 2 are
counted and dropped; so are packets from a second source once the first has been seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import cast

import numpy as np

log = logging.getLogger(__name__)

OnAudio = Callable[[bytes], None]


def rtp_payload(packet: bytes) -> bytes | None:
    """The payload of an RTP packet (CSRCs, header extension and padding removed), or None
    if the packet is not RTP version 2 or is truncated."""
    if len(packet) < 12 or packet[0] >> 6 != 2:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10:  # header extension: 4-byte header, then length words
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * int.from_bytes(packet[offset + 2:offset + 4], "big")
    end = len(packet)
    if packet[0] & 0x20 and end > offset:  # padding: the last byte says how much
        end -= packet[-1]
    if offset > end:
        return None
    return packet[offset:end]


def big_to_little(pcm: bytes) -> bytes:
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype=">i2").astype("<i2").tobytes()


class RtpReceiver(asyncio.DatagramProtocol):
    def __init__(self, on_audio: OnAudio) -> None:
        self.on_audio = on_audio
        self.source: tuple[str, int] | None = None
        self.packets = 0
        self.dropped = 0
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.source is None:
            self.source = addr
        payload = rtp_payload(data) if addr == self.source else None
        if payload is None:
            self.dropped += 1
            return
        self.packets += 1
        self.on_audio(big_to_little(payload))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_receiver(on_audio: OnAudio, host: str = "127.0.0.1") -> tuple[RtpReceiver, int]:
    """A receiver on an ephemeral loopback port; (receiver, port)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: RtpReceiver(on_audio), local_addr=(host, 0))
    port = int(transport.get_extra_info("sockname")[1])
    return protocol, port
