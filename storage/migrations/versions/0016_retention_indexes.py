"""retention: partial indexes on what is still to erase (closed reports' texts, delivered
messages' contents), and indexes on the foreign keys a workspace purge cascades through
(walk_notes.irritant_id, irritants.walk_id)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Word for word the predicates of storage/retention.py (and storage/models.py).
IRRITANT_TEXT_KEPT = "description != ''"
OUTBOX_CONTENT_KEPT = "CAST(payload AS TEXT) NOT IN ('{}', '{\"scrub_recipient\": true}')"


def upgrade() -> None:
    op.create_index(
        "ix_irritants_text_kept",
        "irritants",
        ["resolved_at"],
        sqlite_where=sa.text(IRRITANT_TEXT_KEPT),
        postgresql_where=sa.text(IRRITANT_TEXT_KEPT),
    )
    op.create_index(
        "ix_outbox_content_kept",
        "outbox",
        ["state", "sent_at"],
        sqlite_where=sa.text(OUTBOX_CONTENT_KEPT),
        postgresql_where=sa.text(OUTBOX_CONTENT_KEPT),
    )
    op.create_index("ix_walk_notes_irritant_id", "walk_notes", ["irritant_id"])
    op.create_index("ix_irritants_walk_id", "irritants", ["walk_id"])


def downgrade() -> None:
    op.drop_index("ix_irritants_walk_id", table_name="irritants")
    op.drop_index("ix_walk_notes_irritant_id", table_name="walk_notes")
    op.drop_index("ix_outbox_content_kept", table_name="outbox")
    op.drop_index("ix_irritants_text_kept", table_name="irritants")
