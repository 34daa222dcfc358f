#!/usr/bin/env bash
# The whole test suite: unit tests on fakes, then integration tests on the real sandbox
# Asterisk (sipp callers), the real databases (SQLite and PostgreSQL) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
start_test_postgres
trap stop_test_postgres EXIT
.venv/bin/python -m pytest -p no:cacheprovider "$@"
