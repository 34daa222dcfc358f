"""`make audit`: pip-audit over the lock, offline, against the advisories snapshot. The real
lock passes; an advisory on a pinned version, a pin the snapshot lacks and a snapshot of
another lock each fail it."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from hotline.paths import project_dir

SCRIPT = project_dir("scripts") / "audit.py"
spec = importlib.util.spec_from_file_location("audit_script", SCRIPT)
assert spec is not None and spec.loader is not None
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    lock, snap = tmp_path / "requirements.lock", tmp_path / "requirements.audit.json"
    shutil.copy(audit.LOCK, lock)
    shutil.copy(audit.SNAPSHOT, snap)
    return lock, snap


def test_the_lock_passes_its_audit_offline() -> None:
    assert audit.check() == 0


def test_an_advisory_on_a_pinned_version_fails_the_audit(copies: tuple[Path, Path]) -> None:
    lock, snap = copies
    data = json.loads(snap.read_text())
    pinned = data["packages"]["aiohttp"]["version"]
    data["packages"]["aiohttp"]["vulnerabilities"] = [{
        "id": "GHSA-test-0000-0000", "aliases": ["CVE-2099-0001"], "details": "a test",
        "fixed_in": [pinned + ".post1"], "withdrawn": None}]
    snap.write_text(json.dumps(data))
    assert audit.check(lock, snap) == 1


def test_a_pin_the_snapshot_lacks_or_another_lock_fails_the_audit(
        copies: tuple[Path, Path]) -> None:
    lock, snap = copies
    data = json.loads(snap.read_text())
    del data["packages"]["yarl"]
    snap.write_text(json.dumps(data))
    assert audit.check(lock, snap) != 0
    lock.write_text(lock.read_text() + "\n# changed\n")
    assert audit.check(lock, snap) == 1
