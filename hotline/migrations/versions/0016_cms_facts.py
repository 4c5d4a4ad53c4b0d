"""the CMS's reports: per-call facts, agent-state intervals, surveys, 15-minute and daily aggregates

Revision ID: 0016
Revises: 0013
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cms_agent_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("answered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("wait_max", sa.Float(), server_default="0", nullable=False),
        sa.Column("talk_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("hold_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("acw_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("ring_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("transfers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_eligible", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_repeated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_sum", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "agent", "queue", name=op.f("pk_cms_agent_days")),
    )
    op.create_table(
        "cms_agent_intervals",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("answered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("wait_max", sa.Float(), server_default="0", nullable=False),
        sa.Column("talk_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("hold_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("acw_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("ring_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("transfers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_eligible", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_repeated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_sum", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("bucket", "agent", "queue", name=op.f("pk_cms_agent_intervals")),
    )
    op.create_table(
        "cms_agent_state_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("logged_in_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("available_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("handling_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("paused_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("wrap_seconds", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "agent", name=op.f("pk_cms_agent_state_days")),
    )
    op.create_table(
        "cms_agent_state_intervals",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("logged_in_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("available_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("handling_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("paused_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("wrap_seconds", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("bucket", "agent", name=op.f("pk_cms_agent_state_intervals")),
    )
    op.create_table(
        "cms_agent_states",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cms_agent_states")),
    )
    op.create_index(
        "ix_cms_agent_states_open",
        "cms_agent_states",
        ["agent"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_cms_agent_states_started_at", "cms_agent_states", ["started_at"], unique=False)
    op.create_index("uq_cms_agent_states_agent_started", "cms_agent_states", ["agent", "started_at"], unique=True)
    op.create_table(
        "cms_call_facts",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=80), server_default="", nullable=False),
        sa.Column("agent", sa.String(length=16), server_default="", nullable=False),
        sa.Column("contact_key", sa.String(length=100), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offered", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("answered", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("abandoned", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("short_abandon", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("timed_out", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("in_sl", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("ring_s", sa.Float(), nullable=True),
        sa.Column("ring_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("hold_s", sa.Float(), nullable=True),
        sa.Column("acw_s", sa.Float(), nullable=True),
        sa.Column("acw_pending", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("abandon_position", sa.Integer(), nullable=True),
        sa.Column("abandon_entry_position", sa.Integer(), nullable=True),
        sa.Column("transfers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ivr_known", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("ivr_contained", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("repeated", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("csat", sa.SmallInteger(), nullable=True),
        sa.Column("source", sa.String(length=16), server_default="live", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_cms_call_facts")),
    )
    op.create_index("ix_cms_call_facts_agent_ended", "cms_call_facts", ["agent", "ended_at"], unique=False)
    op.create_index("ix_cms_call_facts_bucket_agent", "cms_call_facts", ["bucket", "agent"], unique=False)
    op.create_index("ix_cms_call_facts_bucket_queue", "cms_call_facts", ["bucket", "queue"], unique=False)
    op.create_index("ix_cms_call_facts_contact", "cms_call_facts", ["contact_key", "started_at"], unique=False)
    op.create_table(
        "cms_dirty",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("kind", "bucket", "queue", "agent", name=op.f("pk_cms_dirty")),
    )
    op.create_table(
        "cms_fact_pending",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_cms_fact_pending")),
    )
    op.create_table(
        "cms_floor_state_intervals",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("logged_in_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("available_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("handling_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("paused_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("wrap_seconds", sa.Float(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("bucket", name=op.f("pk_cms_floor_state_intervals")),
    )
    op.create_table(
        "cms_queue_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("offered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("abandoned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("short_abandoned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("timed_out", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("abandoned_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("wait_max", sa.Float(), server_default="0", nullable=False),
        sa.Column("abandon_wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("talk_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("hold_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("acw_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("ring_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("transfers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ivr_known", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ivr_contained", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_eligible", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_repeated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_sum", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("day", "queue", name=op.f("pk_cms_queue_days")),
    )
    op.create_table(
        "cms_queue_intervals",
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("offered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("abandoned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("short_abandoned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("timed_out", sa.Integer(), server_default="0", nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("abandoned_in_sl", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("wait_max", sa.Float(), server_default="0", nullable=False),
        sa.Column("abandon_wait_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("talk_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("hold_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("acw_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("ring_sum", sa.Float(), server_default="0", nullable=False),
        sa.Column("transfers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ivr_known", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ivr_contained", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_eligible", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fcr_repeated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_sum", sa.Integer(), server_default="0", nullable=False),
        sa.Column("csat_count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("bucket", "queue", name=op.f("pk_cms_queue_intervals")),
    )
    op.create_table(
        "cms_surveys",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=True),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name=op.f("pk_cms_surveys")),
    )
    op.create_index("ix_interactions_created_at", "interactions", ["created_at"], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index("ix_interactions_created_at", table_name="interactions")
    op.drop_table("cms_surveys")
    op.drop_table("cms_queue_intervals")
    op.drop_table("cms_queue_days")
    op.drop_table("cms_floor_state_intervals")
    op.drop_table("cms_fact_pending")
    op.drop_table("cms_dirty")
    op.drop_index("ix_cms_call_facts_contact", table_name="cms_call_facts")
    op.drop_index("ix_cms_call_facts_bucket_queue", table_name="cms_call_facts")
    op.drop_index("ix_cms_call_facts_bucket_agent", table_name="cms_call_facts")
    op.drop_index("ix_cms_call_facts_agent_ended", table_name="cms_call_facts")
    op.drop_table("cms_call_facts")
    op.drop_index("uq_cms_agent_states_agent_started", table_name="cms_agent_states")
    op.drop_index("ix_cms_agent_states_started_at", table_name="cms_agent_states")
    op.drop_index(
        "ix_cms_agent_states_open", table_name="cms_agent_states", postgresql_where=sa.text("ended_at IS NULL")
    )
    op.drop_table("cms_agent_states")
    op.drop_table("cms_agent_state_intervals")
    op.drop_table("cms_agent_state_days")
    op.drop_table("cms_agent_intervals")
    op.drop_table("cms_agent_days")
    # ### end Alembic commands ###
