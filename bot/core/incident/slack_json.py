"""Slack message dicts → Messages. Pure data handling, shared by the CLI loader and the Slack collector."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.core.incident.model import Attachment, Incident, Message
from bot.core.incident.slack_shape import (
    LegacyAttachment,
    SlackMessage,
    validate_message,
    validate_messages,
)
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


# Blocks are walked, not modelled; past this depth they are ignored (real ones nest 3-4 levels).
_MAX_BLOCK_DEPTH = 12


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _block_text(block: Mapping[str, Any], depth: int = 0) -> Iterable[str]:
    """Text from blocks, walking nested elements (section, rich_text, context, markdown)."""
    if depth > _MAX_BLOCK_DEPTH:
        return
    text = block.get("text")
    if isinstance(text, str):
        yield text
    elif isinstance(text, Mapping):
        yield str(text.get("text", ""))
    for fld in _items(block.get("fields")):
        if isinstance(fld, Mapping):
            yield str(fld.get("text", ""))
    for child in _items(block.get("elements")):
        if isinstance(child, Mapping):
            if child.get("type") == "text":
                yield str(child.get("text", ""))
            elif child.get("type") == "link":
                yield str(child.get("text") or child.get("url", ""))
            else:
                yield from _block_text(child, depth + 1)


def _attachment_text(att: LegacyAttachment) -> str:
    """Legacy attachments (alert bots such as PagerDuty, Datadog, Grafana use these)."""
    parts = [p for p in (att.pretext, att.title, att.text) if p]
    parts += [f"{fld.title or ''}: {fld.value or ''}" for fld in att.fields or []]
    if not parts and att.fallback:
        parts.append(att.fallback)
    return "\n".join(parts)


def author_of(msg: SlackMessage, name_of: NameLookup) -> str:
    profile = msg.user_profile
    if msg.user and not msg.bot_id:
        return (profile and (profile.display_name or profile.real_name)) or name_of(msg.user)
    bot = msg.bot_profile
    return msg.username or (bot and bot.name) or (name_of(msg.user) if msg.user else "bot")


def message_from_slack(
    raw: Mapping[str, Any] | SlackMessage,
    name_of: NameLookup = lambda uid: uid,
    file_texts: Mapping[str, str] | None = None,
) -> Message:
    """One Slack message. ``file_texts`` maps file id → downloaded text; other files are listed by name.
    Raises InputError naming the wrong field when ``raw`` is not shaped like a Slack message."""
    msg = validate_message(raw)
    file_texts = file_texts or {}
    text = msg.text or ""
    extra: list[str] = []
    block_text = "\n".join(t for b in msg.blocks or [] for t in _block_text(b) if t)
    # Blocks usually repeat `text`; keep them only when they add something (alert bots).
    if block_text and block_text.strip() != text.strip():
        extra.append(block_text)
    extra += [t for t in (_attachment_text(a) for a in msg.attachments or []) if t]
    body = "\n".join([text, *extra]).strip() if text else "\n".join(extra).strip()
    attachments = []
    for f in msg.files or []:
        # Exports carry a `preview` of snippets; the live collector passes downloaded text.
        content = file_texts.get(f.id, f.preview)
        attachments.append(Attachment(name=f.name or f.title or f.id or "file", text=content))
    # The ts exactly as Slack wrote it (the parsed datetime cannot give it back): citations link to it.
    ref = raw.get("ts") if isinstance(raw, Mapping) else None
    return Message(author=author_of(msg, name_of), text=resolve_mrkdwn(body, name_of), ts=msg.ts, attachments=tuple(attachments),
                   ref=ref if isinstance(ref, str) else None, bot=bool(msg.bot_id) or msg.subtype == "bot_message")


def incident_from_slack_json(data: Any, *, title: str = "slack-thread") -> Incident:
    """A ``conversations.replies`` response (``{"messages": [...]}``) or an export day file (a list)."""
    msgs = [message_from_slack(m) for m in validate_messages(data) if m.type == "message"]
    msgs = [m for m in msgs if m.text or m.attachments]
    if not msgs:
        raise InputError("the Slack JSON holds no messages with text", "export the incident thread with its messages")
    msgs.sort(key=lambda m: m.ts.timestamp() if m.ts else 0.0)
    return Incident(messages=msgs, title=title, source="slack-json")
