"""The Slack app manifest: `symmetry manifest [--url BASE_URL]`.

The scopes are the least that work: commands; chat:write to send DMs and messages;
users:read for timezones, locales and admin flags; channels:read and groups:read to list a
team channel's members; channels:join so the bot can join a public team channel and get its
join/leave events; files:write to upload the weekly digest's chart into the manager's DM;
im:history and im:write to find, after a crash, whether a message in doubt already reached
its DM (the bot reads back its own DMs only, from a minute before the attempt: see
bot/runtime/lookup.py), so that nobody gets it twice.
"""

from __future__ import annotations

from typing import Any

import yaml

BOT_SCOPES = (
    "channels:join",
    "channels:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "im:history",
    "im:write",
    "users:read",
)

BOT_EVENTS = (
    "app_home_opened",
    "app_uninstalled",
    "member_joined_channel",
    "member_left_channel",
    "tokens_revoked",
)

# An HTTP app is org-ready (`org_deploy_enabled`): an Enterprise Grid admin may install it for
# the whole organisation, and it is then told which workspaces the organisation grants it.
ORG_EVENTS = ("team_access_granted", "team_access_revoked")

COMMANDS = (
    ("/irritant", "Report an everyday irritant", "[what bothers you] | list | help"),
    ("/symmetry", "Symmetry: help, team setup, survey settings", "help | team | survey"),
)


def build(url: str | None = None) -> dict[str, Any]:
    """The manifest; with a base URL an HTTP app, without one a Socket Mode app."""
    events_url = f"{url.rstrip('/')}/slack/events" if url else None
    commands = []
    for name, description, hint in COMMANDS:
        command: dict[str, Any] = {
            "command": name,
            "description": description,
            "usage_hint": hint,
            "should_escape": False,
        }
        if events_url:
            command["url"] = events_url
        commands.append(command)
    event_subscriptions: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    oauth_config: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if events_url:
        event_subscriptions["bot_events"] += list(ORG_EVENTS)
        event_subscriptions["request_url"] = events_url
        interactivity["request_url"] = events_url
        oauth_config["redirect_urls"] = [f"{url.rstrip('/')}/slack/oauth_redirect"]
    return {
        "display_information": {
            "name": "Symmetry",
            "description": "Give employees the attention you give customers.",
            "long_description": (
                "Symmetry helps teams hunt everyday irritants with /irritant, listen with short "
                "anonymous pulse surveys (eNPS included), guide managers through a quarterly "
                "sensory walk and send them a weekly digest of what was reported, felt and "
                "fixed. Anonymous answers carry no user ID and are only shown for groups large "
                "enough to stay anonymous. Available in English and French."
            ),
            "background_color": "#2c5f5d",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Symmetry", "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": oauth_config,
        "settings": {
            "event_subscriptions": event_subscriptions,
            "interactivity": interactivity,
            "org_deploy_enabled": events_url is not None,
            "socket_mode_enabled": url is None,
            "token_rotation_enabled": False,
        },
    }


def render_yaml(url: str | None = None) -> str:
    """The manifest as YAML, keys in a readable order."""
    return yaml.safe_dump(build(url), sort_keys=False, allow_unicode=True, width=100)
