"""The journal's file: JSON Lines appended with group commit, replayed by byte offset.

``append`` queues an entry and returns a future that is done once the entry is on disk; one
writer task writes everything queued meanwhile in one ``write`` and one ``fsync``, in a
thread, so neither blocks the event loop and a burst of writes costs one fsync. The replay
acknowledges what it applied by appending the offset reached (and the record ids the
openings got) to a progress file beside the journal; once all is applied both are emptied.
A crash loses at most the last progress line: the entries after the offset before it are
applied again, which the keys make harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import StoreError

log = logging.getLogger(__name__)


class JournalFull(StoreError):
    """The journal is at its size bound (HOTLINE_JOURNAL_MAX_MB), or its disk failed."""


@dataclass(frozen=True)
class Line:
    end: int  # the offset just past this line
    entry: dict[str, Any] | None  # None: not readable JSON
    raw: str


def _line(entry: dict[str, Any]) -> bytes:
    return (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


class FileLog:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.progress_path = path.with_name(path.name + ".progress")
        self.max_bytes = max_bytes
        self._queue: list[tuple[bytes, asyncio.Future[None]]] = []
        self._queued_bytes = 0
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.fsyncs = 0
        self.end = self._durable_end()
        self.offset, self.ids = self._read_progress()
        tail = self.read(self.offset, self.end, limit=None)  # read once, at start
        self.pending = len(tail)  # entries written and not yet applied
        # provisional ids (negative) in use: new ones are taken below them
        self.lowest_provisional = min([0, *self.ids, *(
            int(line.entry.get("provisional", 0)) for line in tail
            if line.entry is not None and isinstance(line.entry.get("provisional"), int))])

    @property
    def size(self) -> int:
        return self.end + self._queued_bytes

    # -- writing -----------------------------------------------------------------------------
    def append(self, entry: dict[str, Any]) -> asyncio.Future[None]:
        """Queue one entry; the future is done when it is on disk. JournalFull if it would
        take the journal past its bound."""
        data = _line(entry)
        if self.size + len(data) > self.max_bytes:
            raise JournalFull(f"the journal is full ({self.size} of {self.max_bytes} bytes)")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((data, done))
        self._queued_bytes += len(data)
        self.pending += 1
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued(), name="journal-writer")
        return done

    async def _write_queued(self) -> None:
        while self._queue:
            async with self._lock:
                batch, self._queue = self._queue, []
                data = b"".join(d for d, _ in batch)
                try:
                    await asyncio.to_thread(self._write, data)
                except Exception as exc:  # the disk failed: these entries are not kept
                    self._queued_bytes -= len(data)
                    self.pending -= len(batch)
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(JournalFull(f"journal write failed: {exc}"))
                    continue
                self.end += len(data)
                self._queued_bytes -= len(data)
                self.fsyncs += 1
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    def _write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            before = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, before)  # no torn line for the next write to follow
                raise
        finally:
            os.close(fd)

    # -- reading and acknowledging -----------------------------------------------------------
    def read(self, start: int, end: int, limit: int | None) -> list[Line]:
        """The lines in [start, end), at most ``limit`` of them (blocking: run in a thread)."""
        out: list[Line] = []
        if start >= end:
            return out
        with open(self.path, "rb") as f:
            f.seek(start)
            pos = start
            while pos < end and (limit is None or len(out) < limit):
                raw = f.readline()
                if not raw:
                    break
                pos += len(raw)
                text = raw.decode("utf-8", errors="replace").rstrip("\n")
                try:
                    entry = json.loads(text)
                except ValueError:
                    entry = None
                out.append(Line(pos, entry if isinstance(entry, dict) else None, text))
        return out

    async def commit(self, offset: int, ids: dict[int, int], count: int) -> None:
        """The entries up to ``offset`` (``count`` of them) are applied; ``ids`` are the
        record ids their openings got."""
        line = _line({"offset": offset, "ids": {str(k): v for k, v in ids.items()}})
        await asyncio.to_thread(self._append_progress, line)
        self.offset = offset
        self.ids.update(ids)
        self.pending -= count

    def _append_progress(self, data: bytes) -> None:
        append_synced(self.progress_path, data)

    async def finish(self) -> bool:
        """Empty the journal if all of it is applied and nothing is being written; False if
        something came meanwhile."""
        async with self._lock:
            if self._queue or self.offset != self.end:
                return False
            await asyncio.to_thread(self._truncate)
            self.offset = self.end = 0
            self.ids = {}
            self.pending = len(self._queue)  # all applied; only what came meanwhile waits
            return True

    def _truncate(self) -> None:
        for path in (self.path, self.progress_path):
            if path.exists():
                with open(path, "r+b") as f:
                    f.truncate(0)
                    os.fsync(f.fileno())

    # -- at start ----------------------------------------------------------------------------
    def _durable_end(self) -> int:
        """The journal's size, less a torn last line (a crash mid-write: never acknowledged,
        and the next line must not be glued to it)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            log.error("%s: a torn last line (%d bytes) dropped", self.path, len(data) - keep)
            os.truncate(self.path, keep)
            return keep
        return len(data)

    def _read_progress(self) -> tuple[int, dict[int, int]]:
        offset, ids = 0, {}
        try:
            lines = self.progress_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0, {}
        for text in lines:
            try:
                step = json.loads(text)
                offset = int(step["offset"])
                ids.update({int(k): int(v) for k, v in step.get("ids", {}).items()})
            except (ValueError, KeyError, TypeError):
                continue  # a torn last line: the step before it holds
        if offset > self.end or (offset and not self._at_line_start(offset)):
            log.error("%s: progress offset %d does not fit the journal; replaying it all",
                      self.progress_path, offset)
            offset = 0
        return offset, ids

    def _at_line_start(self, offset: int) -> bool:
        with open(self.path, "rb") as f:
            f.seek(offset - 1)
            return f.read(1) == b"\n"


def append_synced(path: Path, data: bytes) -> None:
    """Append ``data`` to a private (0600) file and fsync it, on the calling thread."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
