"""Settings: defaults, normalisation, and one clear line for each bad value."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.runtime.config import ConfigError, load_settings, require
from bot.shared.policy import Policy

ENV_VARS = (
    "DATABASE_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_API_URL",
    "PORT",
    "SYMMETRY_SECRET_KEY",
    "SYMMETRY_DEFAULT_LOCALE",
    "SYMMETRY_DEFAULT_TIMEZONE",
    "SYMMETRY_ANONYMITY_THRESHOLD",
    "SYMMETRY_ADMINS",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No variable of the contract, and no .env, leaks in from the machine."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


class TestLoadSettings:
    def test_defaults_follow_the_contract(self):
        """With nothing set, the defaults are the contract's."""
        settings = load_settings()
        assert settings.database_url == "sqlite:///symmetry.db"
        assert settings.slack_api_url == "https://slack.com/api/"
        assert (settings.port, settings.default_locale, settings.default_timezone) == (
            3000,
            "en",
            "UTC",
        )
        assert settings.anonymity_threshold == 5
        assert settings.admins == frozenset()

    @pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
    def test_postgres_urls_mean_psycopg3(self, monkeypatch, scheme):
        """postgres:// and postgresql:// URLs are normalised to the psycopg 3 driver."""
        monkeypatch.setenv("DATABASE_URL", f"{scheme}://u:p@db:5432/app")
        assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/app"

    def test_admins_are_split_on_commas(self, monkeypatch):
        """SYMMETRY_ADMINS is a comma-separated list; blanks are ignored."""
        monkeypatch.setenv("SYMMETRY_ADMINS", " U1, U2,,U3 ")
        assert load_settings().admins == {"U1", "U2", "U3"}

    def test_dotenv_file_is_read(self, tmp_path):
        """A .env file in the working directory provides values."""
        (tmp_path / ".env").write_text("SYMMETRY_DEFAULT_LOCALE=fr\nPORT=8080\n")
        settings = load_settings()
        assert (settings.default_locale, settings.port) == ("fr", 8080)

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("SYMMETRY_ANONYMITY_THRESHOLD", "2"),
            ("SYMMETRY_ANONYMITY_THRESHOLD", "many"),
            ("SYMMETRY_DEFAULT_LOCALE", "de"),
            ("SYMMETRY_DEFAULT_TIMEZONE", "Mars/Olympus"),
            ("PORT", "99999"),
            ("SLACK_API_URL", "ftp://example"),
            ("DATABASE_URL", "not a url"),
        ],
    )
    def test_invalid_values_name_the_variable(self, monkeypatch, variable, value):
        """An invalid value raises ConfigError whose message starts with the variable."""
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        assert str(caught.value).startswith(f"{variable}: ")


class TestRequire:
    def test_serve_needs_the_signing_secret(self):
        """serve without SLACK_SIGNING_SECRET is refused, naming it."""
        settings = load_settings(SYMMETRY_SECRET_KEY="k" * 32, SLACK_BOT_TOKEN="xoxb-1")
        with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET"):
            require(settings, "serve")

    def test_socket_needs_the_app_token(self):
        """socket without SLACK_APP_TOKEN is refused, naming it."""
        settings = load_settings(SYMMETRY_SECRET_KEY="k" * 32, SLACK_BOT_TOKEN="xoxb-1")
        with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN"):
            require(settings, "socket")

    def test_tick_needs_the_secret_key(self):
        """tick without SYMMETRY_SECRET_KEY is refused, naming it."""
        with pytest.raises(ConfigError, match=r"^SYMMETRY_SECRET_KEY"):
            require(load_settings(SLACK_BOT_TOKEN="xoxb-1"), "tick")

    def test_oauth_mode_replaces_the_bot_token(self):
        """With a client ID and secret, serve needs no bot token."""
        settings = load_settings(
            SLACK_SIGNING_SECRET="s",
            SYMMETRY_SECRET_KEY="k" * 32,
            SLACK_CLIENT_ID="1.2",
            SLACK_CLIENT_SECRET="c",
        )
        require(settings, "serve")
        assert settings.multi_workspace


class TestSecretKey:
    def test_a_short_key_is_refused_naming_the_variable(self):
        """31 characters are refused, with the way to make a good key."""
        with pytest.raises(ConfigError, match=r"^SYMMETRY_SECRET_KEY: must be at least 32") as err:
            load_settings(SYMMETRY_SECRET_KEY="x" * 31)
        assert "secrets.token_urlsafe" in str(err.value)

    def test_32_characters_are_enough(self):
        """The shortest key accepted is 32 characters long."""
        assert load_settings(SYMMETRY_SECRET_KEY="x" * 32).secret_key == "x" * 32

    def test_the_policy_refuses_a_short_key_too(self):
        """No path that skips the settings can hash with a short key."""
        with pytest.raises(ValueError, match="SYMMETRY_SECRET_KEY"):
            Policy(secret_key="short")


class TestCommandLineErrors:
    @pytest.mark.parametrize(
        ("env", "command", "variable"),
        [
            ({}, ["serve"], "SLACK_SIGNING_SECRET"),
            ({"SYMMETRY_ANONYMITY_THRESHOLD": "2"}, ["serve"], "SYMMETRY_ANONYMITY_THRESHOLD"),
            ({"SYMMETRY_DEFAULT_LOCALE": "es"}, ["team", "list"], "SYMMETRY_DEFAULT_LOCALE"),
            # A short key lets whoever holds a dump brute-force the reporters' hashes.
            ({"SYMMETRY_SECRET_KEY": "x" * 31}, ["tick"], "SYMMETRY_SECRET_KEY"),
        ],
    )
    def test_exit_2_with_one_line(self, tmp_path, env, command, variable):
        """A bad setting exits 2 with one line on stderr naming the variable, no traceback."""
        result = subprocess.run(
            [sys.executable, "-m", "bot", *command],
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert variable in lines[0]
        assert "Traceback" not in result.stderr
