"""Typed SQLAlchemy models. Every schema change comes with an Alembic migration."""

from __future__ import annotations

import secrets
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
    false,
    func,
    text,
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


# The partial indexes' predicates (retention): what is still to erase.
IRRITANT_TEXT_KEPT = "description != ''"
OUTBOX_CONTENT_KEPT = "CAST(payload AS TEXT) NOT IN ('{}', '{\"scrub_recipient\": true}')"

PUBLIC_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud safely
PUBLIC_ID_LENGTH = 10  # 31**10: about 49 bits


def new_public_id() -> str:
    """A random public id: what Slack, exports and the outbox see instead of a row's id,
    which counts insertions and so would date a report against its neighbours."""
    return "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))


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
    # Enterprise Grid: the organisation (E…) it belongs to, and whether the bot was installed
    # for the whole organisation (its token is then found by `enterprise_id` alone).
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    is_enterprise_install: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The error Slack gave for its token (`invalid_auth`, `token_revoked`…): nothing is planned
    # or sent there until it is installed again.
    token_error: Mapped[str | None] = mapped_column(String(64))
    token_error_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    # When reading its DMs back (`conversations.history`, scope `im:history`) was refused: a
    # message in doubt after a crash is then sent again (at-least-once) rather than looked up.
    history_unreadable_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)

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
    # The country (and region) whose public holidays count like weekends: "FR", "US-NY".
    holidays: Mapped[str | None] = mapped_column(String(16))
    # "You said, we did": a Monday post in the team's channel of the week's resolved irritants.
    said_did: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
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

    Outside the database a report is known only by `public_id`, which is random. An anonymous
    report is written again, with a new `id`, at the roundup that shows it, in random order
    with the others of that roundup (`storage.irritants.reinsert`): insertion order then says
    no more than the day. `votes_shown` is the "me too" count as of the team's last roundup,
    what managers see, so that refreshing a view cannot date a vote.

    A named report whose reporter asked to be forgotten (`symmetry forget`) keeps
    `anonymous` false and has no `reporter_id`: nobody is told of it any more.
    """

    __tablename__ = "irritants"
    __table_args__ = (
        Index("ix_irritants_team_status", "team_id", "status"),
        # A week's digest reads what was reported, shown and resolved in a window of time.
        Index("ix_irritants_team_created", "team_id", "created_at"),
        Index("ix_irritants_team_rounded_up", "team_id", "rounded_up_at"),
        Index("ix_irritants_team_resolved", "team_id", "resolved_at"),
        # Retention finds the closed reports whose text is still kept (storage/retention.py
        # writes the same predicate, word for word, so that both backends use the index).
        Index(
            "ix_irritants_text_kept",
            "resolved_at",
            sqlite_where=text(IRRITANT_TEXT_KEPT),
            postgresql_where=text(IRRITANT_TEXT_KEPT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
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
    votes_shown: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the report came from: "report" (/irritant) or "walk" (a finding of `walk_id`).
    source: Mapped[str] = mapped_column(String(16), default="report", server_default="report")
    walk_id: Mapped[int | None] = mapped_column(
        ForeignKey("walks.id", ondelete="SET NULL"), index=True
    )

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

    `actor_id` is empty when the actor is an anonymous reporter, or asked to be forgotten.
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
    keyed by a keyed hash of (round, person), which only the key can recompute, and by a
    random pseudonym once the round has closed (bot/pulse/closing.py)."""

    __tablename__ = "pulse_participants"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("pulse_rounds.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    week: Mapped[str] = mapped_column(String(8))  # ISO week of the round, "2026-W48"
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)


class PulseAnswer(Base):
    """One answer: no user ID, no timestamp; `respondent` is a keyed hash of (round, person),
    so a changed answer replaces the earlier one and answers stay unlinkable across rounds.
    At close the round's answers are written again in random order under random pseudonyms
    (bot/pulse/closing.py): neither ids nor the key then lead from an answer to a person."""

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
        # Retention finds the delivered messages whose content is still kept.
        Index(
            "ix_outbox_content_kept",
            "state",
            "sent_at",
            sqlite_where=text(OUTBOX_CONTENT_KEPT),
            postgresql_where=text(OUTBOX_CONTENT_KEPT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64))
    # The public holidays ("FR", "US-NY") that count like weekends for its working hours.
    holidays: Mapped[str | None] = mapped_column(String(16))
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
    # When the last Slack call for it began (state `attempting` until its outcome is
    # committed): after a crash, a message in doubt is looked up in Slack from this instant.
    attempted_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    # Not sent at or after this instant (a walk's prompt once its quarter is over): it is
    # marked `expired` instead.
    expires_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)


class Walk(Base):
    """A team's sensory walk for one quarter ("2026-Q4"), done by one of its managers.

    Made when the quarter's first prompt is planned. `done_at` is set when the walk is
    submitted, or when a manager says it was done already (`declared`, no scores). Until
    then `draft` keeps the form as last saved (by `draft_by`), since a closed Slack modal
    keeps nothing; it expires with the quarter's grace period (bot.walks.quarters.GRACE).
    `scores` is {sense: {"customer": 1..5 | None, "employee": 1..5 | None}}.
    """

    __tablename__ = "walks"
    __table_args__ = (UniqueConstraint("team_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    due_at: Mapped[datetime] = utc_column(server_default=False)  # the first prompt's instant
    manager_id: Mapped[str | None] = mapped_column(String(32))  # who did it
    done_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    declared: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    scores: Mapped[dict | None] = mapped_column(JSON)
    stopped_seeing: Mapped[str | None] = mapped_column(Text)
    works_well: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict | None] = mapped_column(JSON)
    draft_by: Mapped[str | None] = mapped_column(String(32))
    draft_saved_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    # A keyed hash of the submitted view's ID: the same submission delivered twice counts once.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = utc_column()

    team: Mapped[Team] = relationship()
    prompts: Mapped[list[WalkPrompt]] = relationship(
        back_populates="walk", cascade="all, delete-orphan", passive_deletes=True
    )
    notes: Mapped[list[WalkNote]] = relationship(
        back_populates="walk",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WalkNote.id",
    )
    invites: Mapped[list[WalkInvite]] = relationship(
        back_populates="walk", cascade="all, delete-orphan", passive_deletes=True
    )
    expeditions: Mapped[list[Expedition]] = relationship(
        back_populates="walk",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Expedition.visited_on",
    )


class WalkPrompt(Base):
    """A manager's prompt for a walk, and their one reminder: due `remind_at` (14 days after
    the prompt; "Remind me in a week" moves it), `reminded_at` once queued."""

    __tablename__ = "walk_prompts"
    __table_args__ = (UniqueConstraint("walk_id", "manager_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"))
    manager_id: Mapped[str] = mapped_column(String(32))
    prompted_at: Mapped[datetime] = utc_column(server_default=False)
    remind_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    reminded_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)

    walk: Mapped[Walk] = relationship(back_populates="prompts")


class WalkNote(Base):
    """One note of a walk, by its manager or an invited teammate (`author_id`, named), for a
    sense ("sight", "hearing", "smell", "touch", "taste") and a space ("customer",
    "employee"). A note the manager marks as a finding becomes an irritant (`irritant_id`),
    in `category` (proposed from the sense)."""

    __tablename__ = "walk_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    sense: Mapped[str] = mapped_column(String(8))
    space: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    finding: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    category: Mapped[str | None] = mapped_column(String(32))
    irritant_id: Mapped[int | None] = mapped_column(
        ForeignKey("irritants.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = utc_column(server_default=False)

    walk: Mapped[Walk] = relationship(back_populates="notes")


class WalkInvite(Base):
    """A teammate the manager invited to add their own notes to a walk."""

    __tablename__ = "walk_invites"
    __table_args__ = (UniqueConstraint("walk_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    invited_by: Mapped[str] = mapped_column(String(32))
    invited_at: Mapped[datetime] = utc_column(server_default=False)
    submitted_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)

    walk: Mapped[Walk] = relationship(back_populates="invites")


class Expedition(Base):
    """A learning expedition: a manager's visit to a place known for its service (a shop, a
    hotel, a restaurant), kept with the quarter's walk as a short astonishment report."""

    __tablename__ = "expeditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True, default=new_public_id)
    walk_id: Mapped[int] = mapped_column(ForeignKey("walks.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(String(32))
    place: Mapped[str] = mapped_column(String(200))
    visited_on: Mapped[date] = mapped_column(Date)
    surprised: Mapped[str] = mapped_column(Text)  # what surprised me
    borrow: Mapped[str] = mapped_column(Text)  # what we could borrow
    posted_at: Mapped[datetime | None] = utc_column(nullable=True, server_default=False)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = utc_column(server_default=False)

    walk: Mapped[Walk] = relationship(back_populates="expeditions")


class DigestPreference(Base):
    """A manager's (or admin's) choice about their weekly digest: off, or another weekday
    (0 is Monday). No row: on, on Monday."""

    __tablename__ = "digest_preferences"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    weekday: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = utc_column(server_default=False)


class DigestRecord(Base):
    """A weekly digest queued: which ISO week ("2026-W50"), for whom (a manager's, an admin's
    user ID, or the team's channel for "you said, we did"), and the end of the period it
    covered, where the next one starts. `team_id` is NULL for an admins' digest."""

    __tablename__ = "digests"
    __table_args__ = (
        Index("ix_digests_recipient_week", "workspace_id", "kind", "recipient", "week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "manager", "admins" or "channel"
    recipient: Mapped[str] = mapped_column(String(32))
    week: Mapped[str] = mapped_column(String(8))
    covers_until: Mapped[datetime] = utc_column(server_default=False)
    created_at: Mapped[datetime] = utc_column()


class CustomerNps(Base):
    """The customer NPS a team's company recorded for a month ("2026-11"), shown in the
    digest beside the team's eNPS."""

    __tablename__ = "customer_nps"
    __table_args__ = (UniqueConstraint("team_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    nps: Mapped[int] = mapped_column(Integer)  # -100..100
    responses: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str | None] = mapped_column(String(32))  # None: `symmetry nps import`
    recorded_at: Mapped[datetime] = utc_column(server_default=False)


class AuditRecord(Base):
    """An admin's or manager's action, or a command's: who (`actor`: a Slack user ID, or
    "cli"), what (`action`, and a small `detail` that never holds user text nor the reporter
    of an anonymous report), when and in which workspace (its Slack team ID, so the record
    outlives a purge of the workspace's data; None for a command over every workspace).
    Written in the transaction of the action itself (storage/audit.py)."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JSON)
    at: Mapped[datetime] = utc_column()

    __table_args__ = (Index("ix_audit_records_at", "at"),)


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
