"""The demo's simulated workspace: a Lyon workshop and its shop, their people, their channels,
another app's bot.

People speak French or English and live in different time zones, as in the real product's
workspaces. Scenes refer to them by the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.demo.slack import SimChannel, SimUser, SlackSim
from bot.shared.i18n import N_

WORKSPACE_ID = "T0LUMIERE"
WORKSPACE_NAME = "Maison Lumière"
TEAM_NAME = "Atelier Lyon"
SHOP_NAME = "Boutique Lyon"  # a second, smaller team, added from a terminal for pulse surveys


@dataclass(frozen=True)
class Member:
    """A simulated person and the part they play in the story."""

    user: SimUser
    role: str  # English, marked with N_ and translated when shown

    @property
    def id(self) -> str:
        """The Slack user ID."""
        return self.user.id

    @property
    def first_name(self) -> str:
        """The name the narration uses."""
        return self.user.real_name.split()[0]

    @property
    def language(self) -> str:
        """`FR` or `EN`, from the Slack locale."""
        return self.user.locale.split("-")[0].upper()


def _person(user_id: str, real_name: str, tz: str, locale: str, role: str, **extra: bool) -> Member:
    name = real_name.split()[0].lower().replace("é", "e").replace("è", "e")
    return Member(SimUser(user_id, name, real_name, tz=tz, locale=locale, **extra), role)


AMELIE = _person("U0AMELIE", "Amélie Laurent", "Europe/Paris", "fr-FR", N_("admin"), is_admin=True)
MARC = _person("U0MARC", "Marc Lefèvre", "Europe/Paris", "fr-FR", N_("manager"))
SOFIA = _person("U0SOFIA", "Sofia Rossi", "Europe/London", "en-GB", N_("technician"))
DAVID = _person("U0DAVID", "David Chen", "America/New_York", "en-US", N_("technician"))
JULIEN = _person("U0JULIEN", "Julien Moreau", "Europe/Paris", "fr-FR", N_("technician"))
CHLOE = _person("U0CHLOE", "Chloé Martin", "Europe/Paris", "fr-FR", N_("new technician"))
EMMA = _person("U0EMMA", "Emma Clarke", "Europe/Paris", "en-GB", N_("technician"))
HUGO = _person("U0HUGO", "Hugo Bernard", "Europe/Paris", "fr-FR", N_("technician"))
INES = _person("U0INES", "Inès Fontaine", "Europe/Paris", "fr-FR", N_("shop assistant"))
OLIVER = _person("U0OLIVER", "Oliver Grant", "Europe/Paris", "en-GB", N_("shop assistant"))
PEOPLE = (AMELIE, MARC, SOFIA, DAVID, JULIEN, CHLOE, EMMA, HUGO, INES, OLIVER)


def person(user_id: str | None) -> Member | None:
    """The cast member with this Slack user ID (or DM ID), if any."""
    for candidate in PEOPLE:
        if user_id in (candidate.id, "D" + candidate.id):
            return candidate
    return None


OTHER_BOT = SimUser("U0TRELLO", "trello", "Trello", is_bot=True)
TEAM_CHANNEL = "C0ATELIER"
TEAM_CHANNEL_NAME = "atelier-lyon"
SHOP_CHANNEL = "C0BOUTIQUE"
SHOP_CHANNEL_NAME = "boutique-lyon"
GENERAL = "C0GENERAL"


def workspace() -> SlackSim:
    """A new, not yet started simulator holding the cast and their channels.

    #atelier-lyon starts with Marc, Sofia, David, Julien, Emma, Hugo and the Trello bot (five
    people besides its manager: enough for its anonymous reports to reach him); Chloé joins
    it during the story. #boutique-lyon has Amélie, Inès and Oliver. Everyone is in #general.
    """
    sim = SlackSim(team_id=WORKSPACE_ID, team_name=WORKSPACE_NAME)
    for person in PEOPLE:
        sim.add_user(person.user)
    sim.add_user(OTHER_BOT)
    crew = [MARC.id, SOFIA.id, DAVID.id, JULIEN.id, EMMA.id, HUGO.id, OTHER_BOT.id]
    sim.add_channel(SimChannel(TEAM_CHANNEL, TEAM_CHANNEL_NAME, crew))
    shop = [AMELIE.id, INES.id, OLIVER.id]
    sim.add_channel(SimChannel(SHOP_CHANNEL, SHOP_CHANNEL_NAME, shop))
    sim.add_channel(SimChannel(GENERAL, "general", [p.id for p in PEOPLE]))
    return sim
