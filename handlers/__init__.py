"""Slack listeners, one module per feature; each exposes `register(app)`."""

from slack_bolt import App

from handlers import (
    digests,
    expeditions,
    home,
    irritant_triage,
    irritants,
    lifecycle,
    nps,
    pulse,
    symmetry,
    teams,
    walk_form,
    walk_prompts,
)


def register(app: App) -> None:
    """Attach every feature's listeners to the app.

    Bolt tries listeners in the order they were added, at a cost on every request: the two
    slash commands come first (`/irritant` must open its modal while the trigger is alive).
    """
    for feature in (
        symmetry,
        irritants,
        teams,
        home,
        irritant_triage,
        pulse,
        walk_form,
        expeditions,
        lifecycle,
        walk_prompts,
        nps,
        digests,
    ):
        feature.register(app)
