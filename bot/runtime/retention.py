"""Retention: what the clock deletes once it is old enough, and `symmetry workspace purge`.

- Free texts (`SYMMETRY_RETENTION_DAYS` after what they are about is over): pulse comments
  of closed rounds; what was written about a closed irritant (its description, resolution
  note and the notes of its history); what was written on a sensory walk (notes, closing
  answers, expedition reports). Figures, statuses and dates stay.
- Delivered messages lose their content `DELIVERED_CONTENT` after they were sent.
- A workspace the app was removed from is purged `UNINSTALLED_DATA` after `app_uninstalled`.

Each run does a bounded batch of each, so a tick stays short however much became due at once
(a first run on years of data, a clock that was down): what is left is done by the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.runtime.console import plural
from storage import audit, queries
from storage import retention as store
from storage.db import session_scope

DELIVERED_CONTENT = timedelta(days=30)
UNINSTALLED_DATA = timedelta(days=30)
BATCH = 500  # rows of each kind per tick
PURGES = 1  # workspaces per tick: a purge deletes a whole workspace's rows


@dataclass
class Report:
    """What one run deleted, as the tick's report prints it."""

    comments: int = 0
    irritant_texts: int = 0
    walk_texts: int = 0
    outbox_contents: int = 0
    workspaces: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [
            plural(self.comments, "comment"),
            plural(self.irritant_texts, "irritant text"),
            plural(self.walk_texts, "walk text"),
            plural(self.outbox_contents, "outbox content"),
            plural(len(self.workspaces), "workspace") + " purged",
        ]
        return ", ".join(parts)


def run(
    sessions: sessionmaker[Session], *, now: datetime, retention_days: int, batch: int = BATCH
) -> Report:
    """Delete what is past its retention at `now` (a batch of each kind); idempotent. The
    texts and each workspace's purge are separate transactions: a purge that fails leaves
    the erasing of texts done, and is tried again at the next tick."""
    texts_before = now - timedelta(days=retention_days)
    with session_scope(sessions) as session:
        report = Report(
            comments=store.delete_pulse_comments(session, closed_before=texts_before, limit=batch),
            irritant_texts=store.erase_irritant_texts(
                session, closed_before=texts_before, limit=batch
            ),
            walk_texts=store.erase_walk_texts(session, over_before=texts_before, limit=batch),
            outbox_contents=store.empty_delivered(
                session, sent_before=now - DELIVERED_CONTENT, limit=batch
            ),
        )
    with session_scope(sessions) as session:
        due = store.uninstalled_before(session, before=now - UNINSTALLED_DATA, limit=PURGES)
        slack_team_ids = [workspace.slack_team_id for workspace in due]
    for slack_team_id in slack_team_ids:
        with session_scope(sessions) as session:
            workspace = queries.get_workspace(session, slack_team_id=slack_team_id)
            if workspace is not None:  # another clock may have purged it meanwhile
                counts = store.purge_workspace(session, workspace=workspace)
                audit.record(
                    session,
                    actor=audit.CLOCK,
                    action="workspace.purged",
                    now=now,
                    workspace=slack_team_id,
                    after_days=UNINSTALLED_DATA.days,
                    **counts,
                )
                report.workspaces.append(slack_team_id)
    return report
