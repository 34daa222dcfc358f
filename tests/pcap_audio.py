"""Build a pcap of RTP (G.711 A-law, payload type 8) from text spoken by espeak-ng, for
sipp's play_pcap_audio: the caller's voice in the real end-to-end speech test."""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Sequence
from pathlib import Path

ALAW_SILENCE = b"\xd5"
FRAME = 160  # 20 ms at 8 kHz


def pinyin(text: str) -> str:
    """Chinese as espeak-ng's cmn-latn-pinyin voice reads it well (tone numbers), as the
    prompts are made."""
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


def speak_alaw(text: str, voice: str = "ko", speed: int = 130, gain_db: float = 0.0) -> bytes:
    """espeak-ng's voice as 8 kHz A-law, as a telephone sends it ("cmn": Mandarin, spoken
    from pinyin); ``gain_db`` below 0: a caller that far quieter than normal."""
    if voice == "cmn":
        voice, text = "cmn-latn-pinyin", pinyin(text)
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", "--", text],
                         capture_output=True, check=True).stdout
    return subprocess.run(["sox", "-t", "wav", "-", "-r", "8000", "-c", "1", "-e", "a-law",
                           "-t", "raw", "-", "vol", f"{gain_db}dB"], input=wav,
                          capture_output=True, check=True).stdout


def silence(seconds: float) -> bytes:
    return ALAW_SILENCE * int(8000 * seconds)


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    total = (total & 0xFFFF) + (total >> 16)
    return ~((total & 0xFFFF) + (total >> 16)) & 0xFFFF


def write_pcap(path: Path, audio: bytes, src_port: int = 6000, dst_port: int = 6002) -> float:
    """RTP packets of 20 ms from ``audio`` (A-law) into an Ethernet pcap; the duration."""
    frames = [audio[i:i + FRAME].ljust(FRAME, ALAW_SILENCE) for i in range(0, len(audio), FRAME)]
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    src, dst = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])
    for n, payload in enumerate(frames):
        rtp = struct.pack("!BBHII", 0x80, 8, n & 0xFFFF, n * FRAME, 0x1234ABCD) + payload
        udp = struct.pack("!HHHH", src_port, dst_port, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                         src, dst)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        frame = b"\x00" * 6 + b"\x00" * 6 + b"\x08\x00" + ip + udp
        usec = n * 20000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame),
                               len(frame)) + frame)
    path.write_bytes(b"".join(out))
    return len(frames) * 0.02


def speech_pcap(path: Path, script: Sequence[tuple[float, str]], tail_s: float = 1.0,
                voice: str = "ko", speed: int = 130) -> float:
    """A pcap of (pause before, words) pairs; returns its duration in seconds."""
    audio = b"".join(silence(pause) + speak_alaw(words, voice, speed) for pause, words in script)
    return write_pcap(path, audio + silence(tail_s))
