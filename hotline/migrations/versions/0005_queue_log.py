"""queue events from Asterisk's own queue_log (exactly once, with the file position); agent-state event ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "queue_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("callid", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=80), nullable=True),
        sa.Column("agent", sa.String(length=80), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("data1", sa.String(length=255), nullable=True),
        sa.Column("data2", sa.String(length=255), nullable=True),
        sa.Column("data3", sa.String(length=255), nullable=True),
        sa.Column("data4", sa.String(length=255), nullable=True),
        sa.Column("data5", sa.String(length=1000), nullable=True),
        sa.Column("src_inode", sa.BigInteger(), nullable=False),
        sa.Column("src_offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log")),
    )
    op.create_index("ix_queue_log_callid", "queue_log", ["callid"], unique=False)
    op.create_index("ix_queue_log_time", "queue_log", ["time"], unique=False)
    op.create_table(
        "queue_log_offsets",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_queue_log_offsets")),
    )
    op.create_table(
        "queue_log_rejects",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("src_inode", sa.BigInteger(), nullable=False),
        sa.Column("src_offset", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.String(length=2000), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_log_rejects")),
    )
    op.drop_index("ix_queue_events_uniqueid", table_name="queue_events")
    op.drop_index("ix_queue_events_at", table_name="queue_events")
    op.drop_table("queue_events")
    op.add_column("agent_state_log", sa.Column("event_id", sa.String(length=36), nullable=True))
    op.create_unique_constraint(op.f("uq_agent_state_log_event_id"), "agent_state_log", ["event_id"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_agent_state_log_event_id"), "agent_state_log", type_="unique")
    op.drop_column("agent_state_log", "event_id")
    op.create_table(
        "queue_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=True),
        sa.Column("uniqueid", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=80), nullable=True),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_events")),
    )
    op.create_index("ix_queue_events_at", "queue_events", ["at"], unique=False)
    op.create_index("ix_queue_events_uniqueid", "queue_events", ["uniqueid"], unique=False)
    op.drop_table("queue_log_rejects")
    op.drop_table("queue_log_offsets")
    op.drop_index("ix_queue_log_time", table_name="queue_log")
    op.drop_index("ix_queue_log_callid", table_name="queue_log")
    op.drop_table("queue_log")
