"""Uploading a file into a conversation through Slack's external upload flow
(`files.getUploadURLExternal`, the upload of the raw bytes, `files.completeUploadExternal`),
which slack_sdk's `files_upload_v2` runs. `channel` is a conversation id (C…, G…, D…, Z…),
never a user id: Slack refuses user ids at completion. Needs the `files:write` scope."""

from __future__ import annotations

import logging
import urllib.error

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

log = logging.getLogger(__name__)


def upload(client: WebClient, *, channel: str, filename: str, title: str, content: bytes) -> bool:
    """Upload `content` into `channel`; False (logged, never raised) when it fails: a file
    that did not make it never holds back the message it goes with."""
    try:
        client.files_upload_v2(
            channel=channel,
            file=content,
            filename=filename,
            title=title,
            request_file_info=False,
        )
    except (SlackClientError, urllib.error.URLError, OSError) as exc:
        # Not the channel: logs name no recipient (a DM's id is its person's).
        log.warning("upload of %s failed: %s", filename, type(exc).__name__)
        return False
    return True
