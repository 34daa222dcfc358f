"""The knowledge base's tables: the items as they are now, and every version ever saved.

The search index is beside them: on SQLite an FTS5 table (knowledge_fts, its rowid the item's), on
PostgreSQL a
tsvector column with a GIN index (knowledge_items.tsv), both written by store.py from
the tokens of tokens.py, and both made by migration 0015."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.store.models import Base


class KnowledgeItem(Base):
    __tablename__ = "knowledge_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(80))
    unit: Mapped[str] = mapped_column(String(80), index=True)
    review: Mapped[str] = mapped_column(String(10), index=True)  # ISO date: sorts as text
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    head_tokens: Mapped[str] = mapped_column(Text, default="")
    body_tokens: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(32), default="")


class KnowledgeVersion(Base):
    """One saved version of an item: the import or edit that made it, and its fields."""

    __tablename__ = "knowledge_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("knowledge_items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(255), default="")  # the file, or "console"


class KnowledgeTerm(Base):
    """How many items hold each search token: a question's tokens held by most items (办理,
    万州) are left out of the full-text query, which stays selective at 10k items."""

    __tablename__ = "knowledge_terms"

    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    docs: Mapped[int] = mapped_column(Integer, default=0)
