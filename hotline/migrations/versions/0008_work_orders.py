"""work orders replace crm_bridge's tickets: orders, history, call and recording links, revisits

Existing tickets become work orders with the same ids, routed and timed by the routing of this revision
(department and SLA by type and the customer's tier); open ones start their SLA at the ticket's creation.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-24 06:00:00
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEAR_FRACTION = 0.8
# type → (department, SLA hours, {tier: (department, SLA hours, level)}): workorders/routing.yaml at this revision
ROUTING: dict[str, tuple[str, float, dict[str, tuple[str, float, int]]]] = {
    "pickup_booking": ("pickup_dispatch", 4, {"vip": ("pickup_dispatch", 2, 0), "key_account": ("key_accounts", 2, 0)}),
    "delivery_urging": ("delivery", 24, {"vip": ("delivery", 12, 0), "key_account": ("key_accounts", 8, 0)}),
    "inquiry": ("customer_service", 24, {}),
    "complaint": ("complaints", 48, {"vip": ("complaints", 24, 0), "key_account": ("complaints", 12, 1)}),
    "claim": ("claims", 72, {"vip": ("claims", 48, 0), "key_account": ("key_accounts", 24, 1)}),
    "praise": ("customer_service", 72, {}),
}


def _create_tables() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("claim_kind", sa.String(length=16), nullable=True),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("customer_tier", sa.String(length=16), nullable=True),
        sa.Column("waybill", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_call_id", sa.String(length=64), nullable=True),
        sa.Column("sla_seconds", sa.Integer(), nullable=False),
        sa.Column("sla_near_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sla_stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_near_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_work_orders_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    op.create_index("ix_work_orders_customer_id_status", "work_orders", ["customer_id", "status"])
    op.create_index("ix_work_orders_department_status", "work_orders", ["department", "status"])
    op.create_index("ix_work_orders_waybill", "work_orders", ["waybill"])
    op.create_index("ix_work_orders_assignee", "work_orders", ["assignee"])
    op.create_index("ix_work_orders_sla_due_at", "work_orders", ["sla_due_at"])
    op.create_table(
        "work_order_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_work_order_history_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_history")),
    )
    op.create_index("ix_work_order_history_work_order_id", "work_order_history", ["work_order_id", "id"])
    for table, column, kind in (
        ("work_order_calls", "call_id", sa.String(length=64)),
        ("work_order_recordings", "recording_id", sa.Integer()),
    ):
        op.create_table(
            table,
            sa.Column("work_order_id", sa.Integer(), nullable=False),
            sa.Column(column, kind, nullable=False),
            sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("linked_by", sa.String(length=64), nullable=False),
            sa.ForeignKeyConstraint(
                ["work_order_id"],
                ["work_orders.id"],
                name=op.f(f"fk_{table}_work_order_id_work_orders"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("work_order_id", column, name=op.f(f"pk_{table}")),
        )
    op.create_index("ix_work_order_calls_call_id", "work_order_calls", ["call_id"])
    op.create_table(
        "revisits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_revisits_work_order_id_work_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revisits")),
    )
    op.create_index("ix_revisits_state_due_at", "revisits", ["state", "due_at"])
    op.create_index(op.f("ix_revisits_work_order_id"), "revisits", ["work_order_id"])


def _tickets_to_work_orders() -> None:
    conn = op.get_bind()
    now = datetime.now(UTC)
    rows = conn.execute(
        sa.text(
            "SELECT t.id, t.customer_id, t.kind, t.subject, t.waybill, CAST(t.status AS text) AS status,"
            " t.created_at, CAST(c.tier AS text) AS tier FROM tickets t JOIN customers c ON c.id = t.customer_id"
            " ORDER BY t.id"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO work_orders (id, type, department, subject, notes, customer_id, customer_tier, waybill, status,"
        " opened_by, opened_at, updated_at, sla_seconds, sla_near_at, sla_due_at, sla_stopped_at, escalation_level,"
        " first_resolved_at, resolved_at, closed_at, reopen_count) VALUES (:id, :type, :department, :subject, :notes,"
        " :customer_id, :tier, :waybill, :status, 'migration', :opened, :now, :sla_seconds, :near, :due, :stopped,"
        " :level, :resolved, :resolved, :closed, 0)"
    )
    history = sa.text(
        "INSERT INTO work_order_history (work_order_id, at, actor, action, new)"
        " VALUES (:id, :now, 'migration', 'opened', :what)"
    )
    for r in rows:
        type_ = r.kind if r.kind in ROUTING else "inquiry"
        department, hours, tiers = ROUTING[type_]
        department, hours, level = tiers.get(r.tier, (department, hours, 0))
        sla = timedelta(hours=hours)
        done = r.status in ("resolved", "closed")
        conn.execute(
            insert,
            {
                "id": r.id,
                "type": type_,
                "department": department,
                "subject": r.subject[:300],
                "notes": r.subject if len(r.subject) > 300 else None,
                "customer_id": r.customer_id,
                "tier": r.tier,
                "waybill": r.waybill,
                "status": r.status,
                "opened": r.created_at,
                "now": now,
                "sla_seconds": int(sla.total_seconds()),
                "near": r.created_at + sla * NEAR_FRACTION,
                "due": r.created_at + sla,
                "stopped": now if done else None,
                "level": level,
                "resolved": now if done else None,
                "closed": now if r.status == "closed" else None,
            },
        )
        conn.execute(history, {"id": r.id, "now": now, "what": f"ticket #{r.id} ({r.kind}) to {department}"})
    conn.execute(
        sa.text(
            "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), coalesce(max(id), 0) + 1, false)"
            " FROM work_orders"
        )
    )


def upgrade() -> None:
    _create_tables()
    _tickets_to_work_orders()
    op.drop_index("ix_tickets_customer_status", table_name="tickets")
    op.drop_table("tickets")
    op.execute("DROP TYPE IF EXISTS ticket_status")


def downgrade() -> None:
    status = sa.Enum("open", "in_progress", "resolved", "closed", name="ticket_status")
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("waybill", sa.String(length=32), nullable=True),
        sa.Column("status", status, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_tickets_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    op.create_index("ix_tickets_customer_status", "tickets", ["customer_id", "status"], unique=False)
    op.execute(
        "INSERT INTO tickets (id, customer_id, kind, subject, waybill, status, created_at)"
        " SELECT id, customer_id, type, coalesce(notes, subject), left(waybill, 32),"
        " CAST(CASE status WHEN 'waiting_customer' THEN 'in_progress' ELSE status END AS ticket_status), opened_at"
        " FROM work_orders WHERE customer_id IS NOT NULL"
    )
    op.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), coalesce(max(id), 0) + 1, false) FROM tickets")
    op.drop_table("revisits")
    op.drop_table("work_order_recordings")
    op.drop_table("work_order_calls")
    op.drop_table("work_order_history")
    op.drop_table("work_orders")
