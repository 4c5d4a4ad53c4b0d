"""customers: several phone numbers (the existing number becomes the primary one), addresses, language,
agreement, home office, dedicated agent, notes, credit; grade history and grading runs; trigram indexes
for the name and company search

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TIER = postgresql.ENUM("walk_in", "regular", "mid", "vip", "key_account", name="customer_tier", create_type=False)
CREDIT = postgresql.ENUM("good", "watch", "bad", name="credit_rating")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    CREDIT.create(op.get_bind(), checkfirst=True)
    op.add_column("customers", sa.Column("tier_manual", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("customers", sa.Column("language", sa.String(length=16), nullable=True))
    op.add_column("customers", sa.Column("agreement", sa.String(length=40), nullable=True))
    op.add_column("customers", sa.Column("home_office", sa.String(length=16), nullable=True))
    op.add_column("customers", sa.Column("dedicated_agent", sa.String(length=64), nullable=True))
    op.add_column("customers", sa.Column("notes", sa.Text(), nullable=True))
    op.add_column(
        "customers",
        sa.Column(
            "credit", postgresql.ENUM(name="credit_rating", create_type=False), server_default="good", nullable=False
        ),
    )
    op.add_column(
        "customers",
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_unique_constraint(op.f("uq_customers_agreement"), "customers", ["agreement"])
    op.create_index(
        "ix_customers_name_trgm", "customers", ["name"], postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}
    )
    op.create_index(
        "ix_customers_company_trgm",
        "customers",
        ["company"],
        postgresql_using="gin",
        postgresql_ops={"company": "gin_trgm_ops"},
    )
    op.create_index("ix_customers_tier_id", "customers", ["tier", "id"])

    op.create_table(
        "customer_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_phones_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_phones")),
        sa.UniqueConstraint("number", name=op.f("uq_customer_phones_number")),
    )
    op.create_index("ix_customer_phones_customer_id", "customer_phones", ["customer_id"])
    op.create_index(
        "uq_customer_phones_primary",
        "customer_phones",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text("is_primary"),
    )
    op.execute("INSERT INTO customer_phones (customer_id, number, is_primary) SELECT id, phone, true FROM customers")

    op.create_table(
        "customer_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.Column("city", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_addresses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_addresses")),
    )
    op.create_index("ix_customer_addresses_customer_id", "customer_addresses", ["customer_id"])
    # the customer's city becomes their first address where there was nothing else to go on
    op.execute(
        "INSERT INTO customer_addresses (customer_id, label, text, city) "
        "SELECT id, 'main', city, city FROM customers WHERE city IS NOT NULL"
    )

    op.create_table(
        "customer_grade_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("old_tier", TIER, nullable=True),
        sa.Column("new_tier", TIER, nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("manual", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("parcels", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_grade_history_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_grade_history")),
    )
    op.create_index("ix_customer_grade_history_customer_at", "customer_grade_history", ["customer_id", "at"])
    op.create_table(
        "customer_grading_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_grading_runs")),
    )


def downgrade() -> None:
    op.drop_table("customer_grading_runs")
    op.drop_index("ix_customer_grade_history_customer_at", table_name="customer_grade_history")
    op.drop_table("customer_grade_history")
    op.drop_index("ix_customer_addresses_customer_id", table_name="customer_addresses")
    op.drop_table("customer_addresses")
    # a customer keeps the number that was primary
    op.execute(
        "UPDATE customers c SET phone = p.number FROM customer_phones p WHERE p.customer_id = c.id AND p.is_primary"
    )
    op.drop_index("uq_customer_phones_primary", table_name="customer_phones")
    op.drop_index("ix_customer_phones_customer_id", table_name="customer_phones")
    op.drop_table("customer_phones")
    op.drop_index("ix_customers_tier_id", table_name="customers")
    op.drop_index("ix_customers_company_trgm", table_name="customers")
    op.drop_index("ix_customers_name_trgm", table_name="customers")
    op.drop_constraint(op.f("uq_customers_agreement"), "customers", type_="unique")
    for column in ("updated_at", "credit", "notes", "dedicated_agent", "home_office", "agreement", "language"):
        op.drop_column("customers", column)
    op.drop_column("customers", "tier_manual")
    CREDIT.drop(op.get_bind(), checkfirst=True)
