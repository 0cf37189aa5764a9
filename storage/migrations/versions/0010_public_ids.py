"""irritants: a random public id (what Slack, exports and the outbox see) and the "me too"
count shown to managers, which changes only at the team's roundup

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 22:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # as storage.models.new_public_id, as of today


def new_public_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def upgrade() -> None:
    with op.batch_alter_table("irritants") as batch:
        batch.add_column(sa.Column("public_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("votes_shown", sa.Integer(), nullable=False, server_default="0"))
    irritants = sa.table(
        "irritants",
        sa.column("id", sa.Integer),
        sa.column("public_id", sa.String),
        sa.column("votes_shown", sa.Integer),
    )
    votes = sa.table("irritant_votes", sa.column("irritant_id", sa.Integer))
    bind = op.get_bind()
    for (irritant_id,) in bind.execute(sa.select(irritants.c.id)).all():
        bind.execute(
            irritants.update()
            .where(irritants.c.id == irritant_id)
            .values(public_id=new_public_id())
        )
    counted = (
        sa.select(sa.func.count()).where(votes.c.irritant_id == irritants.c.id).scalar_subquery()
    )
    bind.execute(irritants.update().values(votes_shown=counted))
    with op.batch_alter_table("irritants") as batch:
        batch.alter_column("public_id", existing_type=sa.String(16), nullable=False)
        batch.create_unique_constraint("uq_irritants_public_id", ["public_id"])


def downgrade() -> None:
    with op.batch_alter_table("irritants") as batch:
        batch.drop_constraint("uq_irritants_public_id", type_="unique")
        batch.drop_column("votes_shown")
        batch.drop_column("public_id")
