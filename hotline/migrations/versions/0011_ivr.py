"""ivr: node visits, satisfaction surveys, and whether a call was served by self-service

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_visits",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("call_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("menu_version", sa.String(16), nullable=False),
        sa.Column("node", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("input", sa.String(80), nullable=True),
        sa.Column("result", sa.String(80), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("uq_ivr_visits_call_seq", "ivr_visits", ["call_id", "seq"], unique=True)
    op.create_index("ix_ivr_visits_node_at", "ivr_visits", ["node", "at"])
    op.create_table(
        "ivr_surveys",
        sa.Column("call_id", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ivr_surveys_agent", "ivr_surveys", ["agent"])
    op.add_column("interactions", sa.Column("self_service", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("interactions", "self_service")
    op.drop_index("ix_ivr_surveys_agent", table_name="ivr_surveys")
    op.drop_table("ivr_surveys")
    op.drop_index("ix_ivr_visits_node_at", table_name="ivr_visits")
    op.drop_index("uq_ivr_visits_call_seq", table_name="ivr_visits")
    op.drop_table("ivr_visits")
