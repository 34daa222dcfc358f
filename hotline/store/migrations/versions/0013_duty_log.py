"""the duty log (值班记录) and shift handovers (交接班记录); tickets by owner and assignee

Revision ID: 0013
Revises: 0018
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "duty_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_number", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.String(length=16), nullable=False),
        sa.Column("after", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("guard", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_log_job_number", "duty_log", ["job_number"])
    op.create_index("ix_duty_log_at", "duty_log", ["at"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to", sa.String(length=16), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=16), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handovers_by", "handovers", ["by"])
    op.create_index("ix_handovers_at", "handovers", ["at"])
    # the handover's pre-fill and a B post's stand-in list read an operator's tickets
    op.create_index("ix_tickets_owner", "tickets", ["owner"])
    op.create_index("ix_tickets_assignee", "tickets", ["assignee"])


def downgrade() -> None:
    op.drop_index("ix_tickets_assignee", "tickets")
    op.drop_index("ix_tickets_owner", "tickets")
    op.drop_table("handovers")
    op.drop_table("duty_log")
