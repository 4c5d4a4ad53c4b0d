"""recordings: compressed format, policy, legs, desk pauses, retention purge, searchable transcripts

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 09:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add = op.add_column
    add("recordings", sa.Column("format", sa.String(length=16), server_default="wav", nullable=False))
    add("recordings", sa.Column("policy", sa.String(length=16), nullable=True))
    jsonb = postgresql.JSONB(astext_type=sa.Text())
    add("recordings", sa.Column("legs", jsonb, server_default=sa.text("'[]'::jsonb"), nullable=False))
    add("recordings", sa.Column("pauses", jsonb, server_default=sa.text("'[]'::jsonb"), nullable=False))
    add("recordings", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    add("recordings", sa.Column("transcript_state", sa.String(length=16), server_default="pending", nullable=False))
    add("recordings", sa.Column("transcript", sa.Text(), nullable=True))
    add("recordings", sa.Column("transcript_language", sa.String(length=8), nullable=True))
    add("recordings", sa.Column("transcribed_at", sa.DateTime(timezone=True), nullable=True))
    add(
        "recordings",
        sa.Column(
            "transcript_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', coalesce(transcript, ''))", persisted=True),
            nullable=True,
        ),
    )
    op.create_index("ix_recordings_created_at", "recordings", ["created_at"])
    op.create_index("ix_recordings_transcript_tsv", "recordings", ["transcript_tsv"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_recordings_transcript_tsv", table_name="recordings")
    op.drop_index("ix_recordings_created_at", table_name="recordings")
    for column in (
        "transcript_tsv",
        "transcribed_at",
        "transcript_language",
        "transcript",
        "transcript_state",
        "purged_at",
        "pauses",
        "legs",
        "policy",
        "format",
    ):
        op.drop_column("recordings", column)
