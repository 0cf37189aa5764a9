"""team sizes: the history of each team's counted size, so that anonymity can use the
smallest size of the last 30 days

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sizes = op.create_table(
        "team_sizes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_sizes_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_sizes")),
    )
    op.create_index("ix_team_sizes_team_recorded", "team_sizes", ["team_id", "recorded_at"])
    # Existing teams start their history with their size now: members other than their
    # managers, deactivated accounts left out (as bot/teams/sizes.py counts).
    teams = sa.table("teams", sa.column("id"), sa.column("workspace_id"))
    members = sa.table("memberships", sa.column("team_id"), sa.column("user_id"))
    managers = sa.table("team_managers", sa.column("team_id"), sa.column("user_id"))
    users = sa.table(
        "slack_users", sa.column("workspace_id"), sa.column("user_id"), sa.column("deleted")
    )
    is_manager = sa.exists().where(
        managers.c.team_id == members.c.team_id, managers.c.user_id == members.c.user_id
    )
    deactivated = sa.exists().where(
        users.c.workspace_id == teams.c.workspace_id,
        users.c.user_id == members.c.user_id,
        users.c.deleted.is_(True),
    )
    counted = (
        sa.select(sa.func.count())
        .select_from(members)
        .where(members.c.team_id == teams.c.id, ~is_manager, ~deactivated)
        .correlate(teams)
        .scalar_subquery()
    )
    op.execute(
        sizes.insert().from_select(
            ["team_id", "size", "recorded_at"],
            sa.select(teams.c.id, counted, sa.func.now()),
        )
    )


def downgrade() -> None:
    op.drop_index("ix_team_sizes_team_recorded", table_name="team_sizes")
    op.drop_table("team_sizes")
