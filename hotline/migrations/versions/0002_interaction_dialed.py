"""interactions.dialed: the number the caller dialled

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("interactions", sa.Column("dialed", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("interactions", "dialed")
