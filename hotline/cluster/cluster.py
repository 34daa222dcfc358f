"""`hotline sandbox cluster`: the proxy, N sandbox Asterisks and N controllers (`hotline
serve` processes) on one PostgreSQL, all on loopback, for development and tests.

Everything lives under $HOTLINE_HOME/cluster: cluster.json (what runs, mode 600), proxy/
(kamailio.cfg, dispatcher.list, its log), node-N/ (each node's own HOTLINE_HOME: its
sandbox state, prompts, controller log); and, when HOTLINE_DB_URL names no PostgreSQL, the
cluster's own in /tmp/hotline-cluster-pg-* (the postgres user must reach it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hotline.cluster import database, proxy
from hotline.cluster.topology import (
    BIND,
    PROXY_PORT,
    RTP_SPAN,
    NodePlan,
    ProxyTimers,
    node_named,
    plan,
)
from hotline.config import Settings, networks, replace
from hotline.errors import SandboxError
from hotline.sandbox import state_file
from hotline.sandbox.fds import inherited_fds
from hotline.sandbox.instance import Sandbox
from hotline.store.database import Database


@dataclass
class ClusterState:
    nodes: int
    db_url: str
    own_db: bool
    proxy_pid: int = 0
    rtp_span: int = RTP_SPAN
    controllers: dict[str, int] = field(default_factory=dict)


class Cluster:
    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        """``env``: the controllers' environment (default: this process's), before the
        cluster's own HOTLINE_* values."""
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.dir = settings.home.resolve() / "cluster"
        self.state_file = self.dir / "cluster.json"
        self.proxy_dir = self.dir / "proxy"
        self.cfg = self.proxy_dir / "kamailio.cfg"
        # the own PostgreSQL's folder: the postgres user must reach it ($HOME may be 700)
        key = hashlib.sha1(str(self.dir).encode()).hexdigest()[:10]
        self.pg_dir = Path(tempfile.gettempdir()) / f"hotline-cluster-pg-{key}"

    @property
    def proxy_address(self) -> str:
        return f"{BIND}:{PROXY_PORT}"

    # -- state ----------------------------------------------------------------------------
    def load_state(self) -> ClusterState | None:
        return state_file.load(self.state_file, ClusterState)

    def _save(self, state: ClusterState) -> None:
        state_file.save(self.state_file, state)

    def node_home(self, node: NodePlan) -> Path:
        return self.dir / node.name

    def node_settings(self, node: NodePlan, db_url: str) -> Settings:
        return replace(self.settings, home=self.node_home(node), db_url=db_url,
                       node=node.name, sandbox_http_port=node.http_port,
                       sandbox_sip_port=node.sip_port, sandbox_rtp_start=node.rtp_start,
                       sandbox_rtp_end=node.rtp_end, console_port=node.console_port,
                       ari_url="", ari_user="", ari_password="",
                       trunk_match=BIND, seat_proxy=self.proxy_address)

    # -- up -------------------------------------------------------------------------------
    async def up(self, nodes: int, rtp_span: int = RTP_SPAN) -> dict[str, Any]:
        """``rtp_span``: each node's RTP ports, which size its calls at once (maxcalls)."""
        started = time.monotonic()
        nodes_plan = plan(nodes, rtp_span)
        old = self.load_state()
        if old and (old.nodes, old.rtp_span) != (nodes, rtp_span):
            await asyncio.to_thread(self.down)
            old = None
        own_db = not self.settings.db_url.startswith("postgresql")
        db_url = (await asyncio.to_thread(database.ensure, self.pg_dir) if own_db
                  else self.settings.db_url)
        state = ClusterState(nodes=nodes, db_url=db_url, own_db=own_db,
                             proxy_pid=old.proxy_pid if old else 0, rtp_span=rtp_span,
                             controllers=dict(old.controllers) if old else {})
        self._save(state)
        db = Database(db_url)
        try:  # once, before the controllers (each would otherwise race to migrate)
            await db.upgrade()
        finally:
            await db.close()
        for node in nodes_plan:  # one after the other: two cores, and the chroot's lock
            settings = self.node_settings(node, db_url)
            settings.home.mkdir(parents=True, exist_ok=True)
            self._share_prompts(settings)
            await Sandbox(settings).up()
        self._start_proxy(state, nodes_plan)
        for node in nodes_plan:
            pid = state.controllers.get(node.name, 0)
            if not _serve_alive(pid, self.node_home(node)):
                state.controllers[node.name] = self._spawn_controller(node, db_url)
                self._save(state)
        await asyncio.gather(*(self._wait_healthy(n, state) for n in nodes_plan))
        return {"seconds": time.monotonic() - started, **await self.status()}

    def _share_prompts(self, settings: Settings) -> None:
        """The same phrasebook on every node: copy what this home rendered already (each
        controller renders only what is missing)."""
        source = self.settings.prompts_dir
        if source.is_dir() and not settings.prompts_dir.exists():
            shutil.copytree(source, settings.prompts_dir)

    def _start_proxy(self, state: ClusterState, nodes: list[NodePlan]) -> None:
        s = self.settings
        timers = ProxyTimers.for_ring(s.ring_on_s, s.ring_off_s, s.ring_budget)
        before = self.cfg.read_bytes() if self.cfg.exists() else b""
        cfg = proxy.render(nodes, timers, self.proxy_dir, s.public_number, BIND,
                           ",".join(networks(s.operator_networks)))
        if proxy.alive(state.proxy_pid, cfg) and cfg.read_bytes() == before:
            return
        if not proxy.alive(state.proxy_pid, cfg) and proxy.running(cfg) and (
                cfg.read_bytes() == before):  # its pid was lost (an interrupted up): adopt
            state.proxy_pid = proxy.running(cfg)[0]
            self._save(state)
            return
        proxy.stop(state.proxy_pid, cfg)
        deadline = time.monotonic() + 10  # its children may hold the port a moment longer
        while _udp_bound(PROXY_PORT) and time.monotonic() < deadline:
            time.sleep(0.1)
        (self.proxy_dir / "run" / "kamailio.pid").unlink(missing_ok=True)
        proxy.check(cfg)
        state.proxy_pid = proxy.spawn(cfg, self.proxy_dir / "kamailio.log")
        self._save(state)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _udp_bound(PROXY_PORT):
                return
            if proxy.exited(state.proxy_pid):  # (not a cmdline check: it may not have exec'd yet)
                break
            time.sleep(0.1)
        raise SandboxError(f"kamailio did not start:\n{_tail(self.proxy_dir / 'kamailio.log')}")

    def _controller_env(self, node: NodePlan, db_url: str) -> dict[str, str]:
        env = {k: v for k, v in self.env.items()
               if not k.startswith(("HOTLINE_ARI_", "HOTLINE_SANDBOX_"))}
        env.update(HOTLINE_HOME=str(self.node_home(node)), HOTLINE_DB_URL=db_url,
                   HOTLINE_NODE=node.name, HOTLINE_CONSOLE_PORT=str(node.console_port),
                   HOTLINE_SANDBOX_HTTP_PORT=str(node.http_port),
                   HOTLINE_SANDBOX_SIP_PORT=str(node.sip_port),
                   HOTLINE_SANDBOX_RTP_START=str(node.rtp_start),
                   HOTLINE_SANDBOX_RTP_END=str(node.rtp_end),
                   HOTLINE_TRUNK_MATCH=BIND, HOTLINE_SEAT_PROXY=self.proxy_address,
                   HOTLINE_JOURNAL=str(self.node_home(node) / "journal" / "calls.jsonl"))
        return env

    def _spawn_controller(self, node: NodePlan, db_url: str) -> int:
        log = self.node_home(node) / "serve.log"
        argv = [sys.executable, "-m", "hotline", "serve"]
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_APPEND
                    | os.O_CREAT, 0o600),
                   (os.POSIX_SPAWN_DUP2, 1, 2)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
        return os.posix_spawn(sys.executable, argv, self._controller_env(node, db_url),
                              file_actions=actions, setsid=True)

    async def _wait_healthy(self, node: NodePlan, state: ClusterState,
                            timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"{node.console_url}/healthz",
                                        timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                if not _serve_alive(state.controllers.get(node.name, 0),
                                    self.node_home(node)):
                    break
                await asyncio.sleep(0.2)
        raise SandboxError(f"{node.name}'s controller is not healthy:\n"
                           f"{_tail(self.node_home(node) / 'serve.log')}")

    # -- status ---------------------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        state = self.load_state()
        if state is None:
            return {"proxy": self.proxy_address, "running": False, "nodes": []}
        rows = []
        for node in plan(state.nodes, state.rtp_span):
            box = Sandbox(self.node_settings(node, state.db_url))
            asterisk = (await box.status()).get("running", False)
            controller = _serve_alive(state.controllers.get(node.name, 0),
                                      self.node_home(node))
            rows.append({"name": node.name, "sip": node.sip, "ari_url": node.ari_url,
                         "console_url": node.console_url, "running": asterisk and controller,
                         "asterisk": asterisk, "controller": controller})
        return {"proxy": self.proxy_address,
                "proxy_running": proxy.alive(state.proxy_pid, self.cfg), "nodes": rows}

    # -- kill, down -----------------------------------------------------------------------
    def kill(self, name: str) -> int:
        """SIGKILL one node's Asterisk (a crash, for failover tests); its pid."""
        state = self.load_state()
        if state is None:
            raise SandboxError("the cluster was never started here")
        node = node_named(name, state.nodes, state.rtp_span)
        box = Sandbox(self.node_settings(node, state.db_url))
        box_state = box.load_state()
        if box_state is None or not box._pid_alive(box_state.pid):
            raise SandboxError(f"{name}'s Asterisk is not running")
        os.kill(box_state.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and box._pid_alive(box_state.pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(box_state.pid, os.WNOHANG)
            time.sleep(0.05)
        return box_state.pid

    def down(self) -> bool:
        state = self.load_state()
        if state is None:
            return False
        for node in plan(state.nodes, state.rtp_span):
            _stop_serve(state.controllers.get(node.name, 0), self.node_home(node))
            Sandbox(self.node_settings(node, state.db_url)).down()
        proxy.stop(state.proxy_pid, self.cfg)
        if state.own_db:
            database.stop(self.pg_dir)
        self.state_file.unlink(missing_ok=True)
        return True


def _serve_alive(pid: int, home: Path) -> bool:
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return b"hotline" in cmdline and f"HOTLINE_HOME={home}".encode() in environ


def _stop_serve(pid: int, home: Path) -> None:
    if not _serve_alive(pid, home):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _serve_alive(pid, home):
        time.sleep(0.1)
    if _serve_alive(pid, home):
        os.kill(pid, signal.SIGKILL)


def _udp_bound(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((BIND, port))
        except OSError:
            return True
    return False


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
