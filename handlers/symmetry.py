"""`/symmetry`: help for everyone, `team` and `survey` for admins (and managers, for their
team's survey), `walk` for a team's managers, `nps` and `digest` (handlers.digests) for admins
and managers; anything else answers with help."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.digests import nps_ui
from bot.pulse import settings_ui
from bot.runtime import usage
from bot.runtime.services import Services
from bot.teams import setup_modal
from bot.walks import walking
from handlers.common import ack_kept, actor
from handlers.digests import open_digest


def symmetry_command(
    ack: Ack, body: dict, client: WebClient, context: BoltContext, respond: Respond
) -> None:
    services: Services = context["services"]
    subcommand, _rest = usage.parse(body.get("text", ""))
    if subcommand == "digest":
        open_digest(ack, body, client, context, respond)
        return
    unknown = None if subcommand in usage.SUBCOMMANDS else subcommand
    if subcommand not in ("team", "survey", "walk", "nps"):
        who = actor(context, body, ask_slack=False)
        if who.profiled:
            # The answer is the acknowledgement itself: no Slack call before it.
            if unknown is None:
                ack_kept(ack, usage.plain_help(who.locale))
            else:
                ack(**usage.help_message(who.locale, unknown=unknown))
            return
        ack()
        who = actor(context, body, client)  # first contact: the language Slack knows
        respond(**usage.help_message(who.locale, unknown=unknown))
        return
    ack()
    # The walk is for a team's managers: being an admin neither allows nor needs it.
    who = actor(context, body, client, roles=True, admin=subcommand != "walk")
    with services.session() as session:
        if subcommand == "walk":
            view, text = walking.command_opening(session, who=who, now=services.now())
            refusal = {"response_type": "ephemeral", "text": text}
        elif subcommand == "survey":
            view, refusal = settings_ui.opening(session, who=who)
        elif subcommand == "nps":
            view, refusal = nps_ui.opening(session, who=who, now=services.now())
        else:
            view, refusal = setup_modal.opening(session, services.policy, who=who)
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    else:
        respond(**refusal)


def register(app: App) -> None:
    app.command("/symmetry")(symmetry_command)
