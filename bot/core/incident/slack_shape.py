"""The shape of Slack message JSON, as pydantic models: a file of the wrong shape is refused with the path of
the first wrong field (``messages[3].files: expected a list of file objects, got a string``).

Lenient where Slack is: unknown keys are ignored, optional fields may be missing or null, numbers are accepted
where Slack sends strings. Strict where a wrong value would crash or mislead later (a non-finite timestamp)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

from bot.errors import InputError

# Year 10000: datetime cannot represent anything later, and no Slack message is from before 1970.
_MAX_TS = 253402300800.0


def parse_slack_ts(value: Any) -> datetime | None:
    """``"1700000000.000100"`` (or a number) → UTC datetime; raises ValueError on anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError("not a timestamp")  # not TypeError: pydantic turns only ValueError into a field error
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError("not a timestamp") from None
    if not math.isfinite(seconds) or not 0 <= seconds < _MAX_TS:
        raise ValueError("timestamp out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


SlackTs = Annotated[datetime | None, BeforeValidator(parse_slack_ts)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, frozen=True)


class SlackFile(_Lenient):
    id: str = ""
    name: str | None = None
    title: str | None = None
    preview: str | None = None  # exports carry the first lines of snippets here


class SlackProfile(_Lenient):
    display_name: str | None = None
    real_name: str | None = None
    name: str | None = None


class AttachmentField(_Lenient):
    title: str | None = None
    value: str | None = None


class LegacyAttachment(_Lenient):
    """Alert bots (PagerDuty, Datadog, Grafana) still post these."""

    pretext: str | None = None
    title: str | None = None
    text: str | None = None
    fallback: str | None = None
    fields: list[AttachmentField] | None = None


class SlackMessage(_Lenient):
    type: str = "message"
    subtype: str | None = None
    user: str | None = None
    bot_id: str | None = None
    username: str | None = None
    text: str | None = None
    ts: SlackTs = None
    user_profile: SlackProfile | None = None
    bot_profile: SlackProfile | None = None
    # Blocks nest arbitrarily (rich_text → sections → elements); they are walked defensively, not modelled.
    blocks: list[dict[str, Any]] | None = None
    attachments: list[LegacyAttachment] | None = None
    files: list[SlackFile] | None = None


class SlackResponse(_Lenient):
    """A ``conversations.replies`` / ``conversations.history`` response body."""

    messages: list[SlackMessage] = Field(default_factory=list)


T = TypeVar("T")

_MESSAGE_LIST: TypeAdapter[list[SlackMessage]] = TypeAdapter(list[SlackMessage])

# What each field should hold, by name (last key of the error path) and for the items of a list field.
_EXPECTED = {
    "messages": "a list of message objects",
    "files": "a list of file objects",
    "attachments": "a list of attachment objects",
    "blocks": "a list of block objects",
    "fields": "a list of {title, value} objects",
    "user_profile": "an object with the user's names",
    "bot_profile": "an object with the bot's name",
    "ts": 'a Slack timestamp such as "1700000000.000100"',
}
_ITEM = {"messages": "a message object", "files": "a file object", "attachments": "an attachment object",
         "blocks": "a block object", "fields": "a {title, value} object"}


def validate_messages(data: Any) -> list[SlackMessage]:
    """A ``conversations.replies`` response (``{"messages": [...]}``) or an export day file (a list) → messages."""
    if isinstance(data, dict) and data.get("ok") is False:
        raise InputError(
            f"the Slack response is an error: {data.get('error') or 'no reason given'}",
            "save a successful conversations.replies response",
        )
    if isinstance(data, dict) and "messages" in data:
        return _validate(lambda: SlackResponse.model_validate(data)).messages
    if isinstance(data, list):
        return _validate(lambda: _MESSAGE_LIST.validate_python(data), prefix="messages")
    raise InputError(
        "the JSON is not Slack data: expected a list of messages or an object with a 'messages' list",
        "pass a conversations.replies response, a Slack export day file, or plain text",
    )


def validate_message(raw: Any, where: str = "message") -> SlackMessage:
    if isinstance(raw, SlackMessage):
        return raw
    return _validate(lambda: SlackMessage.model_validate(raw), prefix=where)


def _validate(check: Callable[[], T], prefix: str = "") -> T:
    try:
        return check()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise InputError(
            f"the Slack JSON has an unexpected shape: {_path(prefix, first['loc'])}: {_describe(first)}{more}",
            "pass the conversations.replies response or export file as Slack wrote it",
        ) from None


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "the top level"


def _describe(error: ErrorDetails) -> str:
    loc = error["loc"]
    names = [p for p in loc if isinstance(p, str)]
    if loc and isinstance(loc[-1], int) and names:
        expected = _ITEM.get(names[-1])
    elif names:
        expected = _EXPECTED.get(names[-1])
    else:
        expected = "a message object"
    if expected is None:
        expected = "a string" if error["type"].startswith("string") else error["msg"].lower()
    return f"expected {expected}, got {_kind(error.get('input'))}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f'the string "{value[:40]}"' if len(value) <= 40 else "a long string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
