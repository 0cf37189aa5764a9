"""irritant details: the request that added a detail, so that a replay adds nothing

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A keyed hash of the submitted view's ID: random, says nothing of who or when.
    with op.batch_alter_table("irritant_events") as batch:
        batch.add_column(sa.Column("request_key", sa.String(64), nullable=True))
        batch.create_unique_constraint("uq_irritant_events_request_key", ["request_key"])


def downgrade() -> None:
    with op.batch_alter_table("irritant_events") as batch:
        batch.drop_constraint("uq_irritant_events_request_key", type_="unique")
        batch.drop_column("request_key")
