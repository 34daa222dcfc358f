"""One sandbox Asterisk per $HOTLINE_HOME: render dialplan/ into the chroot, start, stop, status.

Bound to 127.0.0.1 only. The ARI password is generated on first use and kept in
$HOTLINE_HOME/sandbox/state.json (mode 600); there is no default password anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.ari.rest import AriRest
from hotline.config import Settings, networks
from hotline.errors import AriError, SandboxError, TelephonyError
from hotline.paths import cache_dir, project_dir
from hotline.prompts import tts
from hotline.sandbox import rootfs, state_file
from hotline.sandbox.fds import inherited_fds
from hotline.sandbox.sizing import ARI_CONNECTIONS, node_size

BIND = "127.0.0.1"
ARI_USER = "hotline"
FALLBACK_APOLOGY = "很抱歉，现在座席繁忙，暂时无法为您服务，请您稍后再拨，谢谢您的来电，再见。"
DEPT_PORT = 5090
OUTBOUND_PORT = 5091  # the outbound trunk stand-in (operators' callbacks)


@dataclass
class SandboxState:
    ari_user: str
    ari_password: str
    rootfs: str
    instance: str  # the instance folder, as seen inside the chroot
    http_port: int
    sip_port: int
    pid: int = 0
    config_hash: str = ""
    try_password: str = ""  # the /try page's browser caller (sandbox and demo only)

    @property
    def ari_url(self) -> str:
        return f"http://{BIND}:{self.http_port}/ari"

    @property
    def sounds_in_asterisk(self) -> str:
        return f"{self.instance}/prompts"

    @property
    def sip_ws_url(self) -> str:
        return f"ws://{BIND}:{self.http_port}/ws"

    @property
    def dtls_files(self) -> tuple[str, str]:
        """The DTLS certificate and key as Asterisk sees them."""
        return f"{self.instance}/tls/dtls.crt", f"{self.instance}/tls/dtls.key"


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = settings.home.resolve()
        self.dir = self.home / "sandbox"
        self.state_file = self.dir / "state.json"
        self.log = self.dir / "asterisk.log"
        key = hashlib.sha1(str(self.home).encode()).hexdigest()[:10]
        self.instance = f"/hotline/{key}"

    # -- state ----------------------------------------------------------------------------
    def load_state(self) -> SandboxState | None:
        return state_file.load(self.state_file, SandboxState)

    def _save_state(self, state: SandboxState) -> None:
        state_file.save(self.state_file, state)

    def _pid_alive(self, pid: int) -> bool:
        return state_file.runs(pid, b"asterisk", self.instance.encode())

    # -- up -------------------------------------------------------------------------------
    async def up(self) -> dict[str, Any]:
        """Start the sandbox if it is not running; return timing figures."""
        started = time.monotonic()
        await asyncio.to_thread(self.console_cert)  # also for a sandbox already running
        state = self.load_state()
        if state and self._pid_alive(state.pid) and await self._ari_answers(state):
            if state.config_hash == self._config_hash(state):
                # folders added since it started (Asterisk creates none of its own)
                inside = Path(state.rootfs) / self.instance.lstrip("/")
                _make_folders(inside)
                owner = rootfs.run_user(cache_dir(), Path(state.rootfs))
                if owner:
                    await asyncio.to_thread(_own, inside, owner)
                return {"already_running": True, "seconds": time.monotonic() - started,
                        "build_seconds": 0.0}
            await asyncio.to_thread(self.down)  # dialplan/ or settings changed: restart
        self.dir.mkdir(parents=True, exist_ok=True)
        root, build_s = await asyncio.to_thread(rootfs.ensure_rootfs, cache_dir(), self.log)
        s = self.settings
        state = SandboxState(
            ari_user=ARI_USER,
            ari_password=(state.ari_password if state else secrets.token_urlsafe(24)),
            try_password=(state.try_password if state and state.try_password
                          else secrets.token_urlsafe(18)),
            rootfs=str(root), instance=self.instance,
            http_port=s.sandbox_http_port, sip_port=s.sandbox_sip_port)
        orphan = self._orphan_pid(root)  # an Asterisk of this home whose state was lost
        if orphan:
            self._stop_pid(orphan)
        for port, proto in ((state.http_port, socket.SOCK_STREAM),
                            (state.sip_port, socket.SOCK_DGRAM)):
            await _wait_port_free(port, proto)
        inside = root / self.instance.lstrip("/")
        self._render(inside, state)
        await asyncio.to_thread(self._install_dtls_cert, inside / "tls")
        owner = rootfs.run_user(cache_dir(), root)
        if owner:  # Asterisk drops root (runuser): it must own what it reads and writes
            await asyncio.to_thread(_own, inside, owner)
        # PJSIP opens a DNS resolver socket on 0.0.0.0 when it finds nameservers; the sandbox
        # talks to loopback only, so it gets none.
        (root / "etc/resolv.conf").write_text("# hotline sandbox: loopback only, no DNS\n")
        await asyncio.to_thread(self._render_fallback_prompt)
        for name in ("proc", "dev"):
            rootfs.bind_mount(Path("/" + name), root / name)
        rootfs.bind_mount(self.settings.prompts_dir.resolve(), inside / "prompts")
        state.pid = await asyncio.to_thread(self._spawn, root)
        state.config_hash = self._config_hash(state)
        self._save_state(state)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            code = self._exited(state.pid)
            if code is not None:
                raise SandboxError(f"Asterisk exited with {code}:\n{self._log_tail()}")
            if await self._ari_answers(state):
                return {"already_running": False, "seconds": time.monotonic() - started,
                        "build_seconds": build_s}
            await asyncio.sleep(0.2)
        raise SandboxError(f"Asterisk did not answer ARI within 60 s:\n{self._log_tail()}")

    def _spawn(self, root: Path) -> int:
        """Start Asterisk in its own session so it outlives this command; returns its pid.
        It inherits no descriptor of ours beyond its stdio: a lock the caller holds (say
        `flock FILE make test`) would otherwise be held by the daemon for its whole life."""
        argv = ["chroot", str(root), "asterisk", "-C", f"{self.instance}/etc/asterisk.conf",
                "-f", "-n"]
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, str(self.log), os.O_WRONLY | os.O_APPEND
                    | os.O_CREAT, 0o600),
                   (os.POSIX_SPAWN_DUP2, 1, 2)]
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
        return os.posix_spawnp("chroot", argv, os.environ, file_actions=actions, setsid=True)

    @staticmethod
    def _exited(pid: int) -> int | None:
        """The exit status if the process has ended (and reap it), else None."""
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status) if done else None

    def _orphan_pid(self, root: Path) -> int:
        for pid in rootfs.processes_rooted_in(root):
            if self._pid_alive(pid):
                return pid
        return 0

    def _values(self, state: SandboxState) -> dict[str, str]:
        s = self.settings
        size = node_size(s.sandbox_rtp_start, s.sandbox_rtp_end)
        owner = rootfs.run_user(cache_dir(), Path(state.rootfs))
        return {
            "INSTANCE": self.instance, "BIND": BIND, "HTTP_PORT": str(state.http_port),
            "SIP_PORT": str(state.sip_port), "RTP_START": str(s.sandbox_rtp_start),
            "RTP_END": str(s.sandbox_rtp_end), "ARI_USER": state.ari_user,
            "ARI_PASSWORD": state.ari_password, "ARI_APP": s.ari_app,
            "CONSOLE_PORT": str(s.console_port), "SOUNDS": state.sounds_in_asterisk,
            "PUBLIC_NUMBER": s.public_number, "DEPT_PORT": str(DEPT_PORT),
            "OUTBOUND_PORT": str(OUTBOUND_PORT),
            "TRUNK_MATCH": ",".join(networks(s.trunk_match)),
            "OPERATOR_NETWORKS": ",".join(networks(s.operator_networks)),
            "ARI_PERMIT": f"{BIND}/32",  # the controller runs beside the sandbox
            "NODE_CALLS": str(size.calls),
            "HTTP_SESSIONS": str(size.http_sessions), "ARI_CONNECTIONS": str(ARI_CONNECTIONS),
            "RUN_AS": (f"runuser = {rootfs.RUN_USER}\nrungroup = {rootfs.RUN_USER}" if owner else
                       "; the chroot has no asterisk user: Asterisk runs as root"),
            "DTLS_CERT": state.dtls_files[0], "DTLS_KEY": state.dtls_files[1],
            "TRY_PASSWORD": state.try_password,
            "SYSTEM_NAME": (f"systemname = {s.node}" if s.node else
                            "; one node: no systemname"),
        }

    def _config_hash(self, state: SandboxState) -> str:
        digest = hashlib.sha1(json.dumps(self._values(state), sort_keys=True).encode())
        for src in sorted(project_dir("dialplan").glob("*.conf")):
            digest.update(src.name.encode() + src.read_bytes())
        return digest.hexdigest()[:16]

    def _render(self, inside: Path, state: SandboxState) -> None:
        values = self._values(state)
        etc = inside / "etc"
        _make_folders(inside)
        for src in sorted(project_dir("dialplan").glob("*.conf")):
            text = src.read_text(encoding="utf-8")
            for key, value in values.items():
                text = text.replace(f"@@{key}@@", value)
            if "@@" in text.replace("@@@", ""):
                raise SandboxError(f"{src}: unknown @@placeholder@@ left after rendering")
            out = etc / src.name
            out.write_text(text, encoding="utf-8")
            out.chmod(0o600)
        (etc / "logger.conf").write_text(
            "[general]\n[logfiles]\nmessages.log => notice,warning,error\n"
            "console => warning,error\n")
        (etc / "logger.conf").chmod(0o600)

    def _install_dtls_cert(self, into: Path) -> None:
        """A self-signed certificate for DTLS-SRTP, made once into $HOTLINE_HOME/tls and
        copied into the chroot (browsers check its fingerprint against the SDP, not a CA)."""
        tls = self.home / "tls"
        cert, key = tls / "dtls.crt", tls / "dtls.key"
        if not (cert.exists() and key.exists()):
            tls.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                subprocess.run(
                    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "3650",
                     "-subj", "/CN=hotline-sandbox", "-keyout", str(key), "-out", str(cert)],
                    check=True, capture_output=True, timeout=60)
            except (OSError, subprocess.SubprocessError) as exc:
                raise SandboxError(f"cannot make the DTLS certificate with openssl: {exc}; "
                                   "install openssl (scripts/bootstrap.sh does)") from None
            key.chmod(0o600)
        for src in (cert, key):  # not in keys/: res_crypto would take them for its own
            shutil.copyfile(src, into / src.name)
            (into / src.name).chmod(0o600)

    def console_cert(self) -> tuple[Path, Path]:
        """A self-signed certificate for the console on loopback (127.0.0.1 and localhost),
        made once into $HOTLINE_HOME/tls: `make demo` serves the console over HTTPS with it
        (HOTLINE_TLS_CERT/_KEY). Browsers warn about it; production uses a real one."""
        tls = self.home / "tls"
        cert, key = tls / "console.crt", tls / "console.key"
        if cert.exists() and key.exists():
            return cert, key
        tls.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "825",
                 "-subj", "/CN=hotline-sandbox-console",
                 "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                 "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"cannot make the console's certificate with openssl: {exc}; "
                               "install openssl (scripts/bootstrap.sh does)") from None
        key.chmod(0o600)
        return cert, key

    def _render_fallback_prompt(self) -> None:
        target = self.settings.prompts_dir / "fallback-apology"
        if not target.with_name(target.name + ".wav").exists():
            tts.synthesise(FALLBACK_APOLOGY, target, voice=self.settings.prompts_voice)

    async def _ari_answers(self, state: SandboxState) -> bool:
        try:
            async with AriRest(state.ari_url, state.ari_user, state.ari_password,
                               timeout_s=2) as ari:
                await ari.asterisk_info()
            return True
        except (TelephonyError, AriError):
            return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- status ---------------------------------------------------------------------------
    async def status(self, secrets: bool = False) -> dict[str, Any]:
        """Whether it runs, and where; the ARI password only when ``secrets`` is asked."""
        state = self.load_state()
        if state is None:
            return {"running": False, "reason": "the sandbox was never started here"}
        base: dict[str, Any] = {"ari_url": state.ari_url, "ari_user": state.ari_user,
                                "pid": state.pid, "sip": f"{BIND}:{state.sip_port}"}
        if secrets:
            base["ari_password"] = state.ari_password
        if not self._pid_alive(state.pid):
            return {"running": False, **base, "reason": "Asterisk is not running"}
        try:
            async with AriRest(state.ari_url, state.ari_user, state.ari_password,
                               timeout_s=3) as ari:
                info = await ari.asterisk_info()
        except TelephonyError as exc:
            return {"running": False, **base, "reason": f"ARI does not answer: {exc}"}
        version = info.get("system", {}).get("version", "") if isinstance(info, dict) else ""
        return {"running": True, **base, "asterisk_version": version}

    # -- down -----------------------------------------------------------------------------
    def down(self) -> bool:
        """Stop Asterisk and unmount. Returns whether anything was running."""
        state = self.load_state()
        if state is None:
            return False
        root = Path(state.rootfs)
        was_running = self._pid_alive(state.pid)
        if was_running:
            self._stop_pid(state.pid)
        orphan = self._orphan_pid(root)
        if orphan:
            self._stop_pid(orphan)
        rootfs.unmount(root / self.instance.lstrip("/") / "prompts")
        if not rootfs.processes_rooted_in(root):
            for name in ("dev", "proc"):
                rootfs.unmount(root / name)
        state.pid = 0
        self._save_state(state)
        return was_running

    def _stop_pid(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self._pid_alive(pid):
            time.sleep(0.1)
            _reap(pid)
        if self._pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
            _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


async def _wait_port_free(port: int, kind: socket.SocketKind, grace_s: float = 5.0) -> None:
    """The port can be bound, within a few seconds: an Asterisk stopped a moment ago (a
    restart) may still hold its sockets while it exits."""
    deadline = time.monotonic() + grace_s
    while True:
        with socket.socket(socket.AF_INET, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((BIND, port))
                return
            except OSError as exc:
                if time.monotonic() >= deadline:
                    proto = "TCP" if kind == socket.SOCK_STREAM else "UDP"
                    raise SandboxError(
                        f"{BIND}:{port}/{proto} is already in use ({exc.strerror}); stop what "
                        f"holds it or set HOTLINE_SANDBOX_{'HTTP' if proto == 'TCP' else 'SIP'}"
                        "_PORT") from None
        await asyncio.sleep(0.1)


def _own(inside: Path, owner: tuple[int, int]) -> None:
    """chown -R the instance (not the prompts: a bind mount of $HOTLINE_HOME/prompts, which
    Asterisk only reads)."""
    uid, gid = owner
    os.chown(inside, uid, gid)
    for sub in inside.iterdir():
        if sub.name == "prompts":
            continue
        os.chown(sub, uid, gid)
        for folder, dirs, files in os.walk(sub):
            for name in dirs + files:
                os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


def _make_folders(inside: Path) -> None:
    for sub in ("etc", "run", "log", "spool", "spool/recording", "db", "keys", "tls",
                "prompts"):
        (inside / sub).mkdir(parents=True, exist_ok=True)
    # the calls' recordings: for Asterisk (their owner) alone
    os.chmod(inside / "spool" / "recording", 0o700)

