"""Journal entries are JSON: datetimes are written tagged, and read back as datetimes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

_WHEN = "__datetime__"


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_WHEN: value.isoformat()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_WHEN}:
            return datetime.fromisoformat(value[_WHEN])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value
