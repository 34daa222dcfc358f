"""Dead letters: journal entries (and live writes) the database refused for what they hold.

They are kept, not retried on their own: an admin looks at them with ``hotline journal list``
and retries them (``retry``, once the cause is mended) or drops them (``drop``). The file is
JSON Lines beside the journal, each letter with a short stable id; the running hotline
appends to it and the command rewrites it, both under a lock file.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hotline.store.journal.filelog import append_synced


@dataclass(frozen=True)
class DeadLetter:
    id: str
    at: str
    reason: str
    entry: dict[str, Any] | None  # None: a journal line that was not readable
    raw: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "reason": self.reason, "entry": self.entry,
                "raw": self.raw}


class DeadLetters:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._seen: tuple[int, int] | None = None
        self._count = 0

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def add(self, entry: dict[str, Any] | None, reason: str, raw: str = "") -> str:
        """Keep one letter (blocking: the hotline calls it in a thread); its id."""
        letter = DeadLetter(secrets.token_hex(4), datetime.now(UTC).isoformat(), reason,
                            entry, raw)
        data = (json.dumps(letter.as_json(), ensure_ascii=False) + "\n").encode()
        with self._locked():
            append_synced(self.path, data)
        return letter.id

    def all(self) -> list[DeadLetter]:
        with self._locked():
            return self._read()

    def _read(self) -> list[DeadLetter]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        out = []
        for text in lines:
            try:
                d = json.loads(text)
                out.append(DeadLetter(str(d["id"]), str(d["at"]), str(d["reason"]),
                                      d.get("entry"), str(d.get("raw", ""))))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def settle(self, done: set[str], reasons: dict[str, str] | None = None) -> int:
        """Remove the letters in ``done``; give others a new reason (a retry that failed
        again). The letters removed."""
        reasons = reasons or {}
        with self._locked():
            letters = self._read()
            kept = [DeadLetter(d.id, d.at, reasons.get(d.id, d.reason), d.entry, d.raw)
                    for d in letters if d.id not in done]
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for d in kept:
                    f.write(json.dumps(d.as_json(), ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
            return len(letters) - len(kept)

    def count(self) -> int:
        """How many letters there are (read again only when the file changed)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return 0
        seen = (st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            self._count = len(self.all())
            self._seen = seen
        return self._count
