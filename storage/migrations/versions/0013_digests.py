"""weekly digests: managers' preferences, the digests queued (what each covered), customer
NPS per team and month, the "you said, we did" team setting, and the irritant indexes a
week's digest reads by

Revision ID: 0013
Revises: 0012h
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012h"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _workspace_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["workspace_id"],
        ["workspaces.id"],
        name=op.f(f"fk_{table}_workspace_id_workspaces"),
        ondelete="CASCADE",
    )


def _team_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["team_id"], ["teams.id"], name=op.f(f"fk_{table}_team_id_teams"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "digest_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("weekday", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _workspace_fk("digest_preferences"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_preferences")),
        sa.UniqueConstraint(
            "workspace_id", "user_id", name=op.f("uq_digest_preferences_workspace_id_user_id")
        ),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("covers_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        _workspace_fk("digests"),
        _team_fk("digests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
    )
    op.create_index(op.f("ix_digests_team_id"), "digests", ["team_id"])
    op.create_index(
        "ix_digests_recipient_week", "digests", ["workspace_id", "kind", "recipient", "week"]
    )
    op.create_table(
        "customer_nps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("nps", sa.Integer(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        _team_fk("customer_nps"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_nps")),
        sa.UniqueConstraint("team_id", "month", name=op.f("uq_customer_nps_team_id_month")),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("said_did", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_index("ix_irritants_team_created", "irritants", ["team_id", "created_at"])
    op.create_index("ix_irritants_team_rounded_up", "irritants", ["team_id", "rounded_up_at"])
    op.create_index("ix_irritants_team_resolved", "irritants", ["team_id", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_irritants_team_resolved", table_name="irritants")
    op.drop_index("ix_irritants_team_rounded_up", table_name="irritants")
    op.drop_index("ix_irritants_team_created", table_name="irritants")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("said_did")
    op.drop_table("customer_nps")
    op.drop_index("ix_digests_recipient_week", table_name="digests")
    op.drop_index(op.f("ix_digests_team_id"), table_name="digests")
    op.drop_table("digests")
    op.drop_table("digest_preferences")
