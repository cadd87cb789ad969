"""Reading a Slack error safely: during outages Slack's edge answers 5xx with an HTML or plain-text body, and
slack_sdk then holds a str where code expects the JSON dict (``exc.response.get`` would raise AttributeError)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code ("not_in_channel", "ratelimited" …), or "HTTP <status>" when the body was not JSON."""
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {getattr(response, 'status_code', '?')}"
