"""Slack message dicts → Messages. Pure data handling, shared by the CLI loader and the Slack collector."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.core.incident import Attachment, Incident, Message, ts_from_slack
from bot.errors import InputError

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")

NameLookup = Callable[[str], str]


def mentioned_user_ids(text: str) -> list[str]:
    return _MENTION.findall(text)


def resolve_mrkdwn(text: str, name_of: NameLookup) -> str:
    """Turn Slack's ``<@U…>``, ``<#C…|name>`` and ``<url|label>`` markup into readable text."""
    text = _MENTION.sub(lambda m: "@" + name_of(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_text(block: Mapping[str, Any]) -> Iterable[str]:
    """Text from blocks, walking nested elements (section, rich_text, context, markdown)."""
    if isinstance(block.get("text"), str):
        yield block["text"]
    elif isinstance(block.get("text"), Mapping):
        yield str(block["text"].get("text", ""))
    for fld in block.get("fields", []) or []:
        if isinstance(fld, Mapping):
            yield str(fld.get("text", ""))
    for child in block.get("elements", []) or []:
        if isinstance(child, Mapping):
            if child.get("type") == "text":
                yield str(child.get("text", ""))
            elif child.get("type") in ("link",):
                yield str(child.get("text") or child.get("url", ""))
            else:
                yield from _block_text(child)


def _attachment_text(att: Mapping[str, Any]) -> str:
    """Legacy attachments (alert bots such as PagerDuty, Datadog, Grafana use these)."""
    parts = [str(att.get(k, "")) for k in ("pretext", "title", "text") if att.get(k)]
    for fld in att.get("fields", []) or []:
        parts.append(f"{fld.get('title', '')}: {fld.get('value', '')}")
    if not parts and att.get("fallback"):
        parts.append(str(att["fallback"]))
    return "\n".join(parts)


def author_of(raw: Mapping[str, Any], name_of: NameLookup) -> str:
    profile = raw.get("user_profile") or {}
    if raw.get("user") and not raw.get("bot_id"):
        return profile.get("display_name") or profile.get("real_name") or name_of(raw["user"])
    bot = raw.get("bot_profile") or {}
    return raw.get("username") or bot.get("name") or (name_of(raw["user"]) if raw.get("user") else "bot")


def message_from_slack(
    raw: Mapping[str, Any],
    name_of: NameLookup = lambda uid: uid,
    file_texts: Mapping[str, str] | None = None,
) -> Message:
    """One Slack message. ``file_texts`` maps file id → downloaded text; other files are listed by name."""
    file_texts = file_texts or {}
    text = str(raw.get("text") or "")
    extra: list[str] = []
    block_text = "\n".join(t for b in raw.get("blocks", []) or [] for t in _block_text(b) if t)
    # Blocks usually repeat `text`; keep them only when they add something (alert bots).
    if block_text and block_text.strip() != text.strip():
        extra.append(block_text)
    extra += [t for t in (_attachment_text(a) for a in raw.get("attachments", []) or []) if t]
    body = "\n".join([text, *extra]).strip() if text else "\n".join(extra).strip()
    attachments = []
    for f in raw.get("files", []) or []:
        name = f.get("name") or f.get("title") or f.get("id", "file")
        fid = f.get("id", "")
        # Exports carry a `preview` of snippets; the live collector passes downloaded text.
        content = file_texts[fid] if fid in file_texts else f.get("preview")
        attachments.append(Attachment(name=name, text=content))
    return Message(
        author=author_of(raw, name_of),
        text=resolve_mrkdwn(body, name_of),
        ts=ts_from_slack(raw.get("ts")),
        attachments=tuple(attachments),
    )


def incident_from_slack_json(data: Any, *, title: str = "slack-thread") -> Incident:
    """A ``conversations.replies`` response (``{"messages": [...]}``) or an export day file (a list)."""
    if isinstance(data, Mapping):
        if data.get("ok") is False:
            raise InputError(f"the Slack response is an error: {data.get('error')}", "save a successful conversations.replies response")
        messages = data.get("messages")
    else:
        messages = data
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise InputError(
            "the JSON is not Slack data: expected a list of messages or an object with a 'messages' list",
            "pass a conversations.replies response, a Slack export day file, or plain text",
        )
    msgs = [message_from_slack(m) for m in messages if m.get("type", "message") == "message"]
    msgs = [m for m in msgs if m.text or m.attachments]
    if not msgs:
        raise InputError("the Slack JSON holds no messages with text", "export the incident thread with its messages")
    msgs.sort(key=lambda m: m.ts.timestamp() if m.ts else 0.0)
    return Incident(messages=msgs, title=title, source="slack-json")
