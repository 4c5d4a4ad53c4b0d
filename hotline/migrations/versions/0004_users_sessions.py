"""users and sessions: desk log-in moves from agents to users (roles, argon2, revocable sessions);
agents link to their user; recordings' access audit

Existing agents become users named after their extension, keeping their (legacy scrypt) password
hash, which is upgraded to argon2 at their next log-in. Agents whose SIP password is still the demo
one (``sip<extension>``) were loaded by the demo: their users are flagged demo.

Revision ID: 0004
Revises: 0003a
Create Date: 2026-11-24 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=16)), server_default="{}", nullable=False),
        sa.Column("supervised_queues", sa.ARRAY(sa.String(length=80)), server_default="{}", nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("demo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"], unique=False)
    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_access_recording_id_recordings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recording_access_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access")),
    )
    op.create_index(op.f("ix_recording_access_recording_id"), "recording_access", ["recording_id"], unique=False)
    op.create_index(op.f("ix_recording_access_at"), "recording_access", ["at"], unique=False)

    op.execute(
        """
        INSERT INTO users (username, display_name, password_hash, roles, demo)
        SELECT extension, name, password_hash, ARRAY['agent']::varchar(16)[], sip_password = 'sip' || extension
        FROM agents
        """
    )
    op.add_column("agents", sa.Column("user_id", sa.Integer(), nullable=True))
    op.execute("UPDATE agents SET user_id = users.id FROM users WHERE users.username = agents.extension")
    op.alter_column("agents", "user_id", nullable=False)
    op.create_unique_constraint(op.f("uq_agents_user_id"), "agents", ["user_id"])
    op.create_foreign_key(op.f("fk_agents_user_id_users"), "agents", "users", ["user_id"], ["id"])
    op.drop_column("agents", "password_hash")


def downgrade() -> None:
    # argon2 hashes are kept as they are: a downgraded controller cannot read them (those agents need
    # a new password); legacy hashes still work
    op.add_column("agents", sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE agents SET password_hash = left(users.password_hash, 200) FROM users WHERE users.id = agents.user_id"
    )
    op.alter_column("agents", "password_hash", nullable=False)
    op.drop_constraint(op.f("fk_agents_user_id_users"), "agents", type_="foreignkey")
    op.drop_constraint(op.f("uq_agents_user_id"), "agents", type_="unique")
    op.drop_column("agents", "user_id")
    op.drop_index(op.f("ix_recording_access_at"), table_name="recording_access")
    op.drop_index(op.f("ix_recording_access_recording_id"), table_name="recording_access")
    op.drop_table("recording_access")
    op.drop_index(op.f("ix_user_sessions_user_id"), table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_table("users")
