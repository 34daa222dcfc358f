"""What the sandbox and the cluster keep about the processes they started: their state as
JSON, written atomically and readable by the owner only, and whether a pid is still the
process they started (its command line names it)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def load(path: Path, kind: type[T]) -> T | None:
    """The state saved at ``path``, or None if there is none or it is unreadable."""
    try:
        return kind(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save(path: Path, state: Any) -> None:
    """``state`` (a dataclass) written to a temporary file (0600), then renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(state), f)
    tmp.replace(path)


def runs(pid: int, *marks: bytes) -> bool:
    """Whether ``pid`` is alive and its command line holds every one of ``marks``."""
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return all(m in cmdline for m in marks)
