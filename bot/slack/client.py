"""Web API client construction and token checks."""

from __future__ import annotations

import logging

from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError
from bot.ops.slack_calls import SlackCallCounter
from bot.settings import Settings

_TOKEN_HELP = "api.slack.com/apps → your app"


def _token(secret: SecretStr | None, name: str, prefix: str, where: str) -> str:
    token = secret.get_secret_value() if secret else ""
    if not token:
        raise ConfigError(f"{name} is not set", f"copy it from {_TOKEN_HELP} → {where}")
    if not token.startswith(prefix):
        raise ConfigError(f"{name} must start with {prefix}", f"use the token from {_TOKEN_HELP} → {where}")
    return token


def bot_token(settings: Settings) -> str:
    return _token(settings.slack_bot_token, "SLACK_BOT_TOKEN", "xoxb-", "OAuth & Permissions → Bot User OAuth Token")


def app_token(settings: Settings) -> str:
    where = "Basic Information → App-Level Tokens (scope connections:write)"
    return _token(settings.slack_app_token, "SLACK_APP_TOKEN", "xapp-", where)


# slack_sdk and Bolt log whole request and response bodies at DEBUG: tokens in headers, thread text with
# unredacted secrets in bodies. Their loggers stay at INFO even when the bot runs with -v.
SDK_LOGGERS = ("slack_sdk", "slack_bolt")


def quiet_sdk_loggers() -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.INFO))


def bolt_logger() -> logging.Logger:
    """Bolt copies the root logger's level unless given one; its socket client logs payloads at DEBUG."""
    logger = logging.getLogger("bot.slack.bolt")
    logger.setLevel(logging.INFO)
    return logger


# A post answered with 5xx may still have been stored by Slack: retrying blindly could show it twice. Posts are
# retried by the bot itself after it looked in the thread for the post's metadata (delivery.py); a stream that
# fails is left as it is and replaced by the finished section (live.py).
_NOT_IDEMPOTENT = ("/chat.postMessage", "/chat.startStream", "/chat.appendStream")


class _IdempotentServerErrorRetry(AsyncServerErrorRetryHandler):
    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                               error: Exception | None = None) -> bool:
        if request.url.endswith(_NOT_IDEMPOTENT):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def make_web_client(settings: Settings) -> AsyncWebClient:
    """A client that honours 429 Retry-After and retries 5xx, as slack_sdk only retries connection errors by default."""
    quiet_sdk_loggers()
    base_url = settings.slack_api_url or AsyncWebClient.BASE_URL
    return AsyncWebClient(
        token=bot_token(settings),
        base_url=base_url,
        retry_handlers=[
            SlackCallCounter(base_url),  # first: it sees every answer, counts errors and 429s, never retries
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            _IdempotentServerErrorRetry(max_retry_count=2),
        ],
    )
