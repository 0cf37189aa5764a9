"""pulses

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 09:07:20.370846
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pulse_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pulse_pauses_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_pauses")),
        sa.UniqueConstraint(
            "workspace_id", "user_id", name=op.f("uq_pulse_pauses_workspace_id_user_id")
        ),
    )
    op.create_table(
        "pulse_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("text_en", sa.String(length=300), nullable=False),
        sa.Column("text_fr", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pulse_questions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_questions")),
    )
    op.create_table(
        "pulse_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_pulse_rounds_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_rounds")),
        sa.UniqueConstraint("team_id", "period", name=op.f("uq_pulse_rounds_team_id_period")),
    )
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pulse_rounds_team_id"), ["team_id"], unique=False)

    op.create_table(
        "pulse_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=64), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["pulse_rounds.id"],
            name=op.f("fk_pulse_answers_round_id_pulse_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
        sa.UniqueConstraint(
            "round_id",
            "question",
            "respondent",
            name=op.f("uq_pulse_answers_round_id_question_respondent"),
        ),
    )
    op.create_table(
        "pulse_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["pulse_rounds.id"],
            name=op.f("fk_pulse_comments_round_id_pulse_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_comments")),
        sa.UniqueConstraint(
            "round_id", "respondent", name=op.f("uq_pulse_comments_round_id_respondent")
        ),
    )
    op.create_table(
        "pulse_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["pulse_rounds.id"],
            name=op.f("fk_pulse_participants_round_id_pulse_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_participants")),
        sa.UniqueConstraint(
            "round_id", "user_id", name=op.f("uq_pulse_participants_round_id_user_id")
        ),
    )
    with op.batch_alter_table("pulse_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_participants_user_id"), ["user_id"], unique=False
        )

    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("survey_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "survey_cadence", sa.String(length=16), server_default="weekly", nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("survey_weekday", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("survey_time", sa.String(length=5), server_default="10:00", nullable=False)
        )
        batch_op.add_column(
            sa.Column("survey_questions", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.add_column(
            sa.Column("survey_days", sa.Integer(), server_default="5", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("survey_days")
        batch_op.drop_column("survey_questions")
        batch_op.drop_column("survey_time")
        batch_op.drop_column("survey_weekday")
        batch_op.drop_column("survey_cadence")
        batch_op.drop_column("survey_enabled")

    with op.batch_alter_table("pulse_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_participants_user_id"))

    op.drop_table("pulse_participants")
    op.drop_table("pulse_comments")
    op.drop_table("pulse_answers")
    with op.batch_alter_table("pulse_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_rounds_team_id"))

    op.drop_table("pulse_rounds")
    op.drop_table("pulse_questions")
    op.drop_table("pulse_pauses")
