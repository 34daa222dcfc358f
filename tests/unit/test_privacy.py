"""Callers' numbers and the database password kept out of what operators and log shippers
read: log masking (messages, tracebacks, local numbers; not job numbers or record ids), and
no password in a configuration error, a store error or `hotline doctor`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import OperationalError

from hotline.cli import main
from hotline.config import load_settings
from hotline.errors import ConfigError, StoreError
from hotline.observability.logs import JsonFormatter
from hotline.privacy import MaskingFilter, mask_number, mask_text

PASSWORD = "S3cret-Pw-77"
URL = f"postgresql+asyncpg://hotline:{PASSWORD}@127.0.0.1:1/hotline"


def test_numbers_are_masked_and_ids_and_job_numbers_are_not() -> None:
    assert mask_number("13900000001") == "139****0001"
    assert mask_number("8613900000001") == "861******0001"
    assert mask_number("58001234") == "******34"  # a local number: not 580****1234
    assert mask_number("5800123") == "*****23"
    line = ("call 1234567 from 13900000001 (023-58001234, 5800123, +8613900000001) "
            "to 12345, answered by 9000, ticket #2345678, record=3456789 in 2026, port 5060")
    assert mask_text(line) == (
        "call 1234567 from 139****0001 (023-******34, *****23, +861******0001) "
        "to 12345, answered by 9000, ticket #2345678, record=3456789 in 2026, port 5060")
    assert mask_text("rang 13900000001.") == "rang 139****0001."


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    text, js = io.StringIO(), io.StringIO()
    logger = logging.getLogger("test-privacy")
    handlers = [logging.StreamHandler(text), logging.StreamHandler(js)]
    handlers[1].setFormatter(JsonFormatter())
    for h in handlers:
        h.addFilter(MaskingFilter())
        logger.addHandler(h)
    logger.propagate = False
    try:
        yield logger, text, js
    finally:
        for h in handlers:
            logger.removeHandler(h)


def test_a_traceback_is_masked_in_text_and_json_logs(
        captured: tuple[logging.Logger, io.StringIO, io.StringIO]) -> None:
    logger, text, js = captured
    try:
        raise ValueError("no record for caller 13900000001 (local 58001234)")
    except ValueError:
        logger.exception("lookup failed for %s", "13900000002")
    logger.error("stack", stack_info=True, extra={"call_id": 1234567})
    out = text.getvalue()
    assert "Traceback" in out and "ValueError" in out
    assert "13900000001" not in out and "58001234" not in out and "13900000002" not in out
    assert "139****0001" in out and "******34" in out and "139****0002" in out
    entries = [json.loads(line) for line in js.getvalue().splitlines()]
    assert entries[0]["message"] == "lookup failed for 139****0002"
    assert "139****0001" in entries[0]["error"] and "13900000001" not in entries[0]["error"]
    assert entries[1]["call_id"] == 1234567


def test_no_password_in_a_configuration_error(tmp_path: object) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"HOTLINE_DB_URL": URL.replace("postgresql+asyncpg", "postgres")})
    assert PASSWORD not in str(err.value) and "hotline:***@" in str(err.value)
    from hotline.store.database import Database
    with pytest.raises(ConfigError) as bad_port:
        Database(URL.replace(":1/", ":port/"))
    assert PASSWORD not in str(bad_port.value) and "HOTLINE_DB_URL" in str(bad_port.value)
    assert PASSWORD not in repr(Database(URL))


async def test_no_password_in_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.store.database import Database
    db = Database(URL)

    def failing(*_: object, **__: object) -> object:
        raise OperationalError("connect", {}, Exception(f"cannot connect to {URL} "
                                                        f"(password {PASSWORD})"))

    monkeypatch.setattr(db, "sessions", failing)
    with pytest.raises(StoreError) as err:
        async with db.unit():
            pass
    assert PASSWORD not in str(err.value) and "hotline:***@127.0.0.1" in str(err.value)
    with pytest.raises(StoreError) as down:
        await db.ping()  # nothing listens on port 1
    assert PASSWORD not in str(down.value)
    await db.close()


def test_no_password_from_the_command_line(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: object) -> None:
    monkeypatch.setenv("HOTLINE_HOME", str(tmp_path))
    for url in (URL, URL.replace(":1/", ":port/"), URL.replace("+asyncpg", "")):
        monkeypatch.setenv("HOTLINE_DB_URL", url)
        assert main(["db", "upgrade"]) == 2
        assert main(["doctor"]) != 0
        out = capsys.readouterr()
        assert PASSWORD not in out.out + out.err
        assert "Traceback" not in out.err
