"""A simulated Slack workspace: a fake Web API server plus Slack's side towards the app.

``SlackSim`` answers the Slack Web API methods Symmetry uses from an in-memory workspace,
records every call, and can script failures and latency; ``SlackClientSim`` builds realistic,
correctly signed slash command, interactivity and Events API payloads and POSTs them to the app
under test. The package uses the standard library only (plus ``slack_sdk`` for signatures) and
is shared by the test suite, the ``symmetry demo`` command and the benchmarks.

* ``workspace.py``: the workspace's state (people, channels, views) and its Web API methods;
* ``httpd.py``: the HTTP server that reads requests and writes answers;
* ``files.py``: files shared through the external upload flow (``SimFile``);
* ``history.py``: the messages posted, kept per conversation, and ``conversations.history``;
* ``webapi.py``: ``SlackSim``, the simulator itself (calls recorded, failures, latency);
* ``events.py``: ``SlackClientSim``, ``sign`` and ``form_values``, the platform side.
"""

from bot.demo.slack.events import Response, SlackClientSim, form_values, sign
from bot.demo.slack.files import SimFile
from bot.demo.slack.webapi import SlackSim

# The `X as X` names are outside __all__ but stay importable from here, as before the split
# (bench/pulse.py uses BOT_ID, bench/fanout.py _Reply).
from bot.demo.slack.workspace import BOT_ID as BOT_ID
from bot.demo.slack.workspace import SLACKBOT_ID as SLACKBOT_ID
from bot.demo.slack.workspace import TRIGGER_TTL as TRIGGER_TTL
from bot.demo.slack.workspace import Call, SimChannel, SimUser
from bot.demo.slack.workspace import _Reply as _Reply

__all__ = [
    "Call",
    "Response",
    "SimChannel",
    "SimFile",
    "SimUser",
    "SlackClientSim",
    "SlackSim",
    "form_values",
    "sign",
]
