"""The fake Web API's HTTP plumbing: read a request, parse its arguments, hand it to the
simulator, write the answer.

``/api/<method>`` requests are Web API calls; ``/response/<key>`` requests are posts to a
``response_url``; ``/upload/v1/<ticket>`` requests carry a file's raw bytes to the URL
``files.getUploadURLExternal`` issued. Whatever answers them (``SlackSim._serve``) decides what
to reply.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from bot.demo.slack.files import UPLOAD_PATH
from bot.demo.slack.workspace import _Reply, _to_int

_DECODED_KEYS = ("blocks", "view", "attachments", "files", "metadata")


class _Answering(Protocol):
    """What the server hands each request to (``SlackSim``)."""

    def _serve(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        *,
        api: bool = True,
        body: bytes = b"",
    ) -> _Reply: ...


# --------------------------------------------------------------------------- request arguments


def _form(text: str) -> dict[str, Any]:
    """Parse a urlencoded string; repeated keys become lists."""
    parsed = urllib.parse.parse_qs(text, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body; file parts are summarised as name and size."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: dict[str, Any] = {}
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename:
            params[str(name)] = {"filename": filename, "size": len(data)}
        elif name:
            params[str(name)] = data.decode("utf-8", "replace")
    return params


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    """Merge query string and body arguments, decoding JSON-encoded block/view arguments."""
    params = _form(query)
    kind = content_type.split(";", 1)[0].strip().lower()
    if body:
        if kind == "application/json":
            try:
                data = json.loads(body)
            except ValueError:
                data = {"_raw": body.decode("utf-8", "replace")}
            params.update(data if isinstance(data, dict) else {"_body": data})
        elif kind == "multipart/form-data":
            params.update(_multipart(body, content_type))
        else:
            params.update(_form(body.decode("utf-8", "replace")))
    for key in _DECODED_KEYS:
        value = params.get(key)
        if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)
    return params


# --------------------------------------------------------------------------- HTTP server


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server carrying a reference to its simulator.

    It counts the connections it accepted (`accepted`), and `close_connections` ends those
    still open: a client's kept-alive connection would otherwise still be answered by its
    thread after the server stopped accepting new ones.
    """

    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: _Answering) -> None:
        super().__init__(address, _Handler)
        self.sim = sim
        self.accepted = 0
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = super().get_request()
        with self._open_lock:
            self.accepted += 1
            self._open.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every connection still open (its thread then sees the end and returns)."""
        with self._open_lock:
            still_open, self._open = self._open, set()
        for conn in still_open:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay silent when a client disconnects mid-request (no stderr tracebacks)."""


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/api/<method>``, ``/response/<key>`` and upload requests to the simulator."""

    server: _Server
    # HTTP/1.1, as Slack: a client may keep its connection for its next call (every reply has
    # a Content-Length). Each reply is written as soon as it is complete (no Nagle delay
    # behind a client's delayed ACK), and a connection idle for `timeout` seconds is closed.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server_version = "SlackSim/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging to stderr."""

    def do_GET(self) -> None:
        """Handle a GET request (arguments in the query string)."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle a POST request (form, JSON or multipart body)."""
        self._dispatch()

    def _read_body(self) -> bytes:
        """Read the request body, honouring Content-Length or chunked encoding."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        length = _to_int(self.headers.get("Content-Length"), 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        """Parse the request, let the simulator answer it and send the reply."""
        sim = self.server.sim
        try:
            split = urllib.parse.urlsplit(self.path)
            body = self._read_body()
            upload = split.path.startswith(UPLOAD_PATH)
            params: dict[str, Any] = {}
            if not upload:  # a file's raw bytes are not arguments
                params = _parse_params(split.query, body, self.headers.get("Content-Type", ""))
            if upload:
                params["_key"] = urllib.parse.unquote(split.path[len(UPLOAD_PATH) :])
                params["length"] = len(body)
                reply = sim._serve("upload_url", params, None, api=False, body=body)
            elif split.path.startswith("/api/"):
                auth = self.headers.get("Authorization", "")
                token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
                token = token or (str(params["token"]) if params.get("token") else None)
                reply = sim._serve(split.path[len("/api/") :], params, token)
            elif split.path.startswith("/response/"):
                params["_key"] = urllib.parse.unquote(split.path[len("/response/") :])
                reply = sim._serve("response_url", params, None, api=False)
            else:
                reply = _Reply(404, {"ok": False, "error": "not_found"})
        except Exception as exc:  # never leave the client hanging
            reply = _Reply(500, {"ok": False, "error": "sim_internal_error", "detail": repr(exc)})
        self._send(reply)

    def _send(self, reply: _Reply) -> None:
        """Write a reply (JSON for dict payloads, plain text otherwise)."""
        if isinstance(reply.payload, dict):
            data = json.dumps(reply.payload).encode()
            content_type = "application/json; charset=utf-8"
        else:
            data = reply.payload.encode()
            content_type = "text/plain; charset=utf-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
