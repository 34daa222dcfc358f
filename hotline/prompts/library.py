"""Phrase -> audio file Asterisk can play. Rendered files are cached by a hash of the voice and
the filled-in text, so a rebuild only renders what changed and call-time phrases (numbers,
organisation names) are rendered once. A recording at prompts/recorded/<id>.wav (any format
sox reads) overrides the synthesised voice for that phrase."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

from hotline.config import Settings
from hotline.paths import project_dir
from hotline.phrasebook.model import Phrasebook, load_phrasebook
from hotline.prompts import tts
from hotline.prompts.speech_text import phone_words


@dataclass
class BuildReport:
    rendered: int = 0
    cached: int = 0
    recorded: int = 0
    skipped_templated: int = 0


class PromptLibrary:
    def __init__(self, phrasebook: Phrasebook, prompts_dir: Path, asterisk_dir: str,
                 voice: str, fixed: dict[str, str]) -> None:
        self.phrasebook = phrasebook
        self.dir = prompts_dir
        self.cache = prompts_dir / "cache"
        self.recorded = prompts_dir / "recorded"
        self.asterisk_dir = asterisk_dir.rstrip("/")
        self.voice = voice
        self.fixed = fixed  # values known at start-up: unit, the attendant's job number
        self._locks: dict[str, asyncio.Lock] = {}
        self._resolved: dict[str, str] = {}  # phrase+values -> media URI, once rendered

    @classmethod
    def from_settings(cls, settings: Settings, asterisk_dir: str = "") -> PromptLibrary:
        """The shipped phrasebook with the unit name and the attendant's job number filled in;
        ``asterisk_dir`` is where Asterisk sees the prompts folder (default: the same path)."""
        phrasebook = load_phrasebook(project_dir("scripts") / "phrasebook.yaml")
        return cls(phrasebook, settings.prompts_dir,
                   asterisk_dir or settings.asterisk_prompts_dir
                   or str(settings.prompts_dir.resolve()),
                   settings.prompts_voice,
                   {"unit": settings.unit_name, "job_number": settings.attendant_job_number})

    def text(self, phrase_id: str, **values: str) -> str:
        phrase = self.phrasebook[phrase_id]
        merged = {**self.fixed, **values}
        for key in ("phone", "line"):  # digit by digit, 1 as 幺
            if key in merged:
                merged[key] = phone_words(merged[key])
        return phrase.fill(**merged)

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.voice}|{text}".encode()).hexdigest()[:20]

    def _recorded_file(self, phrase_id: str) -> Path | None:
        if not self.recorded.is_dir():
            return None
        for candidate in sorted(self.recorded.glob(f"{phrase_id}.*")):
            return candidate
        return None

    def render_sync(self, phrase_id: str, values: dict[str, str]) -> tuple[str, bool]:
        """Make sure the audio exists; (file base without extension, whether it was rendered)."""
        recorded = self._recorded_file(phrase_id) if not values else None
        if recorded is not None:
            key = "rec-" + hashlib.sha1(recorded.read_bytes()).hexdigest()[:20]
            base = self.cache / key
            if not base.with_name(key + ".wav").exists():
                self.cache.mkdir(parents=True, exist_ok=True)
                tts.convert(recorded, base)
                return key, True
            return key, False
        key = self._key(self.text(phrase_id, **values))
        base = self.cache / key
        if base.with_name(key + ".wav").exists() and base.with_name(key + ".wav16").exists():
            return key, False
        tts.synthesise(self.text(phrase_id, **values), base, voice=self.voice)
        return key, True

    def missing(self) -> list[str]:
        """The phrases fixed at start-up whose audio is not rendered yet (renders nothing)."""
        out = []
        for phrase in self.phrasebook:
            if phrase.placeholders - self.fixed.keys() or self._recorded_file(phrase.id):
                continue
            key = self._key(self.text(phrase.id))
            if not all((self.cache / f"{key}{ext}").exists() for ext in (".wav", ".wav16")):
                out.append(phrase.id)
        return out

    def build(self) -> BuildReport:
        """Render every phrase that needs no call-time value."""
        report = BuildReport()
        for phrase in self.phrasebook:
            if phrase.placeholders - self.fixed.keys():
                report.skipped_templated += 1
                continue
            key, rendered = self.render_sync(phrase.id, {})
            if key.startswith("rec-"):
                report.recorded += 1
            elif rendered:
                report.rendered += 1
            else:
                report.cached += 1
        return report

    def tone_sync(self) -> str:
        """Make sure the tone's audio exists; its file base (rendered once)."""
        key = "tone-1000"
        if not (self.cache / f"{key}.wav").exists():
            tts.tone(self.cache / key)
        return key

    async def tone(self) -> str:
        """The media URI of the tone after which the caller speaks (提示音)."""
        uri = self._resolved.get("|tone")
        if uri is None:
            key = await asyncio.to_thread(self.tone_sync)
            uri = self._resolved["|tone"] = f"sound:{self.asterisk_dir}/cache/{key}"
        return uri

    async def media(self, phrase_id: str, **values: str) -> str:
        """The ARI media URI for a phrase, rendering it off the event loop if needed."""
        wanted = f"{phrase_id}|{sorted(values.items())}"
        uri = self._resolved.get(wanted)
        if uri is not None:
            return uri
        async with self._locks.setdefault(wanted, asyncio.Lock()):
            if wanted not in self._resolved:
                key, _ = await asyncio.to_thread(self.render_sync, phrase_id, values)
                self._resolved[wanted] = f"sound:{self.asterisk_dir}/cache/{key}"
        return self._resolved[wanted]
