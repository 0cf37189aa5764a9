"""Slack listeners, one module per feature; each exposes `register(app)`."""

from slack_bolt import App

from handlers import commands, home, irritants, lifecycle, teams, triage


def register(app: App) -> None:
    """Attach every feature's listeners to the app."""
    for feature in (commands, teams, home, irritants, triage, lifecycle):
        feature.register(app)
