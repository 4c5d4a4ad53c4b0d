"""interactions by customer: the screen-pop's recent contacts read by an index, not a scan

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_interactions_customer_id_started_at", "interactions", ["customer_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_interactions_customer_id_started_at", table_name="interactions")
