"""customers' phone numbers in E.164 (``+8613800138000``), the form lookups normalise caller IDs to

Revision ID: 0003a
Revises: 0003
Create Date: 2026-11-24 04:00:00
"""

import sqlalchemy as sa
from alembic import op

from crm_bridge.phones import normalise

revision = "0003a"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, phone FROM customers")).all()
    for row in rows:
        phone = normalise(row.phone)
        if phone and phone != row.phone:
            conn.execute(sa.text("UPDATE customers SET phone = :phone WHERE id = :id"), {"phone": phone, "id": row.id})


def downgrade() -> None:
    # E.164 numbers of mainland China back to their national significant form, as stored before
    op.execute("UPDATE customers SET phone = substr(phone, 4) WHERE phone LIKE '+861%' AND length(phone) = 14")
