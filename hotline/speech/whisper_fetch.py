"""`hotline asr fetch whisper-small|whisper-large-v3-turbo`: a larger Whisper (CTranslate2)
from the Hugging Face hub, for hotlines with internet and cores (or a GPU) to spare.

The hub's file listing (``/api/models/REPO/tree/main``) gives each file's size and hash: the
SHA-256 of a large file (``lfs.oid``), the git blob SHA-1 of a small one (``oid``). Every file
is streamed to a temporary folder and checked against them; the folder gets a ``SHA256SUMS``
that ``check_whisper`` verifies at every load, and is moved into place only when complete.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import SpeechModelError
from hotline.speech.fetch import _get, stream_to
from hotline.speech.whisper_model import SUMS, WhisperInfo, check_whisper

WHISPER_MODELS = {
    "whisper-small": "Systran/faster-whisper-small",
    "whisper-large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
NEEDED = ("model.bin", "config.json", "tokenizer.json")
OPTIONAL = ("vocabulary.json", "vocabulary.txt", "preprocessor_config.json")


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str = ""  # large (LFS) files
    blob_sha1: str = ""  # small files: git's blob hash


def hub_listing(base_url: str, repo: str, timeout_s: float) -> dict[str, HubFile]:
    url = f"{base_url.rstrip('/')}/api/models/{repo}/tree/main"
    with _get(url, timeout_s) as response:
        raw = response.read()
    try:
        items = json.loads(raw)
        files = {}
        for item in items:
            if item.get("type") != "file":
                continue
            lfs = item.get("lfs") or {}
            files[item["path"]] = HubFile(item["path"], int(lfs.get("size", item["size"])),
                                          str(lfs.get("oid", "")), str(item.get("oid", "")))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SpeechModelError(f"{url}: not a file listing ({exc})") from exc
    missing = [n for n in NEEDED if n not in files]
    if missing:
        raise SpeechModelError(f"{url}: {', '.join(missing)} not in the listing")
    return files


def _download(base_url: str, repo: str, f: HubFile, into: Path, timeout_s: float,
              progress: Callable[[int, int], None] | None) -> str:
    url = f"{base_url.rstrip('/')}/{repo}/resolve/main/{f.path}"
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1(f"blob {f.size}\0".encode(), usedforsecurity=False)
    got = stream_to(url, into / f.path, [sha256, sha1], f.size, timeout_s, progress)
    if got != f.size:
        raise SpeechModelError(f"{url}: got {got} bytes, the listing says {f.size}")
    if f.sha256 and sha256.hexdigest() != f.sha256:
        raise SpeechModelError(f"{url}: SHA-256 does not match the listing's {f.sha256}")
    if not f.sha256 and (not f.blob_sha1 or sha1.hexdigest() != f.blob_sha1):
        raise SpeechModelError(f"{url}: git blob hash does not match the listing's")
    return sha256.hexdigest()


def fetch_whisper(which: str, dest_dir: Path, base_url: str, *, timeout_s: float = 60,
                  force: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> WhisperInfo:
    if which not in WHISPER_MODELS:
        raise SpeechModelError(f"unknown model {which!r}; choose one of "
                               f"{', '.join(WHISPER_MODELS)}")
    repo, target = WHISPER_MODELS[which], dest_dir / which
    if target.exists() and not force:
        return check_whisper(target)
    listing = hub_listing(base_url, repo, timeout_s)
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{which}-", dir=dest_dir) as tmp:
        work = Path(tmp) / which
        work.mkdir()
        sums = [f"{_download(base_url, repo, listing[name], work, timeout_s, progress)}  {name}"
                for name in (*NEEDED, *OPTIONAL) if name in listing]
        (work / SUMS).write_text("\n".join(sums) + "\n", encoding="utf-8")
        check_whisper(work)
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    return check_whisper(target)
