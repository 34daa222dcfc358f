"""The default voice: pinyin (TONE3) -> espeak-ng -v cmn-latn-pinyin -> sox (8 kHz and 16 kHz)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from hotline.errors import PromptRenderError
from hotline.prompts.speech_text import to_pinyin

RATES = {"wav": 8000, "wav16": 16000}


def check_tools() -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise PromptRenderError(f"{tool} is not installed: apt-get install {tool}")


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PromptRenderError(f"{cmd[0]} failed: {proc.stderr.strip()[:300]}")


def convert(source: Path, target_base: Path) -> list[Path]:
    """Any audio file -> target_base.wav (8 kHz) and target_base.wav16 (16 kHz), mono 16-bit."""
    outputs = []
    for ext, rate in RATES.items():
        out = target_base.with_name(target_base.name + "." + ext)
        tmp = out.with_name(out.name + ".tmp.wav")
        _run(["sox", str(source), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer",
              str(tmp)])
        tmp.replace(out)
        outputs.append(out)
    return outputs


def tone(target_base: Path, hz: int = 1000, seconds: float = 0.4) -> list[Path]:
    """The tone after which a caller speaks (提示音): a sine, into .wav and .wav16."""
    check_tools()
    target_base.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tone.wav"
        _run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(raw), "synth",
              str(seconds), "sine", str(hz), "vol", "0.5"])
        return convert(raw, target_base)


def synthesise(text: str, target_base: Path, voice: str = "cmn-latn-pinyin",
               speed: int = 150) -> list[Path]:
    """Speak Mandarin text into target_base.wav and .wav16."""
    check_tools()
    target_base.parent.mkdir(parents=True, exist_ok=True)
    words = to_pinyin(text) if voice.startswith("cmn") else text
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        # "--": a text that begins with "-" (a name, say) is spoken, not taken for an option
        _run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), "--", words])
        return convert(raw, target_base)
