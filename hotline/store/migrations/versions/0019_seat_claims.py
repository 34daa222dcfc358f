"""seat claims: which node holds a seat for a call, with a lease (several nodes, one database)

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-02 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seat_claims",
        sa.Column("job_number", sa.String(16), primary_key=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("seat_claims")
