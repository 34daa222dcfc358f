#!/usr/bin/env python3
"""Vendor the browser softphone's SIP stack (SIP.js, MIT) into hotline/web/static/vendor/.

Fetched from the npm registry as a tarball pinned by its sha512 integrity (npm's own
check), cached in ~/.cache/hotline, and unpacked (only lib/**/*.js and the licence) into the
package's static files, so the wheel and an editable install both serve it. Idempotent.
"""

from __future__ import annotations

import base64
import shutil
import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from pathlib import Path

NAME, VERSION = "sip.js", "0.21.2"
INTEGRITY = ("sha512-tSqTcIgrOd2IhP/rd70JablvAp+fSfLSxO4hGNY6LkWRY1SKygTO7OtJEV/BQb8oIxtMRx0LE7n"
             "UF2MaqGbFzA==")
REGISTRY = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "hotline" / "web" / "static" / "vendor" / NAME


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def tarball() -> bytes:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hotline"
    cached = cache / f"{NAME}-{VERSION}.tgz"
    if cached.exists() and integrity_of(cached.read_bytes()) == INTEGRITY:
        return cached.read_bytes()
    url = f"{REGISTRY}/{NAME}/-/{NAME}-{VERSION}.tgz"
    with urllib.request.urlopen(url, timeout=60) as r:  # noqa: S310 (https, pinned hash)
        data = r.read()
    if integrity_of(data) != INTEGRITY:
        raise SystemExit(f"vendor_js: {url} does not match the pinned integrity; not used")
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(data)
    return data


def main() -> int:
    stamp = TARGET / ".version"
    if stamp.exists() and stamp.read_text() == f"{VERSION} {INTEGRITY}":
        return 0
    data = tarball()
    staging = TARGET.with_name(NAME + ".new")
    if staging.exists():
        shutil.rmtree(staging)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            wanted = (name.startswith("lib/") and name.endswith(".js")) or name == "LICENSE.md"
            if not member.isfile() or not wanted or ".." in Path(name).parts:
                continue
            out = staging / name.removeprefix("lib/")
            out.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            assert extracted is not None
            out.write_bytes(extracted.read())
    (staging / ".version").write_text(f"{VERSION} {INTEGRITY}")
    if TARGET.exists():
        shutil.rmtree(TARGET)
    staging.rename(TARGET)
    print(f"vendor_js: {NAME} {VERSION} unpacked into {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
