"""`hotline asr fetch small-cn|cn`: download a Vosk Chinese model and verify it.

The publisher's model list (model-list.json, next to the archives) gives each model's URL,
size and MD5. The archive is streamed to a temporary file while its MD5 is computed; size
and MD5 must match the list, every zip member must pass its CRC and stay inside the target,
and the unpacked folder must pass ``check_model`` before it is moved into place. Nothing is
left behind when any step fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import SpeechModelError
from hotline.speech.model_check import ModelInfo, check_model

DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"
MODELS = {"small-cn": "vosk-model-small-cn-0.22", "cn": "vosk-model-cn-0.22"}
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Listing:
    name: str
    url: str
    md5: str
    size: int


def _get(url: str, timeout_s: float) -> urllib.request._UrlopenRet:
    if not url.startswith(("http://", "https://")):
        raise SpeechModelError(f"{url}: only http(s) URLs are fetched")
    try:
        return urllib.request.urlopen(url, timeout=timeout_s)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SpeechModelError(f"cannot download {url}: {exc}") from exc


def find_listing(base_url: str, name: str, timeout_s: float = 30) -> Listing:
    list_url = f"{base_url.rstrip('/')}/model-list.json"
    with _get(list_url, timeout_s) as response:
        raw = response.read()
    try:
        models = json.loads(raw)
    except ValueError as exc:
        raise SpeechModelError(f"{list_url}: not JSON ({exc})") from exc
    for item in models if isinstance(models, list) else []:
        if isinstance(item, dict) and item.get("name") == name:
            try:
                return Listing(name, str(item["url"]), str(item["md5"]).lower(),
                               int(item["size"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise SpeechModelError(f"{list_url}: entry {name} lacks {exc}") from exc
    raise SpeechModelError(f"{list_url}: no model named {name}")


def stream_to(url: str, path: Path, digests: list[Any], size: int, timeout_s: float,
              progress: Callable[[int, int], None] | None) -> int:
    """Download ``url`` into ``path``, feeding every chunk to ``digests``; the bytes got."""
    got = 0
    with _get(url, timeout_s) as response, path.open("wb") as out:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            for digest in digests:
                digest.update(chunk)
            got += len(chunk)
            if progress is not None:
                progress(got, size)
    return got


def _download(listing: Listing, into: Path, timeout_s: float,
              progress: Callable[[int, int], None] | None) -> Path:
    archive = into / f"{listing.name}.zip"
    digest = hashlib.md5(usedforsecurity=False)
    got = stream_to(listing.url, archive, [digest], listing.size, timeout_s, progress)
    if got != listing.size:
        raise SpeechModelError(f"{listing.url}: got {got} bytes, the list says {listing.size}")
    if digest.hexdigest() != listing.md5:
        raise SpeechModelError(f"{listing.url}: MD5 {digest.hexdigest()} does not match the "
                               f"list's {listing.md5}")
    return archive


def _unpack(archive: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise SpeechModelError(f"{archive.name}: {bad} fails its CRC check")
            root = into.resolve()
            for member in zf.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise SpeechModelError(f"{archive.name}: {member} would unpack outside "
                                           "the model folder")
            zf.extractall(root)
    except zipfile.BadZipFile as exc:
        raise SpeechModelError(f"{archive.name}: not a zip archive ({exc})") from exc
    tops = [p for p in into.iterdir() if p.is_dir()]
    return tops[0] if len(tops) == 1 else into


def fetch_model(which: str, dest_dir: Path, base_url: str = DEFAULT_BASE_URL, *,
                timeout_s: float = 60, force: bool = False,
                progress: Callable[[int, int], None] | None = None) -> ModelInfo:
    """Download MODELS[which] into dest_dir/<name>, verified; returns the checked model."""
    if which not in MODELS:
        raise SpeechModelError(f"unknown model {which!r}; choose one of {', '.join(MODELS)}")
    name = MODELS[which]
    target = dest_dir / name
    if target.exists() and not force:
        return check_model(target)
    listing = find_listing(base_url, name, timeout_s)
    dest_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=dest_dir) as tmp:
        work = Path(tmp)
        archive = _download(listing, work, timeout_s, progress)
        unpacked = work / "unpacked"
        unpacked.mkdir()
        folder = _unpack(archive, unpacked)
        check_model(folder)
        if target.exists():
            shutil.rmtree(target)
        folder.rename(target)
    return check_model(target)
