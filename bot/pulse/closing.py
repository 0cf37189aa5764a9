"""Closing a pulse round, so that nothing kept afterwards ties its answers to a person.

While a round is open, a person's answers are stored under a keyed hash of (round, person),
in the order they were given, and the outbox holds each person's survey and, halfway, the
reminders of those who had not answered. Together these told a dump's holder who answered
late (the reminded; the New York member, whose survey went out last) and then, through the
hash, all their answers. At close, in the clock's transaction, the round's answers and
comments are written again in random order, so that neither their ids nor their physical
order (SQLite's rowid, PostgreSQL's heap) follow the order of answering, under random
pseudonyms that no key recomputes; and the round's messages lose whom they were for.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from storage import pulse as store
from storage.models import PulseRound

# Not `random.random`: an order or a pseudonym that a seed could replay would tie the rows
# to the order of answering again.
_rng = random.SystemRandom()


def pseudonym() -> str:
    """A random stand-in for a person in one closed round (as long as a keyed hash)."""
    return secrets.token_hex(32)


def close(session: Session, round_: PulseRound, *, now: datetime) -> None:
    """Close `round_`: no more answers, its answers shuffled and renamed, its messages
    stripped of their recipients."""
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
    # Issue 13 (closed surveys say they closed) hooks in here: that update needs the survey
    # messages' channel and ts, so this scrub must then wait until it has been delivered.
    store.forget_recipients(session, round_id=round_.id, key=lambda: secrets.token_hex(16), now=now)
