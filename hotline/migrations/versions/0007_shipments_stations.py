"""shipments and their scan events; stations, opening hours, holidays, postal codes served

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-24 06:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SERVICE = ("standard", "express", "economy", "international")
STATUS = ("created", "picked_up", "in_transit", "at_station", "out_for_delivery", "delivered", "exception")
SCAN = ("picked_up", "in_transit", "at_station", "out_for_delivery", "delivered", "exception")
EXCEPTION = ("customs_delay", "delay", "misroute", "damage", "loss")
ENUMS = {"shipment_service": SERVICE, "shipment_status": STATUS, "scan_kind": SCAN, "shipment_exception": EXCEPTION}


def _enum(name: str) -> postgresql.ENUM:
    return postgresql.ENUM(*ENUMS[name], name=name, create_type=False)


def upgrade() -> None:
    for name, values in ENUMS.items():
        postgresql.ENUM(*values, name=name).create(op.get_bind())
    op.create_table(
        "stations",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("timezone", sa.String(length=64), server_default="Asia/Shanghai", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_stations")),
    )
    op.create_table(
        "station_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=16), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_station_hours_weekday_range")),
        sa.CheckConstraint("opens < closes", name=op.f("ck_station_hours_opens_before_closes")),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["stations.code"],
            name=op.f("fk_station_hours_station_code_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_hours")),
    )
    op.create_index(op.f("ix_station_hours_station_code"), "station_hours", ["station_code"], unique=False)
    op.create_table(
        "station_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=120), nullable=True),
        sa.CheckConstraint(
            "(opens IS NULL) = (closes IS NULL) AND (opens IS NULL OR opens < closes)",
            name=op.f("ck_station_holidays_times"),
        ),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["stations.code"],
            name=op.f("fk_station_holidays_station_code_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_holidays")),
    )
    op.create_index("ix_station_holidays_station_day", "station_holidays", ["station_code", "day"], unique=False)
    op.create_table(
        "station_postal_codes",
        sa.Column("postal_code", sa.String(length=12), nullable=False),
        sa.Column("station_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_code"],
            ["stations.code"],
            name=op.f("fk_station_postal_codes_station_code_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("postal_code", name=op.f("pk_station_postal_codes")),
    )
    op.create_index(
        op.f("ix_station_postal_codes_station_code"), "station_postal_codes", ["station_code"], unique=False
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("waybill", sa.String(length=16), nullable=False),
        sa.Column("sender_customer_id", sa.Integer(), nullable=True),
        sa.Column("sender_name", sa.String(length=120), nullable=False),
        sa.Column("sender_phone", sa.String(length=32), nullable=True),
        sa.Column("sender_address", sa.String(length=300), nullable=True),
        sa.Column("receiver_name", sa.String(length=120), nullable=False),
        sa.Column("receiver_phone", sa.String(length=32), nullable=True),
        sa.Column("receiver_address", sa.String(length=300), nullable=True),
        sa.Column("origin_city", sa.String(length=80), nullable=False),
        sa.Column("origin_postal_code", sa.String(length=12), nullable=True),
        sa.Column("destination_city", sa.String(length=80), nullable=False),
        sa.Column("destination_postal_code", sa.String(length=12), nullable=True),
        sa.Column("service", _enum("shipment_service"), nullable=False),
        sa.Column("weight_kg", sa.Numeric(precision=8, scale=3), nullable=False),
        sa.Column("charge", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status", _enum("shipment_status"), nullable=False),
        sa.Column("last_scan_kind", _enum("scan_kind"), nullable=True),
        sa.Column("last_scan_place", sa.String(length=120), nullable=True),
        sa.Column("last_scan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exception", _enum("shipment_exception"), nullable=True),
        sa.ForeignKeyConstraint(
            ["sender_customer_id"],
            ["customers.id"],
            name=op.f("fk_shipments_sender_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("waybill", name=op.f("uq_shipments_waybill")),
    )
    op.create_index("ix_shipments_sender_recent", "shipments", ["sender_customer_id", "created_at", "id"], unique=False)
    op.create_table(
        "scan_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("shipment_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", _enum("scan_kind"), nullable=False),
        sa.Column("exception", _enum("shipment_exception"), nullable=True),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("station_code", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'exception') = (exception IS NOT NULL)", name=op.f("ck_scan_events_exception_iff_kind")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_scan_events_shipment_id_shipments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["station_code"], ["stations.code"], name=op.f("fk_scan_events_station_code_stations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_events")),
    )
    op.create_index("ix_scan_events_shipment_at", "scan_events", ["shipment_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_scan_events_shipment_at", table_name="scan_events")
    op.drop_table("scan_events")
    op.drop_index("ix_shipments_sender_recent", table_name="shipments")
    op.drop_table("shipments")
    op.drop_index(op.f("ix_station_postal_codes_station_code"), table_name="station_postal_codes")
    op.drop_table("station_postal_codes")
    op.drop_index("ix_station_holidays_station_day", table_name="station_holidays")
    op.drop_table("station_holidays")
    op.drop_index(op.f("ix_station_hours_station_code"), table_name="station_hours")
    op.drop_table("station_hours")
    op.drop_table("stations")
    for name in reversed(list(ENUMS)):
        postgresql.ENUM(name=name).drop(op.get_bind())
