"""Which recogniser this hotline runs: the engine, its model folder, and how it was chosen.

``HOTLINE_ASR_ENGINE`` and ``HOTLINE_ASR_MODEL`` say it outright. Left empty, a configured Vosk
model (``HOTLINE_VOSK_MODEL``, as before Whisper came) wins, then Whisper base as bootstrap
installs it under ``$HOTLINE_HOME/models``; with neither, there is no recogniser and the speech
steps hand the call to an operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hotline.errors import SpeechModelError
from hotline.speech.whisper_model import installed_base

if TYPE_CHECKING:
    from hotline.config import Settings
    from hotline.speech.recognizer import SpeechEngine


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # whisper | vosk
    model: Path
    why: str


def choose_engine(s: Settings) -> EngineChoice | None:
    if s.asr_engine == "vosk" or (not s.asr_engine and s.vosk_model and not s.asr_model):
        folder = s.asr_model or s.vosk_model
        if not folder:
            raise SpeechModelError("HOTLINE_ASR_ENGINE=vosk needs a model folder "
                                   "(HOTLINE_ASR_MODEL or HOTLINE_VOSK_MODEL)")
        return EngineChoice("vosk", Path(folder), "configured")
    if s.asr_model:
        return EngineChoice(s.asr_engine or "whisper", Path(s.asr_model), "configured")
    base = installed_base(s.home / "models")
    if base is not None:
        return EngineChoice("whisper", base, "installed whisper-base")
    if s.asr_engine == "whisper":
        raise SpeechModelError("HOTLINE_ASR_ENGINE=whisper but no model: run `hotline asr "
                               "install whisper-base` or set HOTLINE_ASR_MODEL")
    return None


def build_engine(choice: EngineChoice, s: Settings, cores: int) -> SpeechEngine:
    """Load the chosen engine (verifying its model); SpeechModelError if it cannot."""
    if choice.engine == "vosk":
        from hotline.speech.engine import VoskEngine
        from hotline.speech.grammar import read_grammar

        grammar = read_grammar(s.vosk_grammar) if s.vosk_grammar else []
        return VoskEngine(choice.model, grammar=grammar, threads=s.asr_threads or 2 * cores)
    from hotline.speech.whisper_engine import WhisperEngine, WhisperSettings

    return WhisperEngine(choice.model, WhisperSettings(
        device=s.asr_device, workers=s.asr_workers,
        cpu_threads=s.asr_threads or max(1, cores // s.asr_workers),
        no_speech_max=s.asr_no_speech_max, logprob_min=s.asr_logprob_min))


def describe(engine: SpeechEngine) -> str:
    info = getattr(engine, "info", None)
    if info is None:
        return type(engine).__name__
    digest = getattr(info, "model_sha256", "")
    rate = getattr(info, "sample_rate", engine.rate)
    more = f", sha256 {digest[:16]}" if digest else ""
    if hasattr(info, "dynamic_graph"):  # Vosk
        more = (", lookahead (grammar supported)" if info.dynamic_graph else ", static HCLG")
    return f"{type(engine).__name__.removesuffix('Engine').lower()} {info.path} ({rate} Hz{more})"
