"""A question to the knowledge items it is about: the database's full-text engine picks the
candidates, then they are ranked by how much of the question their title, keywords and unit
cover (by word and by sound), with the database's rank as the tie-break."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

from hotline.knowledge.store import Candidate, KnowledgeStore
from hotline.knowledge.tokens import QueryTokens, query_tokens, sound_bigrams

CANDIDATES = 40  # 60: +3 points top-3 at 10k on SQLite, PostgreSQL p95 past 20 ms under load
COMMON = 0.05  # a token held by more than this share of the items is not looked up


@dataclass(frozen=True)
class KnowledgeHit:
    id: str
    title: str
    unit: str
    score: float


@dataclass(frozen=True)
class KnowledgeResult:
    query: str
    hits: list[KnowledgeHit]
    elapsed_ms: float

    def json(self) -> dict[str, Any]:
        """As `hotline knowledge search --json` and /api/knowledge give it."""
        return {"query": self.query, "elapsed_ms": round(self.elapsed_ms, 3),
                "results": [{"id": h.id, "title": h.title, "unit": h.unit, "score": h.score}
                            for h in self.hits]}


@functools.lru_cache(maxsize=20_000)
def _title_sounds(title: str) -> frozenset[str]:
    return frozenset(sound_bigrams(title))


def _weight(token: str) -> float:
    """A word counts by its length (居住证 says more than 证), a sound bigram as one."""
    return float(len(token)) if not token.isascii() else 1.0


def score(c: Candidate, q: QueryTokens, best_rank: float) -> float:
    if q.prefix:
        hits = sum(1.0 for t in q.tokens if any(h.startswith(t) for h in c.head))
        return round(hits + c.rank / best_rank if best_rank > 0 else hits, 3)
    head = sum(_weight(t) for t in q.tokens if t in c.head)
    sounds = _title_sounds(c.title)
    cover = len(sounds & q.bigrams) / len(sounds) if sounds else 0.0
    rank = c.rank / best_rank if best_rank > 0 else 0.0
    return round(head + 6.0 * cover + 2.0 * rank, 3)


def rank(candidates: list[Candidate], q: QueryTokens, limit: int) -> list[KnowledgeHit]:
    best = max((c.rank for c in candidates), default=0.0)
    scored = sorted(((score(c, q, best), c) for c in candidates),
                    key=lambda x: (-x[0], x[1].id))
    return [KnowledgeHit(c.id, c.title, c.unit, s) for s, c in scored[:limit]]


def selective(q: QueryTokens, total: int, docs: dict[str, int]) -> QueryTokens:
    """The question's tokens that some item holds and most do not (办理 and 万州 say nothing
    about which item is meant, and would have the database rank most of them)."""
    held = sorted((docs[t], t) for t in q.tokens if docs.get(t))
    kept = [t for n, t in held if n <= max(COMMON * total, 50)] or [t for _, t in held[:2]]
    return QueryTokens(tuple(kept), False, q.bigrams)


async def search(store: KnowledgeStore, question: str, limit: int = 5,
                 unit: str = "") -> KnowledgeResult:
    started = time.perf_counter()
    q = query_tokens(question[:200])
    found = await store.candidates(q, unit=unit, limit=CANDIDATES, choose=selective)
    hits = rank(found, q, limit)
    return KnowledgeResult(question, hits, (time.perf_counter() - started) * 1000)
