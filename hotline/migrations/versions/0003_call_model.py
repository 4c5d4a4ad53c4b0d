"""call model: interactions and recordings keyed by the call's linkedid; call legs; priority and source

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("interactions", "uniqueid", new_column_name="call_id")
    op.execute("ALTER TABLE interactions RENAME CONSTRAINT uq_interactions_uniqueid TO uq_interactions_call_id")
    op.add_column("interactions", sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
    op.add_column("interactions", sa.Column("source", sa.String(length=16), server_default="live", nullable=False))
    op.alter_column("recordings", "uniqueid", new_column_name="call_id")
    op.execute("ALTER TABLE recordings RENAME CONSTRAINT uq_recordings_uniqueid TO uq_recordings_call_id")
    op.add_column("recordings", sa.Column("queue", sa.String(length=80), nullable=True))
    op.create_table(
        "call_legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("uniqueid", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_legs")),
        sa.UniqueConstraint("uniqueid", name=op.f("uq_call_legs_uniqueid")),
    )
    op.create_index("ix_call_legs_call_id", "call_legs", ["call_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_call_legs_call_id", table_name="call_legs")
    op.drop_table("call_legs")
    op.drop_column("recordings", "queue")
    op.execute("ALTER TABLE recordings RENAME CONSTRAINT uq_recordings_call_id TO uq_recordings_uniqueid")
    op.alter_column("recordings", "call_id", new_column_name="uniqueid")
    op.drop_column("interactions", "source")
    op.drop_column("interactions", "priority")
    op.execute("ALTER TABLE interactions RENAME CONSTRAINT uq_interactions_call_id TO uq_interactions_uniqueid")
    op.alter_column("interactions", "call_id", new_column_name="uniqueid")
