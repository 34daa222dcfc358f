"""the loop with the handling units: units, unit users, the dispatch catalogue, the tickets'
dispatch state, reminders (催办) and follow-up visits (回访)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("parent", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False))
    op.create_table(
        "catalogue_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit", sa.String(200), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("stage", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("unit", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("assisting", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("matter", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("urgency", sa.String(16), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("loop_round", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("sign_due_at", TZ, nullable=True))
        batch.add_column(sa.Column("follow_up_due_at", TZ, nullable=True))
        batch.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("extension_request", sa.JSON(), nullable=True))
    for col in ("stage", "unit", "follow_up_due_at", "merged_into"):
        op.create_index(f"ix_tickets_{col}", "tickets", [col])
    op.create_index("ix_ticket_events_at", "ticket_events", ["at"])  # a month's events
    op.create_table(
        "ticket_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.UniqueConstraint("ticket_id", "step"))
    for col in ("ticket_id", "unit", "owner", "at"):
        op.create_index(f"ix_ticket_reminders_{col}", "ticket_reminders", [col])
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("by", sa.String(32), nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.String(8), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=False))
    for col in ("ticket_id", "at", "by", "owner", "unit"):
        op.create_index(f"ix_follow_ups_{col}", "follow_ups", [col])


def downgrade() -> None:
    op.drop_table("follow_ups")
    op.drop_table("ticket_reminders")
    op.drop_index("ix_ticket_events_at", "ticket_events")
    for col in ("stage", "unit", "follow_up_due_at", "merged_into"):
        op.drop_index(f"ix_tickets_{col}", "tickets")
    with op.batch_alter_table("tickets") as batch:
        for col in ("stage", "unit", "assisting", "matter", "urgency", "loop_round",
                    "sign_due_at", "follow_up_due_at", "merged_into", "extension_request"):
            batch.drop_column(col)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit")
    op.drop_table("catalogue_rules")
    op.drop_table("units")
