"""Endpointing: when did the caller start talking, and when did they stop?

Pure logic over 16-bit PCM frames (no I/O). An energy detector with an adaptive noise floor:
a frame is voiced when its level is ``margin_db`` above the floor (and above an absolute
minimum); speech starts after ``onset_ms`` of voiced audio and ends after ``end_ms`` of
unvoiced audio, or after ``max_ms`` of speech in one go.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np


class Edge(enum.Enum):
    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True)
class EndpointSettings:
    onset_ms: int = 100  # voiced audio before speech counts as started (barge-in)
    end_ms: int = 220  # trailing unvoiced audio that ends an utterance
    max_ms: int = 15000  # an utterance is cut here even if the caller goes on
    margin_db: float = 12.0  # voiced: this far above the noise floor
    min_dbfs: float = -48.0  # and never below this level
    # Faint: too quiet for speech, yet clearly above the quietest the line has been (a caller
    # far from the phone, or a bad line: 004's 声音小, not a silent line)
    faint_min_dbfs: float = -66.0
    # An utterance whose loudest 20 ms stays below this is too quiet to trust what a
    # recogniser makes of it (espeak-ng phone speech peaks near -12 dBFS; 20 dB down, -32)
    quiet_peak_dbfs: float = -36.0


def level_dbfs(pcm: bytes) -> float:
    """The RMS level of little-endian signed 16-bit samples, in dB below full scale."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    if not samples.size:
        return -120.0
    energy = float(np.mean(samples.astype(np.float64) ** 2))
    return 10 * math.log10(energy / (32768.0 * 32768.0)) if energy > 0 else -120.0


class Endpointer:
    """Feed frames in order; ``feed`` returns STARTED or ENDED on the frame where an edge
    falls, else None. Time is counted in audio, so it works at any feed rate."""

    def __init__(self, rate: int, settings: EndpointSettings | None = None) -> None:
        self.rate = rate
        self.s = settings or EndpointSettings()
        self.floor_db = -90.0
        self.speaking = False
        self.audio_ms = 0.0  # audio fed so far
        self.started_ms = 0.0  # where the current (or last) utterance started
        self.ended_ms = 0.0  # where the last utterance's voiced audio ended
        self._voiced_ms = 0.0
        self._unvoiced_ms = 0.0
        self.last_voiced = False  # whether the last frame fed was voiced
        self.last_db = -120.0  # the level of the last frame fed
        self.quietest_db = 0.0  # the lowest the noise floor has been
        self.faint_ms = 0.0  # faint audio (not speech) since the last take_faint()

    def voiced(self, db: float) -> bool:
        return db >= max(self.floor_db + self.s.margin_db, self.s.min_dbfs)

    def faint(self, db: float) -> bool:
        return db >= max(self.quietest_db + self.s.margin_db, self.s.faint_min_dbfs)

    def take_faint(self) -> float:
        """The faint audio heard since the last call, in ms (and start counting again)."""
        faint, self.faint_ms = self.faint_ms, 0.0
        return faint

    def feed(self, pcm: bytes) -> Edge | None:
        ms = len(pcm) / 2 / self.rate * 1000
        db = self.last_db = level_dbfs(pcm)
        if self.audio_ms == 0.0:  # the line before anyone talks (never louder than -50)
            self.floor_db = min(max(db, -90.0), -50.0)
        voiced = self.voiced(db)
        self.last_voiced = voiced
        # The floor follows quiet audio down fast and up slowly; during speech it creeps up
        # only very slowly, so a noise that is mistaken for speech is learnt in a few seconds.
        if db < self.floor_db:
            self.floor_db += (db - self.floor_db) * 0.3
        else:
            self.floor_db += (min(db, 0.0) - self.floor_db) * (0.003 if voiced else 0.05)
        self.quietest_db = min(self.quietest_db, self.floor_db)
        if not voiced and not self.speaking and self.faint(db):
            self.faint_ms += ms
        self.audio_ms += ms
        if not self.speaking:
            self._voiced_ms = self._voiced_ms + ms if voiced else 0.0
            if self._voiced_ms >= self.s.onset_ms:
                self.speaking = True
                self._unvoiced_ms = 0.0
                self.started_ms = self.audio_ms - self._voiced_ms
                return Edge.STARTED
            return None
        if voiced:
            self._unvoiced_ms = 0.0
        else:
            if self._unvoiced_ms == 0.0:
                self.ended_ms = self.audio_ms - ms
            self._unvoiced_ms += ms
        too_long = self.audio_ms - self.started_ms >= self.s.max_ms
        if self._unvoiced_ms >= self.s.end_ms or too_long:
            if too_long and voiced:
                self.ended_ms = self.audio_ms
            self.speaking = False
            self._voiced_ms = 0.0
            return Edge.ENDED
        return None
