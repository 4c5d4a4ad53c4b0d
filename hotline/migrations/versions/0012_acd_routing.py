"""ACD routing: live agent states, the queues an agent logged in to, routing decisions with their reasons,
callback requests, dispositions

Revision ID: 0012
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NEW_STATES = ("ringing", "on_call", "on_hold", "wrap_up")
OLD_STATES = ("logged_out", "available", "paused")


def upgrade() -> None:
    for state in NEW_STATES:
        op.execute(f"ALTER TYPE agent_state ADD VALUE IF NOT EXISTS '{state}'")
    op.add_column("agents", sa.Column("queues", postgresql.ARRAY(sa.String(length=80)), nullable=True))
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("preferred_agent", sa.String(length=16), nullable=True),
        sa.Column("preferred_reason", sa.String(length=16), nullable=True),
        sa.Column("max_penalty", sa.Integer(), nullable=True),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decisions")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_routing_decisions_decision_id")),
    )
    op.create_index(op.f("ix_routing_decisions_call_id"), "routing_decisions", ["call_id"], unique=False)
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("intent", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("place_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_customer_id"), "callbacks", ["customer_id"], unique=False)
    op.create_index(op.f("ix_callbacks_state"), "callbacks", ["state"], unique=False)
    op.create_table(
        "dispositions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=80), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispositions")),
        sa.UniqueConstraint("event_id", name=op.f("uq_dispositions_event_id")),
    )
    op.create_index(op.f("ix_dispositions_agent"), "dispositions", ["agent"], unique=False)
    op.create_index(op.f("ix_dispositions_call_id"), "dispositions", ["call_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dispositions_call_id"), table_name="dispositions")
    op.drop_index(op.f("ix_dispositions_agent"), table_name="dispositions")
    op.drop_table("dispositions")
    op.drop_index(op.f("ix_callbacks_state"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_customer_id"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index(op.f("ix_routing_decisions_call_id"), table_name="routing_decisions")
    op.drop_table("routing_decisions")
    op.drop_column("agents", "queues")
    # an enum value cannot be dropped: the type is rebuilt with the old values, live states folded back
    for table in ("agents", "agent_state_log"):
        op.execute(
            f"UPDATE {table} SET state = (CASE WHEN state = 'wrap_up' THEN 'paused' ELSE 'available' END)::agent_state"
            f" WHERE state::text IN {NEW_STATES}"
        )
    op.execute("ALTER TYPE agent_state RENAME TO agent_state_old")
    op.execute(f"CREATE TYPE agent_state AS ENUM {OLD_STATES}")
    op.execute("ALTER TABLE agents ALTER COLUMN state DROP DEFAULT")
    for table in ("agents", "agent_state_log"):
        op.execute(f"ALTER TABLE {table} ALTER COLUMN state TYPE agent_state USING state::text::agent_state")
    op.execute("DROP TYPE agent_state_old")
