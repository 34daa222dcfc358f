"""The cluster's SIP proxy: Debian's kamailio, configured from dialplan/kamailio.cfg.

Rendered into $HOTLINE_HOME/cluster/proxy/ with the node list (dispatcher.list) and run as
the package's ``kamailio`` user (root only if the package made none), bound to loopback.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from hotline.cluster.topology import BIND, PROXY_PORT, NodePlan, ProxyTimers
from hotline.errors import SandboxError
from hotline.paths import project_dir
from hotline.sandbox import state_file
from hotline.sandbox.fds import inherited_fds

MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
DS_SET = 1
DS_ROUND_ROBIN = 4
PLACEHOLDER = re.compile(r"@@([A-Z][A-Z0-9_]*)@@")
# a value lands inside a quoted string or a line of kamailio.cfg: it must not end either
UNSAFE = re.compile(r'["\\\r\n]')


def kamailio_binary() -> str:
    found = shutil.which("kamailio") or (
        "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None)
    if not found:
        raise SandboxError("kamailio is not installed: apt-get install kamailio "
                           "(scripts/bootstrap.sh does)")
    return found


def modules_dir() -> str:
    for candidate in (MODULES, *map(str, Path("/usr/lib").glob("*/kamailio/modules/"))):
        if Path(candidate, "dispatcher.so").exists():
            return candidate if candidate.endswith("/") else candidate + "/"
    raise SandboxError("kamailio's dispatcher module is missing (package kamailio)")


def dispatcher_list(nodes: Sequence[NodePlan]) -> str:
    lines = ["# set destination flags priority attributes"]
    lines += [f"{DS_SET} sip:{node.sip} 0 0 name={node.name}" for node in nodes]
    return "\n".join(lines) + "\n"


def render(nodes: Sequence[NodePlan], timers: ProxyTimers, folder: Path, public_number: str,
           trunk_match: str, operator_networks: str, modules: str | None = None) -> Path:
    """Write kamailio.cfg and dispatcher.list into ``folder``; returns the .cfg."""
    if not nodes:
        raise SandboxError("the proxy needs at least one node")
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / "dispatcher.list"
    listing.write_text(dispatcher_list(nodes))
    values = {
        "BIND": BIND, "PROXY_PORT": str(PROXY_PORT), "CHILDREN": "2",
        "MODULES": modules or modules_dir(), "DISPATCHER_LIST": str(listing),
        "DS_SET": str(DS_SET), "DS_ALGORITHM": str(DS_ROUND_ROBIN),
        "FR_TIMER_MS": str(timers.fr_timer_ms), "FR_INV_TIMER_MS": str(timers.fr_inv_timer_ms),
        "SEAT_RING_LIMIT_MS": str(timers.seat_ring_limit_ms),
        "PING_INTERVAL": str(timers.ping_interval_s), "PUBLIC_NUMBER": public_number,
        # ipops' is_in_subnet takes a comma-separated list of networks
        "TRUNK_MATCH": ",".join(_cidr(n) for n in trunk_match.split(",") if n.strip()),
        "OPERATOR_NETWORKS": ",".join(_cidr(n) for n in operator_networks.split(",")
                                      if n.strip()),
    }
    template = project_dir("dialplan").joinpath("kamailio.cfg").read_text(encoding="utf-8")
    cfg = folder / "kamailio.cfg"
    cfg.write_text(fill(template, values), encoding="utf-8")
    return cfg


# what each placeholder comes from, for the error when its value is unusable
SOURCES = {"PUBLIC_NUMBER": "HOTLINE_PUBLIC_NUMBER", "TRUNK_MATCH": "HOTLINE_TRUNK_MATCH",
           "OPERATOR_NETWORKS": "HOTLINE_OPERATOR_NETWORKS"}


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with every @@NAME@@ replaced by ``values[NAME]``. Every placeholder must
    have a value, and no value may be empty or break out of the quoted string or the line it
    lands in (a double quote, a backslash, a line break)."""
    wanted = set(PLACEHOLDER.findall(template))
    missing = sorted(wanted - set(values))
    if missing:
        raise SandboxError("dialplan/kamailio.cfg: no value for "
                           + ", ".join(f"@@{name}@@" for name in missing))
    for name in sorted(wanted):
        value = values[name]
        if not value or UNSAFE.search(value):
            source = SOURCES.get(name, name)
            shown = repr(value) if value else "empty"
            raise SandboxError(f"kamailio.cfg's @@{name}@@ ({source}) is {shown}: it must "
                               "be set, without double quotes, backslashes or line breaks")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _cidr(network: str) -> str:
    network = network.strip()
    return network if "/" in network else f"{network}/32"


def check(cfg: Path) -> None:
    """kamailio -c: the configuration parses and every module loads."""
    proc = subprocess.run([kamailio_binary(), "-c", "-f", str(cfg)], capture_output=True,
                          text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise SandboxError(f"kamailio rejects {cfg}:\n{proc.stderr[-2000:]}")


def _run_as() -> list[str]:
    try:
        pwd.getpwnam("kamailio")
    except KeyError:
        return []
    return ["-u", "kamailio", "-g", "kamailio"]


def spawn(cfg: Path, log: Path) -> int:
    """Start kamailio in its own session (it outlives this command); its main process id."""
    run = cfg.parent / "run"
    run.mkdir(exist_ok=True)
    user = _run_as()
    if user:
        entry = pwd.getpwnam("kamailio")
        os.chown(run, entry.pw_uid, entry.pw_gid)
    argv = [kamailio_binary(), "-f", str(cfg), "-DD", "-E", "-Y", str(run),
            "-P", str(run / "kamailio.pid"), *user]
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                0o600),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions, setsid=True)


def alive(pid: int, cfg: Path) -> bool:
    return state_file.runs(pid, b"kamailio", str(cfg).encode())


def running(cfg: Path) -> list[int]:
    """Every kamailio process of this configuration (the main one and its children), also
    one whose pid the cluster's state lost."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and alive(int(entry.name), cfg):
            found.append(int(entry.name))
    return sorted(found)


def stop(pid: int, cfg: Path) -> None:
    """Stop the proxy of ``cfg``: ``pid`` and any other process of it."""
    targets = sorted(set(running(cfg)) | ({pid} if alive(pid, cfg) else set()))
    for target in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and running(cfg):
        for target in targets:
            _reap(target)
        time.sleep(0.1)
    for target in running(cfg):
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)
    time.sleep(0.2)
    for target in targets:
        _reap(target)


def exited(pid: int) -> bool:
    """Whether our child ``pid`` has ended (and reap it)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists()
    return done != 0


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
