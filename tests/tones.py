"""Pure tones as the parties' voices, a phone's ear (the RTP Asterisk sends it, kept with
its arrival time), and how loud each tone is in what a party heard: which audio reached
whom in the monitoring test (each party speaks at its own frequency)."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import numpy as np

from tests.pcap_audio import silence, write_pcap


def tone_pcap(path: Path, freq: int, seconds: float, gain_db: float = -10.0,
              after_s: float = 0.0) -> float:
    """A pcap of RTP (A-law) carrying a sine at ``freq`` Hz (after ``after_s`` of silence);
    its duration."""
    tone = subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", "-t", "raw",
                           "-", "synth", str(seconds), "sine", str(freq), "vol",
                           f"{gain_db}dB"], capture_output=True, check=True).stdout
    return write_pcap(path, silence(after_s) + tone)


def tone_wav(path: Path, freq: int, seconds: float, gain_db: float = -10.0) -> Path:
    """A WAV file (48 kHz, 16-bit) of a sine at ``freq`` Hz: a browser's fake microphone."""
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path), "synth",
                    str(seconds), "sine", str(freq), "vol", f"{gain_db}dB"], check=True)
    return path


def _alaw_table() -> np.ndarray:
    out = np.zeros(256)
    for code in range(256):
        a = code ^ 0x55
        t, seg = (a & 0x0F) << 4, (a & 0x70) >> 4
        t = t + 8 if seg == 0 else (t + 0x108) << (seg - 1)
        out[code] = t if a & 0x80 else -t
    return out


ALAW = _alaw_table()


def levels(samples: np.ndarray, *freqs: int, rate: int = 8000) -> dict[int, float]:
    """The amplitude (16-bit units) of each frequency in ``samples`` (the strongest bin
    within ±15 Hz); 0 for less than a quarter second of audio."""
    if len(samples) < rate // 4:
        return {f: 0.0 for f in freqs}
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)))) / len(samples) * 4
    bins = np.fft.rfftfreq(len(samples), 1 / rate)
    return {f: float(spectrum[(bins > f - 15) & (bins < f + 15)].max()) for f in freqs}


class Ear(asyncio.DatagramProtocol):
    """A phone's receiving RTP port (the SDP names it): every packet Asterisk sends the
    phone, with its arrival time."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, int, bytes]] = []
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    async def open(self) -> Ear:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self,
                                                           local_addr=("127.0.0.1", 0))
        self.transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) > 12 and data[0] >> 6 == 2:
            self.packets.append((asyncio.get_running_loop().time(), data[1] & 0x7F, data[12:]))

    def count(self, since: float, until: float = float("inf")) -> int:
        return sum(1 for at, _, _ in self.packets if since <= at < until)

    def heard(self, since: float, until: float, *freqs: int) -> dict[int, float]:
        """The tones in the A-law audio that arrived between ``since`` and ``until``."""
        audio = b"".join(p for at, pt, p in self.packets if since <= at < until and pt == 8)
        return levels(ALAW[np.frombuffer(audio, dtype=np.uint8)], *freqs)

    def first_after(self, since: float) -> float | None:
        return next((at for at, _, _ in self.packets if at >= since), None)
