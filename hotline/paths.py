"""Where the project's data folders are (dialplan/, scripts/, directory/)."""

from __future__ import annotations

import os
from pathlib import Path

from hotline.errors import HotlineError

_ROOT = Path(__file__).resolve().parent.parent


def project_dir(name: str) -> Path:
    """A top-level folder of the project, or $HOTLINE_<NAME>_DIR where it was moved."""
    override = os.environ.get(f"HOTLINE_{name.upper()}_DIR")
    path = Path(override) if override else _ROOT / name
    if not path.is_dir():
        raise HotlineError(f"folder {path} not found (set HOTLINE_{name.upper()}_DIR)")
    return path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotline"
