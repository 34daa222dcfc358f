"""The cluster's one PostgreSQL: the one HOTLINE_DB_URL names, or a throw-away cluster of
its own under $HOTLINE_HOME/cluster/pg (initdb as the postgres user, loopback only)."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from hotline.cluster.topology import BIND, PG_PORT
from hotline.errors import SandboxError

PG_USER = "hotline"
PG_DB = "hotline"


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        raise SandboxError("PostgreSQL is not installed: apt-get install postgresql "
                           "(scripts/bootstrap.sh does)")
    return found[-1].parent


def _as_postgres(*argv: str) -> None:
    proc = subprocess.run(["runuser", "-u", "postgres", "--", *argv], capture_output=True,
                          text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise SandboxError(f"{' '.join(argv[:2])}: {proc.stderr.strip()[-1000:]}")


def ensure(folder: Path) -> str:
    """Start (creating once) the cluster's own PostgreSQL; its URL."""
    data, pw_file = folder / "data", folder / "password"
    bin_dir = _bin()
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres")
        pw_file.write_text(secrets.token_urlsafe(18))
        shutil.chown(pw_file, "postgres")
        pw_file.chmod(0o600)
        _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-A", "scram-sha-256",
                     "-U", PG_USER, f"--pwfile={pw_file}")
    password = pw_file.read_text().strip()
    if not (data / "postmaster.pid").exists():
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"),
                     "-w", "-o", f"-k {folder} -h {BIND} -p {PG_PORT}", "start")
    url = f"postgresql://{PG_USER}:{password}@{BIND}:{PG_PORT}/postgres"
    proc = subprocess.run([str(bin_dir / "psql"), url, "-tAc",
                           f"SELECT 1 FROM pg_database WHERE datname = '{PG_DB}'"],
                          capture_output=True, text=True, timeout=30, check=False)
    if proc.stdout.strip() != "1":
        subprocess.run([str(bin_dir / "psql"), url, "-qc", f"CREATE DATABASE {PG_DB}"],
                       capture_output=True, timeout=30, check=True)
    return f"postgresql+asyncpg://{PG_USER}:{password}@{BIND}:{PG_PORT}/{PG_DB}"


def stop(folder: Path) -> None:
    data = folder / "data"
    if (data / "postmaster.pid").exists():
        _as_postgres(str(_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
