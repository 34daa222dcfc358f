"""Check a Vosk model folder before the hotline relies on it: the files a model needs, its
sample rate, and whether it can take a grammar (a lookahead graph: Gr.fst + HCLr.fst)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import SpeechModelError

_REQUIRED = ("am/final.mdl", "conf/model.conf")


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    sample_rate: int
    dynamic_graph: bool  # a grammar (phrase list) can be set per recogniser
    ivector: bool
    size_mb: float


def check_model(path: str | Path) -> ModelInfo:
    """Validate a model folder; SpeechModelError names the first missing or bad part."""
    root = Path(path).expanduser()
    if not str(path):
        raise SpeechModelError("no model folder configured (HOTLINE_VOSK_MODEL)")
    if not root.is_dir():
        raise SpeechModelError(f"{root}: not a folder")
    for rel in _REQUIRED:
        if not (root / rel).is_file():
            raise SpeechModelError(f"{root}: {rel} is missing; is this a Vosk model folder?")
    graph = root / "graph"
    dynamic = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not dynamic and not (graph / "HCLG.fst").is_file():
        raise SpeechModelError(f"{root}: graph/ has neither HCLG.fst nor HCLr.fst + Gr.fst")
    rate = 16000
    mfcc = root / "conf" / "mfcc.conf"
    if mfcc.is_file():
        found = re.search(r"--sample-frequency=(\d+)", mfcc.read_text(errors="replace"))
        if found:
            rate = int(found.group(1))
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 1e6
    return ModelInfo(root, rate, dynamic, (root / "ivector").is_dir(), round(size, 1))


def load_model(info: ModelInfo) -> object:
    """Load a checked model with Vosk (a few seconds for a small model); SpeechModelError if
    the vosk package is missing or Vosk rejects the folder."""
    try:
        import vosk
    except ImportError as exc:
        raise SpeechModelError("the vosk package is not installed (pip install "
                               "'hotline[asr]')") from exc
    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(info.path))
    except Exception as exc:  # vosk raises a bare Exception on a bad model
        raise SpeechModelError(f"{info.path}: Vosk could not load it: {exc}") from exc
