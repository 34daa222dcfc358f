"""Search relevance of the knowledge base: 200 items and 100 questions as callers ask them
(spoken, no punctuation, homophones a recogniser writes): the right item in the top 3 for at
least 90 of them, on SQLite FTS5 and on PostgreSQL full text."""

from __future__ import annotations

from datetime import UTC, datetime

from hotline.knowledge.search import search
from hotline.knowledge.store import KnowledgeStore
from hotline.store.database import Database
from tests.knowledge_fixture import items, questions


async def test_top3_on_caller_questions(db: Database) -> None:
    store = KnowledgeStore(db)
    fixture = items()
    assert len(fixture) == 200
    await store.save(fixture, "test", "fixture", datetime.now(UTC))
    asked = questions()
    assert len(asked) == 100
    top1 = top3 = 0
    missed: list[str] = []
    for question, expected in asked:
        ids = [h.id for h in (await search(store, question, 3)).hits]
        top1 += ids[:1] == [expected]
        top3 += expected in ids
        if expected not in ids:
            missed.append(f"{question} -> {ids} (wanted {expected})")
    dialect = db.engine.dialect.name
    print(f"\nknowledge relevance on {dialect}: top-1 {top1}/100, top-3 {top3}/100")
    for m in missed:
        print("  missed:", m)
    assert top3 >= 90, missed
