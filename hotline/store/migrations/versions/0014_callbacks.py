"""the missed-call callback list: each outbound call an operator made, and its outcome

Revision ID: 0014
Revises: 0019
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("missed_call_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("by", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("talk_s", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["missed_call_id"], ["calls.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback_attempts") as batch:
        batch.create_index("ix_callback_attempts_number", ["number"])
        batch.create_index("ix_callback_attempts_missed_call_id", ["missed_call_id"])
        batch.create_index("ix_callback_attempts_ticket_id", ["ticket_id"])
        batch.create_index("ix_callback_attempts_started_at", ["started_at"])


def downgrade() -> None:
    op.drop_table("callback_attempts")
