"""Reading a large result a chunk at a time: keyset pagination on an ordered, unique key, one
short unit of work per chunk. No statement carries more than a chunk's worth of bound
parameters (the drivers' limit is 32767 on PostgreSQL), no transaction stays open while the
caller works on a chunk, and the event loop is handed back between chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, or_
from sqlalchemy.sql.elements import ColumnElement

from hotline.store.database import Database

CHUNK = 2000  # rows a round trip: a few ms of row processing on the loop each


async def chunks(db: Database, query: Select[Any], key: Sequence[Any],
                 size: int | None = None) -> AsyncIterator[list[Row[Any]]]:
    """``query`` (without ORDER BY or LIMIT) in chunks of ``size`` (CHUNK) rows, ordered by ``key``,
    whose last column must be unique (the id). The key's columns must be selected, labelled
    with their own names."""
    size = size or CHUNK
    names = [k.key for k in key]
    after: tuple[Any, ...] | None = None
    while True:
        page = query.order_by(*key).limit(size)
        if after is not None:
            page = page.where(_after(key, after))
        async with db.unit() as s:
            rows = list((await s.execute(page)).all())
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]._mapping
        after = tuple(last[n] for n in names)


def _after(key: Sequence[Any], values: tuple[Any, ...]) -> ColumnElement[bool]:
    """(k1, k2, ...) > (v1, v2, ...) spelled out, for SQLite and PostgreSQL alike."""
    (column, value), *rest = list(zip(key, values, strict=True))
    greater: ColumnElement[bool] = column > value
    if not rest:
        return greater
    return or_(greater, and_(column == value,
                             _after([k for k, _ in rest], tuple(v for _, v in rest))))
