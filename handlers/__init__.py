"""Slack listeners, one module per feature; each exposes `register(app)`."""

from slack_bolt import App

from handlers import commands, home, irritants, lifecycle, pulse, teams, triage


def register(app: App) -> None:
    """Attach every feature's listeners to the app.

    Bolt tries listeners in the order they were added, at a cost on every request: the two
    slash commands come first (`/irritant` must open its modal while the trigger is alive).
    """
    for feature in (commands, irritants, teams, home, triage, pulse, lifecycle):
        feature.register(app)
