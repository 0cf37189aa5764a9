"""Closing a pulse round, so that nothing kept afterwards ties its answers to a person.

While a round is open, a person's answers are stored under a keyed hash of (round, person),
in the order they were given, and the outbox holds each person's survey and, halfway, the
reminders of those who had not answered. Together these told a dump's holder who answered
late (the reminded; the New York member, whose survey went out last) and then, through the
hash, all their answers. At close, in the clock's transaction, the round's answers and
comments are written again in random order, so that neither their ids nor their physical
order (SQLite's rowid, PostgreSQL's heap) follow the order of answering, under random
pseudonyms that no key recomputes; and the round's messages lose whom they were for.

Each survey that went out is then changed (chat.update, through the outbox) to say that the
round is closed, without its buttons, with a pointer to the results where the round has
enough answers to show them; a skipped or paused person's survey as much as anyone's. The
survey's conversation and ts, which tie it to a person, move from the survey's row into the
update's, queued in random order under a random key; the update's row loses them, its
recipient and its content as soon as it is delivered, or known never to be (dead, failed,
expired): `scrub_recipient`.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.pulse import results
from bot.shared.blocks import render
from bot.shared.i18n import pick_locale
from bot.shared.policy import Policy
from bot.shared.sending import timezone_for
from storage import outbox, queries
from storage import pulse as store
from storage.models import PulseRound

# An update not delivered within a week (a clock stopped that long) is dropped rather than
# keep a link to its person longer: a tap on the old buttons is refused as closed anyway.
UPDATE_FOR = timedelta(days=7)

# Not `random.random`: an order or a pseudonym that a seed could replay would tie the rows
# to the order of answering again.
_rng = random.SystemRandom()


def pseudonym() -> str:
    """A random stand-in for a person in one closed round (as long as a keyed hash)."""
    return secrets.token_hex(32)


def close(session: Session, policy: Policy, round_: PulseRound, *, now: datetime) -> int:
    """Close `round_`: no more answers, its answers shuffled and renamed, its surveys queued
    to say so, its messages stripped of their recipients. Returns the updates queued."""
    round_.state = "closed"
    answers, comments = store.take_answers(session, round_id=round_.id)
    # One pseudonym per person's answers (per-person counts still hold); one per comment,
    # so that a comment's wording does not lead to its author's answers.
    renamed: dict[str, str] = {}
    rows = [(q, renamed.setdefault(who, pseudonym()), value) for q, who, value in answers]
    notes = [(pseudonym(), text) for _who, text in comments]
    _rng.shuffle(rows)
    _rng.shuffle(notes)
    store.put_answers(session, round_id=round_.id, answers=rows, comments=notes)
    updates = say_closed(session, policy, round_, now=now)
    store.forget_recipients(session, round_id=round_.id, key=lambda: secrets.token_hex(16), now=now)
    return updates


def say_closed(session: Session, policy: Policy, round_: PulseRound, *, now: datetime) -> int:
    """Queue a chat.update of every survey of `round_` that Slack accepted, rendered once per
    language: promptly (`urgent`: an edit notifies nobody, and the sooner it is delivered
    the sooner its row forgets the person)."""
    team = round_.team
    sent = store.sent_surveys(session, round_id=round_.id)
    profiles = queries.get_slack_users(
        session, workspace_id=team.workspace_id, user_ids=[user for user, _, _ in sent]
    )
    shown = results.shown(session, policy.anonymity_threshold, round_id=round_.id)
    timezone = timezone_for(None, team.timezone, policy.default_timezone).key
    rendered: dict[str, dict] = {}
    rows = []
    _rng.shuffle(sent)  # the updates' ids do not follow the surveys' (nor the people's) order
    for user_id, channel, ts in sent:
        profile = profiles.get(user_id)
        locale = pick_locale(
            profile.locale if profile else None, team.locale, default=policy.default_locale
        )
        if locale not in rendered:
            rendered[locale] = render("pulse_closed", locale, team=team, shown=shown)
        rows.append(
            {
                "workspace_id": team.workspace_id,
                "key": f"pulse-closed:{round_.id}:{secrets.token_hex(16)}",
                "kind": "pulse_closed",
                "recipient": channel,
                "payload": {
                    **rendered[locale],
                    "update": {"channel": channel, "ts": ts},
                    "scrub_recipient": True,
                },
                "timezone": timezone,
                "not_before": now,
                "urgent": True,
                "expires_at": now + UPDATE_FOR,
            }
        )
    outbox.enqueue_many(session, rows)  # one statement for the round, not one per person
    return len(rows)
