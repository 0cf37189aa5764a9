"""sensory walks: walks, their prompts, notes, invited teammates and learning expeditions;
an irritant's source (a walk's finding), an outbox row's expiry, a team's public holidays

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "walks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manager_id", sa.String(length=32), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declared", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("stopped_seeing", sa.Text(), nullable=True),
        sa.Column("works_well", sa.Text(), nullable=True),
        sa.Column("draft", sa.JSON(), nullable=True),
        sa.Column("draft_by", sa.String(length=32), nullable=True),
        sa.Column("draft_saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_walks_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_walks_public_id")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_walks_submission_key")),
        sa.UniqueConstraint("team_id", "quarter", name=op.f("uq_walks_team_id_quarter")),
    )
    with op.batch_alter_table("walks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walks_team_id"), ["team_id"], unique=False)

    op.create_table(
        "expeditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("surprised", sa.Text(), nullable=False),
        sa.Column("borrow", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submission_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["walk_id"], ["walks.id"], name=op.f("fk_expeditions_walk_id_walks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expeditions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_expeditions_public_id")),
        sa.UniqueConstraint("submission_key", name=op.f("uq_expeditions_submission_key")),
    )
    with op.batch_alter_table("expeditions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_expeditions_walk_id"), ["walk_id"], unique=False)

    op.create_table(
        "walk_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("invited_by", sa.String(length=32), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["walk_id"],
            ["walks.id"],
            name=op.f("fk_walk_invites_walk_id_walks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_invites")),
        sa.UniqueConstraint("walk_id", "user_id", name=op.f("uq_walk_invites_walk_id_user_id")),
    )
    op.create_table(
        "walk_prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.String(length=32), nullable=False),
        sa.Column("prompted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["walk_id"],
            ["walks.id"],
            name=op.f("fk_walk_prompts_walk_id_walks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_prompts")),
        sa.UniqueConstraint(
            "walk_id", "manager_id", name=op.f("uq_walk_prompts_walk_id_manager_id")
        ),
    )
    op.create_table(
        "walk_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("walk_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("sense", sa.String(length=8), nullable=False),
        sa.Column("space", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("finding", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("irritant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["irritant_id"],
            ["irritants.id"],
            name=op.f("fk_walk_notes_irritant_id_irritants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["walk_id"], ["walks.id"], name=op.f("fk_walk_notes_walk_id_walks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_notes")),
    )
    with op.batch_alter_table("walk_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_notes_walk_id"), ["walk_id"], unique=False)

    with op.batch_alter_table("irritants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="report", nullable=False)
        )
        batch_op.add_column(sa.Column("walk_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_irritants_walk_id_walks"),
            "walks",
            ["walk_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holidays", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("holidays")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("expires_at")

    with op.batch_alter_table("irritants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_irritants_walk_id_walks"), type_="foreignkey")
        batch_op.drop_column("walk_id")
        batch_op.drop_column("source")

    with op.batch_alter_table("walk_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_notes_walk_id"))

    op.drop_table("walk_notes")
    op.drop_table("walk_prompts")
    op.drop_table("walk_invites")
    with op.batch_alter_table("expeditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_expeditions_walk_id"))

    op.drop_table("expeditions")
    with op.batch_alter_table("walks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walks_team_id"))

    op.drop_table("walks")
