# A throw-away PostgreSQL cluster for the store tests, on a loopback port, as user postgres.
PG_PORT=${HOTLINE_TEST_PG_PORT:-55432}
PG_DIR=${HOTLINE_TEST_PG_DIR:-/tmp/hotline-test-pg}

start_test_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  stop_test_postgres
  rm -rf "$PG_DIR" && mkdir -p "$PG_DIR" && chown postgres "$PG_DIR"
  local pw; pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  echo "$pw" > "$PG_DIR.pw" && chmod 644 "$PG_DIR.pw"
  su postgres -c "$bin/initdb -D $PG_DIR/data -A scram-sha-256 -U hotline --pwfile=$PG_DIR.pw" >/dev/null
  su postgres -c "$bin/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w -o '-k $PG_DIR -h 127.0.0.1 -p $PG_PORT' start" >/dev/null
  PGPASSWORD=$pw "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U hotline -d postgres -qc "CREATE DATABASE hotline_test" >/dev/null
  export HOTLINE_TEST_PG_URL="postgresql+asyncpg://hotline:$pw@127.0.0.1:$PG_PORT/hotline_test"
}

stop_test_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then
    su postgres -c "$bin/pg_ctl -D $PG_DIR/data -m fast -w stop" >/dev/null 2>&1 || true
  fi
}
