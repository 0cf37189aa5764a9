"""The one-click deploy: app.json (Heroku-style) against the settings and the Procfile."""

from __future__ import annotations

import json

from bot.runtime.config import Settings, load_settings
from tests.conftest import ROOT

# Variables a Procfile deploy does not set itself, and why.
NOT_IN_APP_JSON = {
    "DATABASE_URL": "set by the PostgreSQL add-on",
    "PORT": "set by the platform for the web process",
    "SLACK_APP_TOKEN": "Socket Mode (`symmetry socket`), for development, not a web deploy",
    "SLACK_API_URL": "points the program at a simulated Slack (tests, demo)",
}


def app_json() -> dict:
    return json.loads((ROOT / "app.json").read_text(encoding="utf-8"))


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(tuple(part.strip() for part in line.split(":", 1)) for line in lines if line)


def setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names |= set(choices) if choices else {alias}
    return {name for name in names if isinstance(name, str)}


class TestAppJson:
    def test_names_every_setting_a_deploy_needs(self):
        """Every variable the settings read is in app.json's env, save those the platform or
        the add-on sets and the development-only ones, each described."""
        env = app_json()["env"]
        assert setting_names() - set(NOT_IN_APP_JSON) <= set(env)
        assert not set(NOT_IN_APP_JSON) & set(env)
        for name, spec in env.items():
            assert spec["description"], name

    def test_secrets_are_generated_and_slack_ones_asked(self):
        """The keys Heroku can make are generated (`secret`: 64 hex characters, long enough
        for both settings); the Slack credentials are asked for, the signing secret required."""
        env = app_json()["env"]
        assert env["SYMMETRY_SECRET_KEY"]["generator"] == "secret"
        assert env["SYMMETRY_METRICS_TOKEN"]["generator"] == "secret"
        assert env["SLACK_SIGNING_SECRET"]["required"] is True
        generated = "0123456789abcdef" * 4
        settings = load_settings(SYMMETRY_SECRET_KEY=generated, SYMMETRY_METRICS_TOKEN=generated)
        assert settings.metrics_token == generated
        values = {name: spec["value"] for name, spec in env.items() if "value" in spec}
        load_settings(**values)  # the defaults it offers are valid

    def test_postgres_formation_and_scripts_match_the_procfile(self):
        """PostgreSQL is the add-on; the formation names the Procfile's web, clock and worker;
        the release phase and the postdeploy script both migrate."""
        manifest, processes = app_json(), procfile()
        assert [a["plan"] for a in manifest["addons"]] == ["heroku-postgresql"]
        assert set(manifest["formation"]) == {"web", "clock", "worker"}
        assert set(manifest["formation"]) <= set(processes)
        assert processes == {
            "web": "symmetry serve",
            "clock": "symmetry clock",
            "worker": "symmetry worker",
            "release": "symmetry db upgrade",
        }
        assert manifest["scripts"]["postdeploy"] == processes["release"]
        assert manifest["formation"]["clock"]["quantity"] == 1
