"""irritant routing: where an anonymous report goes is decided when it is made

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL for the reports made before: their team's size decides, as it did then.
    op.add_column("irritants", sa.Column("for_admins", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("irritants") as batch:
        batch.drop_column("for_admins")
