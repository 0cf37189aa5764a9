"""Typed SQLAlchemy models. Every schema change comes with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back aware.

    SQLite keeps no offset, so every value is converted to UTC on the way in (a naive one is
    taken as UTC) and marked UTC on the way out; comparisons in SQL then hold on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_column(*, nullable: bool = False, server_default: bool = True) -> Mapped[datetime]:
    """A UTC timestamp column, filled by the database when `server_default`."""
    return mapped_column(
        UTCDateTime(),
        nullable=nullable,
        server_default=func.now() if server_default else None,
    )


class Workspace(Base):
    """A Slack workspace the bot is installed in."""

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_team_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = utc_column()
    uninstalled_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)

    teams: Mapped[list[Team]] = relationship(back_populates="workspace")


class SlackUser(Base):
    """What `users.info` said about a person, cached (timezone, locale, roles)."""

    __tablename__ = "slack_users"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    real_name: Mapped[str | None] = mapped_column(String(255))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(8))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = utc_column(server_default=False)


class Team(Base):
    """A team: the human members of one channel, with managers, a timezone and a language."""

    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        UniqueConstraint("workspace_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    # Anonymous reports reach managers in a roundup at this local time on working days.
    roundup_time: Mapped[str] = mapped_column(String(5), default="16:00", server_default="16:00")
    last_roundup_on: Mapped[date | None] = mapped_column(Date)
    # Pulse surveys: on by default, weekly on Tuesday at 10:00 in each person's time zone.
    survey_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    survey_cadence: Mapped[str] = mapped_column(
        String(16), default="weekly", server_default="weekly"
    )
    survey_weekday: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    survey_time: Mapped[str] = mapped_column(String(5), default="10:00", server_default="10:00")
    survey_questions: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    survey_days: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    created_at: Mapped[datetime] = utc_column()
    updated_at: Mapped[datetime] = utc_column()

    workspace: Mapped[Workspace] = relationship(back_populates="teams")
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="team", cascade="all, delete-orphan", passive_deletes=True
    )
    managers: Mapped[list[TeamManager]] = relationship(
        back_populates="team", cascade="all, delete-orphan", passive_deletes=True
    )


class Membership(Base):
    """A person who belongs to a team because they are a human member of its channel."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    joined_at: Mapped[datetime] = utc_column()

    team: Mapped[Team] = relationship(back_populates="memberships")


class TeamManager(Base):
    """The manager role: a person who manages a team (whether or not in its channel)."""

    __tablename__ = "team_managers"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = utc_column()

    team: Mapped[Team] = relationship(back_populates="managers")


class TeamSize(Base):
    """A team's counted size for anonymity from `recorded_at` on: its members other than its
    managers, deactivated accounts left out. A row is added whenever that number changes, so
    that the size deciding anonymity can be the smallest of the last 30 days
    (bot/teams/sizes.py), which whoever receives the reports cannot move quickly."""

    __tablename__ = "team_sizes"
    __table_args__ = (Index("ix_team_sizes_team_recorded", "team_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    size: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = utc_column(server_default=False)


class ProcessedEvent(Base):
    """An Events API `event_id` already handled, so Slack's retries are processed once."""

    __tablename__ = "processed_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = utc_column()


class Irritant(Base):
    """An everyday friction someone reported, and what became of it.

    An anonymous report stores no user ID: only `reporter_hash`, a keyed hash of the reporter
    with a per-report nonce, which lets the reporter (and only someone holding the key) find
    it again. Its `created_at` is kept to the day, so its time cannot point at anyone.
    """

    __tablename__ = "irritants"
    __table_args__ = (Index("ix_irritants_team_status", "team_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    space: Mapped[str] = mapped_column(String(16))
    location: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    reporter_id: Mapped[str | None] = mapped_column(String(32), index=True)
    reporter_hash: Mapped[str | None] = mapped_column(String(64))
    reporter_nonce: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    eta: Mapped[date | None] = mapped_column(Date)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = utc_column(server_default=False)
    updated_at: Mapped[datetime] = utc_column(server_default=False)
    acknowledged_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    resolved_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    rounded_up_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    # An anonymous report made while its team was under the anonymity threshold goes to the
    # admins, never to the team's managers, even once the team has grown (decided when made;
    # NULL for reports older than this column: the team's size decides).
    for_admins: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    team: Mapped[Team] = relationship()
    events: Mapped[list[IrritantEvent]] = relationship(
        back_populates="irritant",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="IrritantEvent.id",
    )
    votes: Mapped[list[IrritantVote]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class IrritantEvent(Base):
    """One step in an irritant's history: reported, acknowledged, planned, resolved, …

    `actor_id` is empty when the actor is an anonymous reporter.
    """

    __tablename__ = "irritant_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    irritant_id: Mapped[int] = mapped_column(
        ForeignKey("irritants.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    eta: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = utc_column(server_default=False)
    # The request that added a reporter's detail (a keyed hash of its view ID): a replayed
    # submission adds nothing.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    irritant: Mapped[Irritant] = relationship(back_populates="events")


class IrritantVote(Base):
    """A "me too" on an irritant: one per person, stored as a keyed hash, never a user ID."""

    __tablename__ = "irritant_votes"
    __table_args__ = (UniqueConstraint("irritant_id", "voter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    irritant_id: Mapped[int] = mapped_column(ForeignKey("irritants.id", ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))


class IrritantDraft(Base):
    """A submitted report waiting while its author decides between "me too" on a similar
    open irritant and sending theirs. Holds no user ID; expires within the hour."""

    __tablename__ = "irritant_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    owner_hash: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict] = mapped_column(JSON)
    expires_at: Mapped[datetime] = utc_column(server_default=False)


class PulseQuestion(Base):
    """A question an admin added to the bank of their workspace (the shipped bank is data)."""

    __tablename__ = "pulse_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    scale: Mapped[str] = mapped_column(String(8))  # "1-5" or "0-10"
    text_en: Mapped[str] = mapped_column(String(300))
    text_fr: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = utc_column()


class PulseRound(Base):
    """One survey round of a team: the same questions for everyone, open for a few days."""

    __tablename__ = "pulse_rounds"
    __table_args__ = (UniqueConstraint("team_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date)  # the survey day, in the team's time zone
    questions: Mapped[list] = mapped_column(JSON)  # question keys, in the order asked
    state: Mapped[str] = mapped_column(String(8), default="open")
    opens_at: Mapped[datetime] = utc_column(server_default=False)
    closes_at: Mapped[datetime] = utc_column(server_default=False)
    reminded: Mapped[bool] = mapped_column(Boolean, default=False)

    team: Mapped[Team] = relationship()


class PulseParticipant(Base):
    """Who was asked in a round, and who skipped it. Never what anyone answered: answers are
    keyed by a keyed hash of (round, person), which only the key can recompute."""

    __tablename__ = "pulse_participants"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    week: Mapped[str] = mapped_column(String(8))  # ISO week of the round, "2026-W48"
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)


class PulseAnswer(Base):
    """One answer: no user ID, no timestamp; `respondent` is a keyed hash of (round, person),
    so a changed answer replaces the earlier one and answers stay unlinkable across rounds."""

    __tablename__ = "pulse_answers"
    __table_args__ = (UniqueConstraint("round_id", "question", "respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(64))
    respondent: Mapped[str] = mapped_column(String(64))
    value: Mapped[int] = mapped_column(Integer)


class PulseComment(Base):
    """An optional comment on a round: no user ID, no timestamp, like answers."""

    __tablename__ = "pulse_comments"
    __table_args__ = (UniqueConstraint("round_id", "respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class PulsePause(Base):
    """A person paused surveys until a date (inclusive)."""

    __tablename__ = "pulse_pauses"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    until: Mapped[date] = mapped_column(Date)


class OutboxMessage(Base):
    """A message the bot will send on its own initiative, kept until Slack has it.

    `key` says what, for whom and for which period (for example `welcome:T1:U1`), so the same
    message is never queued twice. `not_before` is when it may go (held to working hours
    unless urgent); `lease_until` protects a claimed message from other workers. After
    delivery `recipient` may be blanked (anonymous follow-ups) while `state` stays `sent`.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "state", "not_before"),
        Index("ix_outbox_workspace_state", "workspace_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    not_before: Mapped[datetime] = utc_column(server_default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(255))
    last_error_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    message_channel: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = utc_column()
    sent_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)


# Multi-workspace mode keeps OAuth installations and states in slack_sdk's own tables; they
# are declared here (with slack_sdk's definitions) so that migrations create and track them.
def _declare_oauth_tables() -> None:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    store = SQLAlchemyInstallationStore
    store.build_installations_table(Base.metadata, store.default_installations_table_name)
    store.build_bots_table(Base.metadata, store.default_bots_table_name)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(
        Base.metadata, SQLAlchemyOAuthStateStore.default_table_name
    )


_declare_oauth_tables()
