"""Web API client construction and token checks."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler, AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.settings import Settings

_TOKEN_HELP = "api.slack.com/apps → your app"


def bot_token(settings: Settings) -> str:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if not token:
        raise ConfigError("SLACK_BOT_TOKEN is not set", f"copy the Bot User OAuth Token (xoxb-…) from {_TOKEN_HELP} → OAuth & Permissions")
    if not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must start with xoxb-", f"use the Bot User OAuth Token from {_TOKEN_HELP} → OAuth & Permissions")
    return token


def app_token(settings: Settings) -> str:
    token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if not token:
        raise ConfigError("SLACK_APP_TOKEN is not set", f"create an app-level token with connections:write at {_TOKEN_HELP} → Basic Information")
    if not token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must start with xapp-", f"use the app-level token from {_TOKEN_HELP} → Basic Information → App-Level Tokens")
    return token


def make_web_client(settings: Settings) -> AsyncWebClient:
    """A client that honours 429 Retry-After and retries 5xx, as slack_sdk only retries connection errors by default."""
    kwargs = {"base_url": settings.slack_api_url} if settings.slack_api_url else {}
    return AsyncWebClient(
        token=bot_token(settings),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
        **kwargs,
    )
