"""irritants

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:56:07.057366
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "irritant_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("owner_hash", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irritant_drafts")),
        sa.UniqueConstraint("token", name=op.f("uq_irritant_drafts_token")),
    )
    op.create_table(
        "irritants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("space", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_id", sa.String(length=32), nullable=True),
        sa.Column("reporter_hash", sa.String(length=64), nullable=True),
        sa.Column("reporter_nonce", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rounded_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_irritants_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_irritants_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irritants")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_irritants_submission_key")),
    )
    with op.batch_alter_table("irritants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_irritants_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index("ix_irritants_team_status", ["team_id", "status"], unique=False)

    op.create_table(
        "irritant_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("irritant_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("eta", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["irritant_id"],
            ["irritants.id"],
            name=op.f("fk_irritant_events_irritant_id_irritants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irritant_events")),
    )
    with op.batch_alter_table("irritant_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_irritant_events_irritant_id"), ["irritant_id"], unique=False
        )

    op.create_table(
        "irritant_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("irritant_id", sa.Integer(), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["irritant_id"],
            ["irritants.id"],
            name=op.f("fk_irritant_votes_irritant_id_irritants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_irritant_votes")),
        sa.UniqueConstraint(
            "irritant_id", "voter_hash", name=op.f("uq_irritant_votes_irritant_id_voter_hash")
        ),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("roundup_time", sa.String(length=5), server_default="16:00", nullable=False)
        )
        batch_op.add_column(sa.Column("last_roundup_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("last_roundup_on")
        batch_op.drop_column("roundup_time")

    op.drop_table("irritant_votes")
    with op.batch_alter_table("irritant_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_irritant_events_irritant_id"))

    op.drop_table("irritant_events")
    with op.batch_alter_table("irritants", schema=None) as batch_op:
        batch_op.drop_index("ix_irritants_team_status")
        batch_op.drop_index(batch_op.f("ix_irritants_reporter_id"))

    op.drop_table("irritants")
    op.drop_table("irritant_drafts")
