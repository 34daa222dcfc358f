"""Build (once) and cache the Debian sid chroot that holds Asterisk."""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import time
from pathlib import Path

from hotline.errors import SandboxError

MIRROR = "http://deb.debian.org/debian"
SUITE = "sid"
PACKAGES = "asterisk"


def rootfs_ready(root: Path) -> bool:
    return (root / "usr/sbin/asterisk").exists()


def ensure_rootfs(cache: Path, log: Path) -> tuple[Path, float]:
    """Return the chroot path and how long building it took (0.0 when cached)."""
    cache.mkdir(parents=True, exist_ok=True)
    root = cache / "sid-asterisk"
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if rootfs_ready(root):
            return root, 0.0
        if shutil.which("debootstrap") is None:
            raise SandboxError("debootstrap is not installed: apt-get install debootstrap")
        partial = cache / "sid-asterisk.partial"
        if partial.exists():
            _unmount_below(partial)
            shutil.rmtree(partial)
        started = time.monotonic()
        with open(log, "ab") as out:
            proc = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE,
                 str(partial), MIRROR], stdout=out, stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0 or not rootfs_ready(partial):
            raise SandboxError(f"debootstrap failed (exit {proc.returncode}); see {log}")
        partial.rename(root)
        return root, time.monotonic() - started


def mounted(path: Path) -> bool:
    target = str(path.resolve())
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return any(line.split()[4] == target for line in f)


def bind_mount(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    if mounted(target):
        return
    proc = subprocess.run(["mount", "--bind", str(source), str(target)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SandboxError(f"mount --bind {source} {target}: {proc.stderr.strip()}")


def unmount(target: Path) -> None:
    if mounted(target):
        proc = subprocess.run(["umount", str(target)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _unmount_below(root: Path) -> None:
    prefix = str(root.resolve())
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(prefix)]
    for point in sorted(points, reverse=True):
        unmount(Path(point))


def processes_rooted_in(root: Path) -> list[int]:
    """PIDs of processes whose root directory is this chroot."""
    target = str(root.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if str((entry / "root").readlink()) == target:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


RUN_USER = "hotline-asterisk"
_RUN_IDS = range(64000, 65000)  # Debian's on-demand range: no package claims these by default


def run_user(cache: Path, root: Path) -> tuple[int, int] | None:
    """The user the sandbox Asterisk runs as: its own, added to the chroot once, with ids
    free both in the chroot and on the host (the package's asterisk user has a dynamic id
    that the host may already give to another service, such as postgres). None when the
    chroot has no passwd file to add it to: Asterisk then stays root."""
    passwd, group = root / "etc/passwd", root / "etc/group"
    with open(cache / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            users, groups = _ids(passwd), _ids(group)
        except OSError:
            return None
        if RUN_USER in users and RUN_USER in groups:
            return users[RUN_USER], groups[RUN_USER]
        taken = set(users.values()) | set(groups.values())
        for path in (Path("/etc/passwd"), Path("/etc/group")):
            with contextlib.suppress(OSError):  # a host without one claims nothing
                taken |= set(_ids(path).values())
        free = next((i for i in _RUN_IDS if i not in taken), None)
        if free is None:
            return None
        try:
            with open(group, "a", encoding="utf-8") as f:
                f.write(f"{RUN_USER}:x:{free}:\n")
            with open(passwd, "a", encoding="utf-8") as f:
                f.write(f"{RUN_USER}:x:{free}:{free}:hotline sandbox Asterisk:/nonexistent:"
                        "/usr/sbin/nologin\n")
        except OSError:
            return None
        return free, free


def _ids(path: Path) -> dict[str, int]:
    """name -> id of a passwd or group file."""
    ids = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            ids[parts[0]] = int(parts[2])
    return ids
