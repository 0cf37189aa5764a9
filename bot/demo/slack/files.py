"""Files shared through Slack's external upload flow, run as Slack runs it.

1. ``files.getUploadURLExternal`` (``filename`` and ``length`` required) issues a file id and
   an upload URL on the simulator (``/upload/v1/<ticket>``, as Slack's are on files.slack.com);
2. the client POSTs the raw bytes to that URL, with no token (the URL is the credential): the
   answer is ``200 OK - <bytes>``; an URL never issued, or already completed, is ``404``;
3. ``files.completeUploadExternal`` (``files``: a JSON array of ``{"id", "title"}``) shares the
   files in ``channel_id``, a conversation id (C…, G…, D…, Z…): a user id is refused as Slack
   refuses it (``invalid_arguments``), every file must have been issued and uploaded
   (``file_not_found`` otherwise, and then none is shared), and a file is completed once.

Two liberties, both said here: Slack documents no check of the bytes against the declared
``length``, so the simulator keeps both (``SimFile.length`` beside ``content``); and Slack's
pattern for ``channel_id`` also wants eight or more characters after the letter, which the
simulated workspaces' ids (``DU1``, ``DU0MARC``) do not have, so only the letter and the
alphabet are checked.
"""

from __future__ import annotations

import itertools
import json
import mimetypes
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.demo.slack.workspace import _ApiError, _Reply, _Workspace

_CONVERSATION = re.compile(r"[CGDZ][A-Z0-9]+")
# What Slack answers for a channel_id that is not a conversation id (a user id, say).
_NOT_A_CONVERSATION = (
    "[ERROR] input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ [json-pointer:/channel_id]"
)
UPLOAD_PATH = "/upload/v1/"


@dataclass(frozen=True)
class SimFile:
    """A file completed through the external upload flow: the conversation it was shared in
    (None when completed without ``channel_id``: a private file), its name, title and bytes,
    and the length declared when its upload URL was asked for."""

    id: str
    filename: str
    title: str
    content: bytes
    length: int
    channel: str | None


@dataclass
class _Upload:
    """A file id issued by ``files.getUploadURLExternal``, and what became of it."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    completed: bool = False


def _missing(field: str) -> _ApiError:
    return _ApiError("invalid_arguments", f"[ERROR] missing required field: {field}")


def _length(params: dict[str, Any]) -> int:
    """The declared ``length``: required, an integer, and not 0 (Slack's missing_argument)."""
    raw = params.get("length")
    if raw is None or raw == "":
        raise _missing("length")
    try:
        length = int(raw)
    except (TypeError, ValueError):
        raise _ApiError(
            "invalid_arguments", "[ERROR] must be an integer [json-pointer:/length]"
        ) from None
    if length == 0:
        raise _ApiError("missing_argument")
    if length < 0:
        raise _ApiError("invalid_arguments", "[ERROR] must be positive [json-pointer:/length]")
    return length


def _entries(raw: Any) -> list[dict[str, Any]]:
    """The ``files`` argument: a non-empty JSON array of objects, each with an ``id``."""
    if raw is None or raw == "":
        raise _missing("files")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise _ApiError(
                "invalid_arguments", "[ERROR] invalid JSON [json-pointer:/files]"
            ) from None
    if not isinstance(raw, list) or not raw:
        raise _ApiError(
            "invalid_arguments", "[ERROR] must be a non-empty array [json-pointer:/files]"
        )
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise _missing("files/id")
    return raw


class _Files:
    """The files of a simulated workspace; always called with the simulator's lock held."""

    def __init__(self, workspace: _Workspace, base: Callable[[], str]) -> None:
        self.workspace = workspace
        self.base = base  # the running server's root URL, for the upload URLs
        self.uploads: dict[str, _Upload] = {}  # by file id
        self.tickets: dict[str, str] = {}  # upload URL ticket -> file id
        self.shared: list[SimFile] = []
        self._seq = itertools.count(1)
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "files.getUploadURLExternal": self.get_upload_url_external,
            "files.completeUploadExternal": self.complete_upload_external,
        }

    def clear(self) -> None:
        """Forget every upload and shared file (file ids keep counting)."""
        self.uploads.clear()
        self.tickets.clear()
        self.shared.clear()

    def get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and the URL its bytes go to."""
        filename = str(params.get("filename") or "")
        if not filename:
            raise _missing("filename")
        length = _length(params)
        if len(str(params.get("alt_txt") or "")) > 1000:
            raise _ApiError("alt_txt_too_large")
        file_id = f"F0SIM{next(self._seq):06d}"
        ticket = secrets.token_urlsafe(24)
        self.uploads[file_id] = _Upload(file_id, filename, length)
        self.tickets[ticket] = file_id
        return {"upload_url": f"{self.base()}{UPLOAD_PATH}{ticket}", "file_id": file_id}

    def receive(self, ticket: str, content: bytes) -> _Reply:
        """A POST to an upload URL: keep the raw bytes (sent again before completion, the
        last ones count)."""
        upload = self.uploads.get(self.tickets.get(ticket, ""))
        if upload is None or upload.completed:
            return _Reply(404, "Not Found")
        upload.content = content
        return _Reply(200, f"OK - {len(content)}")

    def complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        """``files.completeUploadExternal``: share uploaded files in a conversation, all or
        none of them."""
        entries = _entries(params.get("files"))
        channel = str(params.get("channel_id") or "") or None
        if channel is not None:
            self._check_conversation(channel)
        uploads = [self.uploads.get(entry["id"]) for entry in entries]
        for upload in uploads:
            if upload is None or upload.content is None or upload.completed:
                raise _ApiError("file_not_found")
        completed = []
        for entry, upload in zip(entries, uploads, strict=True):
            assert upload is not None and upload.content is not None  # checked above
            upload.completed = True
            title = str(entry.get("title") or upload.filename)
            shared = SimFile(
                upload.id, upload.filename, title, upload.content, upload.length, channel
            )
            self.shared.append(shared)
            completed.append(self._file_json(shared))
        return {"files": completed}

    def _check_conversation(self, channel: str) -> None:
        """Refuse what Slack refuses: a user id, an unknown or hidden conversation, a channel
        the bot is not in."""
        if not _CONVERSATION.fullmatch(channel):
            raise _ApiError("invalid_arguments", _NOT_A_CONVERSATION)
        workspace = self.workspace
        if channel.startswith("D"):
            if channel[1:] not in workspace.users:
                raise _ApiError("channel_not_found")
            return
        found = workspace.channels.get(channel)
        if found is None or (found.is_private and workspace.bot_user_id not in found.members):
            raise _ApiError("channel_not_found")
        if workspace.bot_user_id not in found.members:
            raise _ApiError("not_in_channel")

    def _file_json(self, shared: SimFile) -> dict[str, Any]:
        """A completed file, as the answer to files.completeUploadExternal lists it."""
        mimetype = mimetypes.guess_type(shared.filename)[0] or "application/octet-stream"
        return {
            "id": shared.id,
            "created": int(time.time()),
            "name": shared.filename,
            "title": shared.title,
            "mimetype": mimetype,
            "filetype": shared.filename.rpartition(".")[2].lower(),
            "size": len(shared.content),
            "user": self.workspace.bot_user_id,
            "mode": "hosted",
        }
