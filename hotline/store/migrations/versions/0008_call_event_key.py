"""an idempotency key on call events: a journaled event replayed twice is written once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_events") as batch:
        batch.add_column(sa.Column("key", sa.String(length=32), nullable=True))
        batch.create_unique_constraint("uq_call_events_key", ["key"])


def downgrade() -> None:
    with op.batch_alter_table("call_events") as batch:
        batch.drop_constraint("uq_call_events_key", type_="unique")
        batch.drop_column("key")
