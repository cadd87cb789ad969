"""Slack Web API errors and 429s per method, counted where slack_sdk already looks at every answer: its retry handlers.
Kept apart from bot/metrics.py, which the core imports and which must not bring slack_sdk with it."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import SLACK_ERRORS, SLACK_RATE_LIMITED


class SlackCallCounter(AsyncRetryHandler):
    """slack_sdk shows every response (and every connection error) to its retry handlers in turn; this one, first in
    the list, counts errors and 429s per method and never asks for a retry itself."""

    def __init__(self, base_url: str) -> None:
        super().__init__(max_retry_count=0)
        self.base_url = base_url

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        method = request.url.removeprefix(self.base_url).split("?")[0] if request.url.startswith(self.base_url) else "file_upload"
        if response is None:
            SLACK_ERRORS.labels(method, "connection_error").inc()
            return False
        body = response.body if isinstance(response.body, dict) else {}
        if response.status_code == 429:
            SLACK_RATE_LIMITED.labels(method).inc()
        if response.status_code >= 400 or body.get("ok") is False:
            SLACK_ERRORS.labels(method, str(body.get("error") or f"http_{response.status_code}")).inc()
        return False
