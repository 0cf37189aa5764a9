"""Pulse surveys: short, anonymous rounds in Slack DMs, with eNPS."""
