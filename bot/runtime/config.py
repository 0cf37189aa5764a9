"""Settings: every environment variable of the outside contract, read once and passed down.

`load_settings()` is the only place that reads the environment (and `.env`). A missing or
invalid value becomes a `ConfigError` whose message names the variable; the CLI turns it into
one line on stderr and exit status 2.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.shared.i18n import LOCALES
from bot.shared.policy import MIN_SECRET_KEY, Policy
from bot.shared.worktime import is_timezone

MIN_METRICS_TOKEN = 24  # characters of SYMMETRY_METRICS_TOKEN

# Which command needs which variable; `require()` enforces it.
REQUIRED_BY = {
    "serve": ("SLACK_SIGNING_SECRET", "SYMMETRY_SECRET_KEY"),
    "socket": ("SLACK_APP_TOKEN", "SYMMETRY_SECRET_KEY"),
    "clock": ("SYMMETRY_SECRET_KEY",),
    "tick": ("SYMMETRY_SECRET_KEY",),
    "worker": ("SYMMETRY_SECRET_KEY",),
}
# Commands that talk to Slack need a bot token (or, in multi-workspace mode, the installations).
NEEDS_SLACK = ("serve", "socket", "clock", "tick", "worker", "team")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    """The program's configuration (see INTERFACE.md for the meaning of each variable)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite:///symmetry.db", validation_alias="DATABASE_URL")
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    port: int = Field(3000, ge=1, le=65535, validation_alias="PORT")
    web_concurrency: int = Field(1, ge=1, le=64, validation_alias="WEB_CONCURRENCY")
    secret_key: str | None = Field(None, validation_alias="SYMMETRY_SECRET_KEY")
    default_locale: str = Field("en", validation_alias="SYMMETRY_DEFAULT_LOCALE")
    default_timezone: str = Field("UTC", validation_alias="SYMMETRY_DEFAULT_TIMEZONE")
    anonymity_threshold: int = Field(5, ge=3, validation_alias="SYMMETRY_ANONYMITY_THRESHOLD")
    retention_days: int = Field(730, ge=1, validation_alias="SYMMETRY_RETENTION_DAYS")
    metrics_token: str | None = Field(None, validation_alias="SYMMETRY_METRICS_TOKEN")
    admins: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), validation_alias=AliasChoices("SYMMETRY_ADMINS")
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str) -> str:
        # Heroku-style platforms hand out postgres:// URLs; SQLAlchemy wants a driver name.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.split("://", 1)[0] or "://" not in value:
            raise ValueError("is not a database URL (expected sqlite:///… or postgresql://…)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        # Whoever holds a database dump has every nonce, team and user ID: only the key's
        # length stands between them and the reporters' hashes.
        if value is not None and len(value) < MIN_SECRET_KEY:
            raise ValueError(
                f"must be at least {MIN_SECRET_KEY} characters (got {len(value)}); generate "
                'one with: python3 -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        return value

    @field_validator("metrics_token")
    @classmethod
    def _guessable(cls, value: str | None) -> str | None:
        # Empty means unset: no /metrics. A short token could be guessed by asking often.
        value = (value or "").strip() or None
        if value is not None and (len(value) < MIN_METRICS_TOKEN or not value.isprintable()):
            raise ValueError(
                f"must be at least {MIN_METRICS_TOKEN} printable characters (got {len(value)}); "
                'generate one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in LOCALES:
            raise ValueError(f"must be one of {', '.join(LOCALES)} (got {value!r})")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError(f"is not an IANA time zone (got {value!r})")
        return value

    @field_validator("admins", mode="before")
    @classmethod
    def _split_admins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def multi_workspace(self) -> bool:
        """True when the app is installed by OAuth rather than with one bot token."""
        return bool(self.slack_client_id and self.slack_client_secret)


_ENV_NAMES = {
    name: field.validation_alias
    for name, field in Settings.model_fields.items()
    if isinstance(field.validation_alias, str)
}
_ENV_NAMES["admins"] = "SYMMETRY_ADMINS"
_ATTRS = {env: attr for attr, env in _ENV_NAMES.items()}


def load_settings(**overrides: object) -> Settings:
    """Read the environment and `.env`; raise ConfigError naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        variable = _ENV_NAMES.get(field, field)
        message = error["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None


def policy_of(settings: Settings) -> Policy:
    """What the domain needs from the settings; a missing secret key is a ConfigError."""
    if not settings.secret_key:
        raise ConfigError("SYMMETRY_SECRET_KEY: required but not set")
    return Policy(
        secret_key=settings.secret_key,
        anonymity_threshold=settings.anonymity_threshold,
        default_locale=settings.default_locale,
        default_timezone=settings.default_timezone,
        admins=settings.admins,
        retention_days=settings.retention_days,
    )


def require(settings: Settings, command: str) -> None:
    """Raise ConfigError when a variable that `command` needs is not set."""
    for variable in REQUIRED_BY.get(command, ()):
        if not getattr(settings, _ATTRS[variable]):
            raise ConfigError(f"{variable}: required by `symmetry {command}` but not set")
    if command in NEEDS_SLACK and not (settings.slack_bot_token or settings.multi_workspace):
        raise ConfigError(
            f"SLACK_BOT_TOKEN: required by `symmetry {command}` unless SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET are set"
        )
