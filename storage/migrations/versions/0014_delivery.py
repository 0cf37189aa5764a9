"""delivery at the limit: an outbox message's attempt is recorded before Slack is called (a
message "attempting" when the process died is looked up before it is sent again); a
workspace records its Enterprise Grid organisation, a token Slack refused, and whether its
DMs can be read back (without `im:history` delivery is at-least-once there)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enterprise_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "is_enterprise_install", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("token_error", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("token_error_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("history_unreadable_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("history_unreadable_at")
        batch_op.drop_column("token_error_at")
        batch_op.drop_column("token_error")
        batch_op.drop_column("is_enterprise_install")
        batch_op.drop_column("enterprise_id")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("attempted_at")
