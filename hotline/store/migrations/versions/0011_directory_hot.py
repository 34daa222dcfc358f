"""the directory's hot entries: what callers ask for most, for the recogniser's vocabulary

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.add_column(sa.Column("hot", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("directory_entries") as batch:
        batch.drop_column("hot")
