"""Answering a survey: one tap per question, change it until the round closes, skip, pause,
comment. Answers store no user ID and no timestamp — only a keyed hash of (round, person).

Every click is checked: the round must be open, the message must be the clicker's own (its
buttons carry a keyed signature of the recipient), the value must be on the scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.pulse import bank
from bot.shared.blocks import render
from bot.shared.i18n import N_, translate
from bot.shared.inputs import number
from bot.shared.policy import Policy
from bot.shared.pseudonyms import keyed_hash
from bot.shared.worktime import zone
from bot.teams.actors import Actor
from storage import pulse as store
from storage.models import PulseRound, Team

MAX_PAUSE = timedelta(days=183)  # "at most six months ahead"
MAX_COMMENT = 1000

ERRORS = {
    "closed": N_(
        "This survey round is closed: answers are no longer taken. Thank you all the same."
    ),
    "not_yours": N_("This survey was sent to someone else: nothing was recorded."),
    "unknown": N_("This survey no longer exists."),
    "out_of_scale": N_("That value is not on this question's scale: nothing was recorded."),
    "pause_past": N_("Choose a date from today on."),
    "pause_too_far": N_("You can pause surveys for six months at most."),
    "comment_empty": N_("Write something, or close this window."),
    "comment_too_long": N_("At most 1000 characters, please."),
}


def error_text(locale: str, code: str) -> str:
    """Why nothing was recorded, in the person's language."""
    return translate(locale, ERRORS[code])


def respondent(policy: Policy, round_id: int, user_id: str) -> str:
    """The keyed hash that stands for a person in one round's answers."""
    return keyed_hash(policy.secret_key, "pulse-answer", str(round_id), user_id)


def signature(policy: Policy, round_id: int, user_id: str) -> str:
    """What a survey message's buttons carry to prove whom the message was sent to."""
    return keyed_hash(policy.secret_key, "pulse-message", str(round_id), user_id)[:24]


def survey_context(
    policy: Policy,
    *,
    round_: PulseRound,
    team: Team,
    user_id: str,
    questions: dict[str, bank.Question],
    answers: dict[str, int],
    locale: str,
    skipped: bool,
) -> dict[str, Any]:
    """What the survey message template needs for one person."""
    asked = [questions[key] for key in round_.questions if key in questions]
    closes_local = round_.closes_at.astimezone(zone(team.timezone))
    return {
        "round": round_,
        "team": team,
        "sig": signature(policy, round_.id, user_id),
        "questions": [
            {
                "key": q.key,
                "text": q.text(locale),
                "buttons": [(value, q.label(value, locale)) for value in q.values],
                "scale": q.scale,
                "low": q.label(q.values[0], locale),
                "high": q.label(q.values[-1], locale),
                "answer": answers.get(q.key),
                "answer_label": q.label(answers[q.key], locale) if q.key in answers else None,
            }
            for q in asked
        ],
        "closes_on": closes_local.date(),
        "skipped": skipped,
        "answered": len(answers),
        "closed": round_.state != "open",
    }


@dataclass
class Click:
    """What a survey button carried: round, question, value, signature."""

    round_id: int
    question: str
    value: int | None
    sig: str

    @classmethod
    def parse(cls, value: str) -> Click | None:
        parts = value.split(":")
        round_id = number(parts[0]) if len(parts) == 4 else None
        if round_id is None:
            return None
        return cls(round_id, parts[1], number(parts[2], signed=True), parts[3])


@dataclass
class Outcome:
    """The person's updated survey message, or why nothing was recorded."""

    message: dict[str, Any] | None = None
    error: str | None = None


def _check(
    session: Session,
    policy: Policy,
    *,
    click: Click,
    user_id: str,
    workspace_id: int,
    now: datetime,
) -> tuple[PulseRound | None, str | None]:
    round_ = store.get_round(session, round_id=click.round_id)
    if round_ is None or round_.team.workspace_id != workspace_id:
        return None, "unknown"
    if click.sig != signature(policy, round_.id, user_id):
        return None, "not_yours"
    if store.participant(session, round_id=round_.id, user_id=user_id) is None:
        return None, "not_yours"
    if round_.state != "open" or now >= round_.closes_at:
        return None, "closed"
    return round_, None


def message_for(
    session: Session, policy: Policy, *, round_: PulseRound, user_id: str, locale: str
) -> dict[str, Any]:
    """A person's survey message as it stands (their answers shown, still changeable)."""
    participant = store.participant(session, round_id=round_.id, user_id=user_id)
    answers = store.answers_of(
        session, round_id=round_.id, respondent=respondent(policy, round_.id, user_id)
    )
    questions = bank.by_key(session, workspace_id=round_.team.workspace_id)
    context = survey_context(
        policy,
        round_=round_,
        team=round_.team,
        user_id=user_id,
        questions=questions,
        answers=answers,
        locale=locale,
        skipped=bool(participant and participant.skipped),
    )
    return render("pulse_survey", locale, **context)


def answer(
    session: Session,
    policy: Policy,
    *,
    click: Click,
    who: Actor,
    now: datetime,
    message: dict[str, Any] | None = None,
) -> Outcome:
    """Record (or change) one answer, and show it in the person's survey message.

    `message` is the survey message the tap came from: when given, it is updated in place
    (the chosen button marked, the answer written under the question) instead of being
    rendered again — a tap is the hottest path of a survey round.
    """
    user_id, workspace_id, locale = who.user_id, who.workspace_id, who.locale
    facts = _round_facts(session, click.round_id)
    if facts is None or facts.workspace_id != workspace_id:
        return Outcome(error=error_text(locale, "unknown"))
    # The buttons carry a keyed signature of the person the message was sent to: a tap
    # signed for someone else, or forged, records nothing.
    if click.sig != signature(policy, click.round_id, user_id):
        return Outcome(error=error_text(locale, "not_yours"))
    if facts.state != "open" or now >= facts.closes_at:
        return Outcome(error=error_text(locale, "closed"))
    question = bank.cached_by_key(session, workspace_id=workspace_id).get(click.question)
    if question is None or click.question not in facts.questions:
        return Outcome(error=error_text(locale, "unknown"))
    if click.value is None or click.value not in question.values:
        return Outcome(error=error_text(locale, "out_of_scale"))
    store.save_answer(
        session,
        round_id=click.round_id,
        question=click.question,
        respondent=respondent(policy, click.round_id, user_id),
        value=click.value,
    )
    if message and message.get("blocks"):
        return Outcome(message=marked(message, question=question, value=click.value, locale=locale))
    round_ = store.get_round(session, round_id=click.round_id)
    return Outcome(
        message=message_for(session, policy, round_=round_, user_id=user_id, locale=locale)
    )


def _round_facts(session: Session, round_id: int) -> store.RoundFacts | None:
    return store.round_facts(session, round_id=round_id)


def marked(message: dict[str, Any], *, question: bank.Question, value: int, locale: str) -> dict:
    """The survey message with `value` chosen for `question` (as the template would show it).

    `message` is left as it is: the two blocks that change are copied (their changed parts),
    the others are shared with it, which a tap's reply only serialises.
    """
    blocks = []
    for block in message["blocks"]:
        if block.get("block_id") == f"a-{question.key}" and "elements" in block:
            elements = []
            for element in block["elements"]:
                element = {key: item for key, item in element.items() if key != "style"}
                if element.get("action_id") == f"pulse_answer:{value}":
                    element["style"] = "primary"
                elements.append(element)
            block = {**block, "elements": elements}
        elif block.get("block_id") == f"q-{question.key}":
            asked = block["text"]["text"].split("\n", 1)[0]
            answer = translate(
                locale, "Your answer: %(answer)s", answer=question.label(value, locale)
            )
            block = {**block, "text": {**block["text"], "text": f"{asked}\n{answer}"}}
        blocks.append(block)
    return {"text": message.get("text", ""), "blocks": blocks}


def skip(
    session: Session,
    policy: Policy,
    *,
    click: Click,
    who: Actor,
    now: datetime,
) -> Outcome:
    """Skip this round: no reminder, answers already given still count."""
    user_id, workspace_id, locale = who.user_id, who.workspace_id, who.locale
    round_, error = _check(
        session, policy, click=click, user_id=user_id, workspace_id=workspace_id, now=now
    )
    if round_ is None:
        return Outcome(error=error_text(locale, error or "unknown"))
    participant = store.participant(session, round_id=round_.id, user_id=user_id)
    participant.skipped = True
    return Outcome(
        message=message_for(session, policy, round_=round_, user_id=user_id, locale=locale)
    )


def comment(
    session: Session,
    policy: Policy,
    *,
    click: Click,
    who: Actor,
    text: str,
    now: datetime,
) -> dict[str, str]:
    """Keep an optional comment on the round; {block: error} when refused."""
    user_id, workspace_id, locale = who.user_id, who.workspace_id, who.locale
    round_, error = _check(
        session, policy, click=click, user_id=user_id, workspace_id=workspace_id, now=now
    )
    if round_ is None:
        return {"comment": error_text(locale, error or "unknown")}
    text = text.strip()
    if not text:
        return {"comment": error_text(locale, "comment_empty")}
    if len(text) > MAX_COMMENT:
        return {"comment": error_text(locale, "comment_too_long")}
    store.save_comment(
        session, round_id=round_.id, respondent=respondent(policy, round_.id, user_id), text=text
    )
    return {}


def pause(
    session: Session,
    *,
    who: Actor,
    until: date | None,
    now: datetime,
) -> dict[str, str]:
    """Pause surveys until a date (inclusive, at most six months ahead, counted in the
    person's own calendar); {block: error}."""
    user_id, workspace_id, locale = who.user_id, who.workspace_id, who.locale
    today = who.today(now)
    if until is None or until < today:
        return {"until": error_text(locale, "pause_past")}
    if until > today + MAX_PAUSE:
        return {"until": error_text(locale, "pause_too_far")}
    store.set_pause(session, workspace_id=workspace_id, user_id=user_id, until=until)
    # Surveys and reminders still waiting in the outbox for this person are not sent.
    store.cancel_queued(session, keys_like=f"pulse%:%:{user_id}", reason="paused", now=now)
    return {}
