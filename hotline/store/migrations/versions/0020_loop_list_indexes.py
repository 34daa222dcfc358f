"""indexes for the back office at 100k tickets: a unit's tickets by stage in due order (the
unit's dashboard: to sign for, to reply to), the reminders of a unit and of an owner newest
first (the dashboard, the ticket board's 催办), a caller's calls in order (the appraisal's
first-contact resolution looks for the next call about the same matter)

Revision ID: 0020
Revises: 0014
Create Date: 2026-12-06 08:00:00
"""

from alembic import op

revision = "0020"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (("ix_tickets_unit_stage_due", "tickets", ["unit", "stage", "due_at"]),
           ("ix_ticket_reminders_unit_at", "ticket_reminders", ["unit", "at"]),
           ("ix_ticket_reminders_owner_at", "ticket_reminders", ["owner", "at"]),
           ("ix_calls_caller_arrived_at", "calls", ["caller", "arrived_at"]))


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table)
