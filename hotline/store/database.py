"""Engine and sessions (one AsyncSession per unit of work), and migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, make_url, text
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hotline.config import hide_password
from hotline.errors import ConfigError, StoreDataError, StoreError, StoreUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# What the database raises: connectivity (OSError, TimeoutError and the pool's TimeoutError
# are not DBAPIErrors) and everything the driver reports.
DB_ERRORS = (DBAPIError, PoolTimeout, OSError, TimeoutError)
# SQLSTATE classes of a server that is away or overwhelmed, not of a bad write: connection
# exception, insufficient resources, operator intervention (shutdown), and the transaction
# conflicts a retry resolves.
_TRANSIENT_SQLSTATE = ("08", "53", "57", "40001", "40P01", "55P03")


def store_error(exc: BaseException, what: str = "database error", *,
                url: str = "") -> StoreError:
    """StoreUnavailable for a failure to reach the database, StoreDataError for a write it
    refused for what it holds (PostgreSQL's DataError for a value too long for its column);
    the message never holds the database password (``url``: the connection string)."""
    message = f"{what}: {_short(exc, url)}"
    if isinstance(exc, PoolTimeout | OSError | TimeoutError | OperationalError | InterfaceError):
        return StoreUnavailable(message)
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return StoreUnavailable(message)
        orig = exc.orig
        state = str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")
        if state.startswith(_TRANSIENT_SQLSTATE) or isinstance(orig, OSError | TimeoutError):
            return StoreUnavailable(message)
    return StoreDataError(message)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _private_file(Path(path))
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    # an unreachable server must fail fast (the flow then journals its writes), not hang
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                               pool_timeout=5,
                               connect_args={"timeout": 5, "command_timeout": 15})


def _private_file(path: Path) -> None:
    """The SQLite file holds callers' numbers and words: created 0600 (its folder 0700 when
    made here), and an existing one tightened. SQLite gives its -wal and -shm files the
    database file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    else:
        return
    if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        os.chmod(path, 0o600)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(check_url(url))
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Database({hide_password(self.url)!r})"

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except IntegrityError:  # a conflict in the data, not an outage: the caller decides
            raise
        except DB_ERRORS as exc:
            raise store_error(exc, url=self.url) from exc

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except DB_ERRORS as exc:
            raise StoreUnavailable(f"database unreachable: {_short(exc, self.url)}") from exc

    async def close(self) -> None:
        await self.engine.dispose()

    async def upgrade(self) -> None:
        await asyncio.to_thread(upgrade, self.url)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def check_url(url: str) -> str:
    """The URL, if it parses as one (ConfigError without the password if not: e.g. a port
    that is not a number)."""
    try:
        make_url(url).port  # noqa: B018 (parsing the port is the check)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError("HOTLINE_DB_URL", hide_password(url),
                          f"not a database URL ({_scrub(str(exc), url)})") from None
    return url


def upgrade(url: str, revision: str = "head") -> None:
    check_url(url)
    try:
        command.upgrade(alembic_config(url), revision)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StoreError(f"migration failed: {_short(exc, url)}") from exc


def _short(exc: BaseException, url: str) -> str:
    """The first line of a driver's error, never with the database password in it (a
    driver may quote the connection string it was given)."""
    return _scrub(str(getattr(exc, "orig", exc) or exc).splitlines()[0], url)[:300]


def _scrub(message: str, url: str) -> str:
    if url:
        message = message.replace(url, hide_password(url))
    message = hide_password(message)
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        password = None
    return message.replace(password, "***") if password else message
