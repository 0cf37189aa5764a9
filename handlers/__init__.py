"""Slack listeners, one module per feature; each exposes `register(app)`."""

from slack_bolt import App

from handlers import commands, home, irritants, lifecycle, pulse, teams, triage


def register(app: App) -> None:
    """Attach every feature's listeners to the app."""
    for feature in (commands, teams, home, irritants, triage, pulse, lifecycle):
        feature.register(app)
