"""pickup orders (reference, window, station) and their state history

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-24 06:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATES = ("booked", "assigned", "picked_up", "failed", "cancelled")


def upgrade() -> None:
    state = postgresql.ENUM(*STATES, name="pickup_state")
    state.create(op.get_bind())
    column_state = postgresql.ENUM(*STATES, name="pickup_state", create_type=False)
    op.create_table(
        "pickups",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("state", column_state, nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("postal_code", sa.String(length=12), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("weight_kg", sa.Numeric(9, 2), nullable=False),
        sa.Column("goods", sa.String(length=200), nullable=False),
        sa.Column("destination", sa.String(length=200), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("close_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("station_code", sa.String(length=16), nullable=True),
        sa.Column("unassigned_reason", sa.String(length=300), nullable=True),
        sa.Column("booked_by", sa.String(length=64), nullable=False),
        sa.Column("rebooks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("pieces > 0", name=op.f("ck_pickups_pieces_positive")),
        sa.CheckConstraint("weight_kg > 0", name=op.f("ck_pickups_weight_positive")),
        sa.CheckConstraint("close_at > ready_at", name=op.f("ck_pickups_window_order")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_pickups_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickups")),
        sa.UniqueConstraint("reference", name=op.f("uq_pickups_reference")),
    )
    op.create_index("ix_pickups_phone", "pickups", ["phone"])
    op.create_index("ix_pickups_customer_id", "pickups", ["customer_id"])
    op.create_index("ix_pickups_station_state_ready", "pickups", ["station_code", "state", "ready_at"])
    op.create_index("ix_pickups_state_ready", "pickups", ["state", "ready_at"])
    op.create_index("ix_pickups_booked_by_ready", "pickups", ["booked_by", "ready_at"])
    op.create_table(
        "pickup_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("pickup_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("from_state", column_state, nullable=True),
        sa.Column("to_state", column_state, nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["pickup_id"], ["pickups.id"], name=op.f("fk_pickup_history_pickup_id_pickups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_history")),
    )
    op.create_index("ix_pickup_history_pickup_id", "pickup_history", ["pickup_id"])


def downgrade() -> None:
    op.drop_index("ix_pickup_history_pickup_id", table_name="pickup_history")
    op.drop_table("pickup_history")
    for name in (
        "ix_pickups_booked_by_ready",
        "ix_pickups_state_ready",
        "ix_pickups_station_state_ready",
        "ix_pickups_customer_id",
        "ix_pickups_phone",
    ):
        op.drop_index(name, table_name="pickups")
    op.drop_table("pickups")
    postgresql.ENUM(name="pickup_state").drop(op.get_bind())
