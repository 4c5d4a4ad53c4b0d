"""supervisors' phones and the supervision log (listen, whisper, barge, forced states)

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-25 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervisor_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("extension", sa.String(length=16), nullable=False),
        sa.Column("sip_password", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_supervisor_phones_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisor_phones")),
        sa.UniqueConstraint("extension", name=op.f("uq_supervisor_phones_extension")),
        sa.UniqueConstraint("user_id", name=op.f("uq_supervisor_phones_user_id")),
    )
    op.create_table(
        "supervision_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("supervisor", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_log")),
    )
    op.create_index("ix_supervision_log_at", "supervision_log", ["at"])
    op.create_index("ix_supervision_log_agent", "supervision_log", ["agent"])


def downgrade() -> None:
    op.drop_index("ix_supervision_log_agent", table_name="supervision_log")
    op.drop_index("ix_supervision_log_at", table_name="supervision_log")
    op.drop_table("supervision_log")
    op.drop_table("supervisor_phones")
