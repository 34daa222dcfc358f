"""The knowledge base in the database: items saved in one transaction with their versions
(an edit keeps the old one), the full-text index kept beside them, and the candidates of a
search by the database's own full-text engine (FTS5's bm25 on SQLite, ts_rank over a GIN
index on PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import NotFoundError
from hotline.knowledge.items import Item, item_from_data
from hotline.knowledge.tables import KnowledgeItem, KnowledgeTerm, KnowledgeVersion
from hotline.knowledge.tokens import QueryTokens, item_tokens
from hotline.store.database import Database

CHUNK = 500
HEAD_WEIGHT = 5.0  # the title, keywords and unit against the rest (bm25's column weights)


Choose = Callable[[QueryTokens, int, dict[str, int]], QueryTokens]


@dataclass(frozen=True)
class Candidate:
    id: str
    title: str
    unit: str
    head: frozenset[str]
    rank: float  # the database's: higher is better


@dataclass(frozen=True)
class Saved:
    added: int
    changed: int
    unchanged: int


@dataclass(frozen=True)
class Version:
    version: int
    saved_at: datetime
    saved_by: str
    source: str
    item: Item


def _token_set(*texts: str) -> set[str]:
    return {t for x in texts for t in x.split()}


def _body(item: Item) -> str:
    return " ".join((item.basis, item.procedure, *item.materials, item.fees, item.where_when,
                     item.refusal, item.time_limit))


class KnowledgeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def _pg(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"

    async def save(self, items: list[Item], by: str, source: str, now: datetime) -> Saved:
        """Every item in one transaction: a new one at version 1, a changed one at the next
        version (the old kept), an unchanged one left alone."""
        added = changed = 0
        async with self.db.unit() as s:
            existing: dict[str, KnowledgeItem] = {}
            ids = [i.id for i in items]
            for n in range(0, len(ids), CHUNK):
                existing.update({r.id: r for r in (await s.scalars(select(KnowledgeItem).where(
                    KnowledgeItem.id.in_(ids[n:n + CHUNK])))).all()})
            docs: Counter[str] = Counter()  # the change in each token's document count
            indexed: list[dict[str, str]] = []
            replaced: list[dict[str, str]] = []
            for item in items:
                row = existing.get(item.id)
                if row is not None and row.data == item.data():
                    continue
                toks = item_tokens(item.title, item.keywords, item.unit, _body(item))
                if row is None:
                    row = KnowledgeItem(id=item.id, version=1)
                    s.add(row)
                    added += 1
                else:
                    docs.subtract(_token_set(row.head_tokens, row.body_tokens))
                    replaced.append({"id": item.id})
                    row.version += 1
                    changed += 1
                docs.update(_token_set(toks.head, toks.body))
                docs[""] += row.version == 1  # the empty term: every item holds it
                row.title, row.unit = item.title, item.unit
                row.review, row.data = item.review.isoformat(), item.data()
                row.head_tokens, row.body_tokens = toks.head, toks.body
                row.updated_at, row.updated_by = now, by
                s.add(KnowledgeVersion(item_id=item.id, version=row.version, data=item.data(),
                                       saved_at=now, saved_by=by, source=source[:255]))
                indexed.append({"id": item.id, "head": toks.head, "body": toks.body})
            await s.flush()
            await self._index(s, indexed, replaced)
            await self._count(s, docs)
        return Saved(added, changed, len(items) - added - changed)

    async def _index(self, s: AsyncSession, indexed: list[dict[str, str]],
                     replaced: list[dict[str, str]]) -> None:
        if not indexed:
            return
        if self._pg:
            await s.execute(text(
                "UPDATE knowledge_items SET tsv = "
                "setweight(array_to_tsvector(string_to_array(:head, ' ')), 'A') || "
                "setweight(array_to_tsvector(string_to_array(:body, ' ')), 'D') "
                "WHERE id = :id"), indexed)
            return
        if replaced:  # the FTS row shares the item's rowid
            await s.execute(text("DELETE FROM knowledge_fts WHERE rowid = "
                                 "(SELECT rowid FROM knowledge_items WHERE id = :id)"), replaced)
        await s.execute(text("INSERT INTO knowledge_fts (rowid, head, body) "
                             "SELECT rowid, :head, :body FROM knowledge_items WHERE id = :id"),
                        indexed)

    async def _count(self, s: AsyncSession, docs: Counter[str]) -> None:
        """Keep each token's document count (what makes a token too common to look up)."""
        rows = [{"term": t, "docs": n} for t, n in docs.items() if n]
        if not rows:
            return
        insert = pg_insert if self._pg else sqlite_insert
        stmt = insert(KnowledgeTerm)
        stmt = stmt.on_conflict_do_update(index_elements=["term"], set_={
            "docs": KnowledgeTerm.docs + stmt.excluded.docs})
        for n in range(0, len(rows), 5000):
            await s.execute(stmt, rows[n:n + 5000])

    async def doc_counts(self, tokens: tuple[str, ...]) -> tuple[int, dict[str, int]]:
        """(the number of items, how many of them hold each token)."""
        async with self.db.unit() as s:
            return await self._doc_counts(s, tokens)

    async def _doc_counts(self, s: AsyncSession, tokens: tuple[str, ...]
                          ) -> tuple[int, dict[str, int]]:
        found = {t: int(n) for t, n in (await s.execute(select(
            KnowledgeTerm.term, KnowledgeTerm.docs).where(
            KnowledgeTerm.term.in_((*tokens, ""))))).all()}
        return found.pop("", 0), found

    async def get(self, item_id: str) -> Item:
        async with self.db.unit() as s:
            row = await s.get(KnowledgeItem, item_id)
            if row is None:
                raise NotFoundError(f"no knowledge item {item_id}")
            return item_from_data(row.data, row.version)

    async def versions(self, item_id: str) -> list[Version]:
        """Every saved version, the newest first."""
        async with self.db.unit() as s:
            rows = (await s.scalars(select(KnowledgeVersion).where(
                KnowledgeVersion.item_id == item_id).order_by(
                KnowledgeVersion.version.desc()))).all()
            return [Version(r.version, r.saved_at, r.saved_by, r.source,
                            item_from_data(r.data, r.version)) for r in rows]

    async def listing(self, unit: str = "", offset: int = 0, limit: int = 100,
                      review_before: date | None = None) -> tuple[list[Item], bool]:
        """A page of the items by unit and title (of one unit; only those whose review date
        is before ``review_before``), and whether more follow."""
        async with self.db.unit() as s:
            q = self._listed(select(KnowledgeItem), unit, review_before).order_by(
                KnowledgeItem.unit, KnowledgeItem.title, KnowledgeItem.id)
            rows = (await s.scalars(q.offset(offset).limit(limit + 1))).all()
            return [item_from_data(r.data, r.version) for r in rows[:limit]], len(rows) > limit

    async def count_listed(self, unit: str = "", review_before: date | None = None) -> int:
        async with self.db.unit() as s:
            q = self._listed(select(func.count()).select_from(KnowledgeItem), unit,
                             review_before)
            return int(await s.scalar(q) or 0)

    @staticmethod
    def _listed(q: Select[Any], unit: str, review_before: date | None) -> Select[Any]:
        if unit:
            q = q.where(KnowledgeItem.unit == unit)
        if review_before is not None:  # ISO dates compare as text
            q = q.where(KnowledgeItem.review < review_before.isoformat())
        return q

    async def units(self) -> list[str]:
        async with self.db.unit() as s:
            return list((await s.scalars(select(KnowledgeItem.unit).distinct()
                                         .order_by(KnowledgeItem.unit))).all())

    async def count(self) -> int:
        async with self.db.unit() as s:
            return int(await s.scalar(select(func.count()).select_from(KnowledgeItem)) or 0)

    async def candidates(self, q: QueryTokens, unit: str = "", limit: int = 50,
                         choose: Choose | None = None) -> list[Candidate]:
        """The items sharing a token with the question, best first by the database's rank;
        ``choose`` picks the tokens to look up from their document counts (in the same
        transaction)."""
        async with self.db.unit() as s:
            if choose is not None and q.tokens and not q.prefix:
                q = choose(q, *await self._doc_counts(s, q.tokens))
            if not q.tokens:
                return []
            rows = (await s.execute(*self._candidates_sql(q, unit, limit))).all()
        return [Candidate(r[0], r[1], r[2], frozenset(r[3].split()), float(r[4]))
                for r in rows]

    def _candidates_sql(self, q: QueryTokens, unit: str, limit: int
                        ) -> tuple[Any, dict[str, object]]:
        star = "*" if q.prefix else ""
        where_unit = " AND k.unit = :unit" if unit else ""
        if self._pg:
            tsq = " | ".join(f"'{t}'" + (":*" if q.prefix else "") for t in q.tokens)
            sql = ("SELECT k.id, k.title, k.unit, k.head_tokens, ts_rank(k.tsv, q) AS r "
                   "FROM knowledge_items k, CAST(:q AS tsquery) q WHERE k.tsv @@ q"
                   f"{where_unit} ORDER BY r DESC LIMIT :n")
            params: dict[str, object] = {"q": tsq, "n": limit}
        else:
            match = " OR ".join(f'"{t}"{star}' for t in q.tokens)
            sql = ("SELECT k.id, k.title, k.unit, k.head_tokens, "
                   f"-bm25(knowledge_fts, {HEAD_WEIGHT}, 1.0) AS r "
                   "FROM knowledge_fts f JOIN knowledge_items k ON k.rowid = f.rowid "
                   f"WHERE knowledge_fts MATCH :q{where_unit} ORDER BY r DESC LIMIT :n")
            params = {"q": match, "n": limit}
        if unit:
            params["unit"] = unit
        return text(sql), params

    async def like_scan(self, words: list[str], limit: int = 5) -> list[str]:
        """The naive baseline the bench compares with: LIKE '%word%' over every item."""
        if not words:
            return []
        text_of = KnowledgeItem.title + " " + KnowledgeItem.head_tokens + " " + \
            KnowledgeItem.body_tokens
        async with self.db.unit() as s:
            ids = (await s.scalars(select(KnowledgeItem.id).where(
                or_(*(text_of.like(f"%{w}%") for w in words))).limit(limit))).all()
        return list(ids)
