"""Token rotation for the processes Slack never calls: the clock and the workers.

With token rotation turned on for the app, a bot token lives twelve hours and is renewed with
a refresh token (`oauth.v2.access`, `grant_type=refresh_token`). Bolt renews it when a request
comes in; the clock and the workers, which send without any request, renew it themselves
before they use it: a token expiring within `REFRESH_BEFORE` is refreshed, and the rotated
installation is stored where Bolt reads it, so the web processes pick the new token up too.
"""

from __future__ import annotations

import logging
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackTokenRotationError
from slack_sdk.oauth.installation_store import Bot, InstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator

log = logging.getLogger(__name__)

REFRESH_BEFORE = 120 * 60  # seconds: Bolt's own margin
# After a failed refresh, the old token (still valid for up to REFRESH_BEFORE) is used and a
# refresh tried again this much later, not on every message.
RETRY_AFTER = 30.0


def rotator(client_id: str, client_secret: str, client: WebClient) -> TokenRotator:
    """The rotator, calling `oauth.v2.access` through `client` (at SLACK_API_URL)."""
    return TokenRotator(client_id=client_id, client_secret=client_secret, client=client)


def fresh_bot(store: InstallationStore, rotator: TokenRotator, bot: Bot) -> Bot:
    """`bot` with a token good for more than `REFRESH_BEFORE`: refreshed and stored when it
    expires sooner (the whole installation when one holds this token, as Bolt stores it, else
    the bot alone). A token that does not rotate is returned as it is; so is one whose
    refresh Slack refused (logged; it is tried again after `trusted_for`)."""
    if bot.bot_token_expires_at is None or not bot.bot_refresh_token:
        return bot
    if bot.bot_token_expires_at > time.time() + REFRESH_BEFORE:
        return bot
    minutes = REFRESH_BEFORE // 60
    try:
        installation = store.find_installation(
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            is_enterprise_install=bot.is_enterprise_install,
        )
        if installation is not None and installation.bot_token == bot.bot_token:
            rotated = rotator.perform_token_rotation(
                installation=installation, minutes_before_expiration=minutes
            )
            if rotated is not None:
                store.save(rotated)
                return rotated.to_bot()
            return bot
        rotated_bot = rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=minutes)
    except SlackTokenRotationError as exc:
        error = exc.api_error.response.get("error") if exc.api_error.response else None
        log.warning("bot token of team %s: refresh refused (%s)", bot.team_id, error)
        return bot
    if rotated_bot is None:
        return bot
    store.save_bot(rotated_bot)
    return rotated_bot


def trusted_for(bot: Bot | None, ttl: float) -> float:
    """Seconds a client made with `bot`'s token may be kept: `ttl`, but never past the moment
    its token is due a refresh (after a failed refresh, `RETRY_AFTER`, and never past the
    token's expiry)."""
    expires_at = bot.bot_token_expires_at if bot is not None else None
    if expires_at is None:
        return ttl
    left = expires_at - time.time()
    if left > REFRESH_BEFORE:
        return min(ttl, left - REFRESH_BEFORE)
    return max(0.0, min(ttl, RETRY_AFTER, left))  # its refresh just failed
