"""the knowledge base (一次性告知): items, their versions, and the full-text index (FTS5 on
SQLite, a tsvector with a GIN index on PostgreSQL)

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_items",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(80), nullable=False),
        sa.Column("unit", sa.String(80), nullable=False, index=True),
        sa.Column("review", sa.String(10), nullable=False, index=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("head_tokens", sa.Text(), nullable=False),
        sa.Column("body_tokens", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(32), nullable=False))
    op.create_table(
        "knowledge_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(64),
                  sa.ForeignKey("knowledge_items.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.UniqueConstraint("item_id", "version"))
    op.create_table(
        "knowledge_terms",
        sa.Column("term", sa.String(200), primary_key=True),
        sa.Column("docs", sa.Integer(), nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE knowledge_items ADD COLUMN tsv tsvector")
        op.execute("CREATE INDEX ix_knowledge_items_tsv ON knowledge_items USING gin (tsv)")
    else:
        op.execute("CREATE VIRTUAL TABLE knowledge_fts USING fts5("
                   "head, body, tokenize = 'unicode61')")  # rowid: knowledge_items' rowid


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE knowledge_fts")
    op.drop_table("knowledge_terms")
    op.drop_table("knowledge_versions")
    op.drop_table("knowledge_items")
