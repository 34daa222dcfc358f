"""operators choose their phone: a SIP phone or the console's WebRTC softphone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=False,
                                   server_default="sip"))


def downgrade() -> None:
    with op.batch_alter_table("operators") as batch:
        batch.drop_column("phone")
