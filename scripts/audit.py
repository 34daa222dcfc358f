"""pip-audit over requirements.lock, offline (the `make test` step), from a snapshot of the
advisories that `refresh` takes with the network.

    python scripts/audit.py refresh   # with the network: requirements.audit.json from PyPI
    python scripts/audit.py check     # offline: pip-audit over the lock against the snapshot

pip-audit has no offline mode (pypa/pip-audit#698), and the PyPI mirror these machines reach
serves only the per-project JSON (``/pypi/NAME/json``), whose ``vulnerabilities`` are those
of the project's latest release. So ``refresh`` records, for every pin of the lock, that
list; for a pin behind the latest release (numpy, whose newer releases need a newer Python)
it is only the advisories still open on the latest, and ``check`` says so. ``check`` serves
the snapshot on loopback as an OSV query endpoint and runs pip-audit at it
(``--vulnerability-service osv --osv-url``) with ``--disable-pip --no-deps --require-hashes
--strict`` over the lock's hashed pins: the audit fails on any advisory, on a pin the
snapshot does not cover, and on a snapshot taken of another lock.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
SNAPSHOT = ROOT / "requirements.audit.json"
PYPI = "https://pypi.org/pypi/{}/json"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.M)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path = LOCK) -> dict[str, str]:
    return {canonical(n): v for n, v in PIN.findall(lock.read_text())}


def lock_digest(lock: Path = LOCK) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def refresh() -> int:
    found: dict[str, Any] = {}
    for name, version in sorted(pins().items()):
        with urllib.request.urlopen(PYPI.format(name), timeout=30) as r:
            project = json.load(r)
        found[name] = {"version": version, "latest": project["info"]["version"],
                       "vulnerabilities": project.get("vulnerabilities") or []}
    _behind(found)
    SNAPSHOT.write_text(json.dumps({"lock_sha256": lock_digest(), "packages": found},
                                   indent=1, sort_keys=True) + "\n")
    flagged = {n: len(p["vulnerabilities"]) for n, p in found.items() if p["vulnerabilities"]}
    print(f"audit: {SNAPSHOT.name}: {len(found)} pins, advisories on: {flagged or 'none'}")
    return 0


def _behind(packages: dict[str, Any]) -> None:
    behind = [f"{n}=={p['version']} (latest {p['latest']})" for n, p in packages.items()
              if p["version"] != p["latest"]]
    if behind:
        print("audit: behind their latest release, so checked only against the advisories "
              "still open on it: " + ", ".join(behind), file=sys.stderr)


def as_osv(name: str, vuln: dict[str, Any]) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    events += [{"fixed": v} for v in vuln.get("fixed_in") or []]
    return {"id": vuln["id"], "aliases": vuln.get("aliases") or [],
            "summary": vuln.get("summary") or vuln.get("details") or "",
            "withdrawn": vuln.get("withdrawn"),
            "affected": [{"package": {"name": name, "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}]}]}


def serve(packages: dict[str, Any]) -> http.server.ThreadingHTTPServer:
    class Osv(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name, version = canonical(query["package"]["name"]), query["version"]
            known = packages.get(name)
            if known is None or known["version"] != version:
                self.send_error(404, f"{name}=={version} is not in the snapshot")
                return
            body = json.dumps({"vulns": [as_osv(name, v) for v in known["vulnerabilities"]]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Osv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def check(lock: Path = LOCK, snapshot_file: Path = SNAPSHOT) -> int:
    if not snapshot_file.exists():
        print(f"audit: no {snapshot_file.name}: run `make lock` (with the network)",
              file=sys.stderr)
        return 1
    snapshot = json.loads(snapshot_file.read_text())
    if snapshot["lock_sha256"] != lock_digest(lock):
        print(f"audit: {snapshot_file.name} was taken of another {lock.name}: run "
              "`python scripts/audit.py refresh` (with the network)", file=sys.stderr)
        return 1
    _behind(snapshot["packages"])
    server = serve(snapshot["packages"])
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
        return subprocess.call([sys.executable, "-m", "pip_audit", "--disable-pip", "--no-deps",
                                "--require-hashes",
                                "--strict", "--progress-spinner", "off", "-r", str(lock),
                                "--vulnerability-service", "osv", "--osv-url", url])
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    commands = {"refresh": refresh, "check": check}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(commands[sys.argv[1]]())
