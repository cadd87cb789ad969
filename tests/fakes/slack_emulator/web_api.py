"""Web API methods (conversations.*, chat.*, reactions.*, users.*, auth.test).

Each handler takes the workspace and the merged request args (query string,
form and JSON body, exactly as slack_sdk may send any of them) and returns the
ok=true body or raises SlackError.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import SlackError
from .workspace import Channel, Workspace

Args = dict[str, Any]
Handler = Callable[[Workspace, Args], dict[str, Any]]
METHODS: dict[str, Handler] = {}
T = TypeVar("T")

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_MARKDOWN_TOTAL = 12_000
MAX_SECTION_TEXT = 3_000
MAX_BLOCKS_TEXT = 13_000  # undocumented; Slack answers msg_blocks_too_long around here


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn
    return register


def required(args: Args, name: str) -> str:
    value = args.get(name)
    if value in (None, ""):
        raise SlackError("invalid_arguments",
                         response_metadata={"messages": [f"[ERROR] missing required field: {name}"]})
    return str(value)


def json_arg(args: Args, name: str, error: str) -> Any:
    """Form posts carry JSON-encoded strings; JSON posts carry the structure itself."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error) from None
    return value


def paginate(items: list[T], args: Args, key: Callable[[T], str], *, default_limit: int,
             cap: int | None = None) -> tuple[list[T], str]:
    """Slack-style opaque cursors: base64('next_ts:<key of next item>')."""
    limit = min(int(args.get("limit") or default_limit), 1000, cap or 1000) or default_limit
    start = 0
    if args.get("cursor"):
        try:
            wanted = base64.b64decode(str(args["cursor"])).decode().split(":", 1)[1]
            start = next(i for i, item in enumerate(items) if key(item) == wanted)
        except (ValueError, IndexError, StopIteration):
            raise SlackError("invalid_cursor") from None
    page = items[start:start + limit]
    rest = items[start + limit:]
    cursor = base64.b64encode(f"next_ts:{key(rest[0])}".encode()).decode() if rest else ""
    return page, cursor


def in_range(ts: str, args: Args) -> bool:
    inclusive = str(args.get("inclusive", "0")).lower() in ("1", "true")
    t = float(ts)
    if args.get("oldest") and not (t >= float(args["oldest"]) if inclusive else t > float(args["oldest"])):
        return False
    latest = args.get("latest")
    return not latest or (t <= float(latest) if inclusive else t < float(latest))


def block_texts(node: Any) -> list[str]:
    """Every string under a "text" key, however deeply nested (sections, fields, rich_text)."""
    if isinstance(node, list):
        return [t for item in node for t in block_texts(item)]
    if not isinstance(node, dict):
        return []
    out: list[str] = []
    for key, value in node.items():
        out += [value] if key == "text" and isinstance(value, str) else block_texts(value)
    return out


def validate_message(args: Args) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    text = str(args.get("text") or "")
    blocks = json_arg(args, "blocks", "invalid_blocks_format")
    attachments = json_arg(args, "attachments", "invalid_attachments")
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if blocks:
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        problems = [f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"] \
            if len(blocks) > MAX_BLOCKS else []
        markdown = sum(len(b.get("text", "")) for b in blocks if b.get("type") == "markdown")
        if markdown > MAX_MARKDOWN_TOTAL:
            problems.append(f"[ERROR] markdown blocks exceed {MAX_MARKDOWN_TOTAL} characters in total")
        for i, b in enumerate(blocks):
            if b.get("type") == "section" and len((b.get("text") or {}).get("text", "")) > MAX_SECTION_TEXT:
                problems.append(f"[ERROR] must be less than {MAX_SECTION_TEXT + 1} characters "
                                f"[json-pointer:/blocks/{i}/text/text]")
        if problems:
            raise SlackError("invalid_blocks", response_metadata={"messages": problems})
        if sum(map(len, block_texts(blocks))) > MAX_BLOCKS_TEXT:
            raise SlackError("msg_blocks_too_long")
    return text, blocks, attachments


def stored_blocks(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Slack ignores a markdown block's block_id: it is not stored, so it never comes back in history."""
    if blocks is None:
        return None
    return [{k: v for k, v in b.items() if k != "block_id"} if b.get("type") == "markdown" else b for b in blocks]


def message_metadata(args: Args) -> dict[str, Any] | None:
    """chat.postMessage/chat.update `metadata`: {"event_type": str, "event_payload": {...}}, hidden from users."""
    if args.get("metadata") in (None, ""):
        return None
    metadata = json_arg(args, "metadata", "invalid_metadata_format")
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackError("invalid_metadata_schema", response_metadata={"messages": [
            "[ERROR] metadata needs a non-empty string event_type and an object event_payload"]})
    return {"event_type": event_type, "event_payload": payload}


def with_metadata(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    """history/replies return message metadata only when asked with include_all_metadata=true."""
    if str(args.get("include_all_metadata", "")).lower() in ("1", "true"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


# ---- auth -------------------------------------------------------------------
@method("auth.test")
def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"ok": True, "url": f"https://{ws.team['domain']}.slack.com/", "team": ws.team["name"],
            "user": ws.users[ws.bot_user_id]["name"], "team_id": ws.team["id"],
            "user_id": ws.bot_user_id, "bot_id": ws.bot_id, "is_enterprise_install": False}


# ---- conversations ----------------------------------------------------------
def channel_obj(ws: Workspace, ch: Channel) -> dict[str, Any]:
    return {"id": ch.id, "name": ch.name, "name_normalized": ch.name, "is_channel": True,
            "is_group": False, "is_im": False, "is_mpim": False, "is_private": ch.is_private,
            "is_archived": False, "is_general": False, "is_shared": False, "is_ext_shared": False,
            "is_org_shared": False, "created": ch.created, "creator": ch.members[0] if ch.members else "",
            "context_team_id": ws.team["id"], "is_member": ws.bot_user_id in ch.members,
            "num_members": len(ch.members), "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0}}


@method("conversations.info")
def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"ok": True, "channel": channel_obj(ws, ws.visible_channel(args.get("channel")))}


@method("conversations.replies")
def conversations_replies(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    # Render only the page: rendering copies each message, and a 10k-message thread read in 200-message pages
    # would otherwise copy the whole thread for every page.
    thread = ws.thread_messages(ch, required(args, "ts"))
    page, cursor = paginate(thread, args, lambda m: m["ts"], default_limit=1000, cap=ws.page_cap)
    return {"ok": True, "messages": with_metadata([ws.render(ch, m) for m in page], args), "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor}}


@method("conversations.history")
def conversations_history(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    top = [ws.render(ch, m) for m in reversed(ch.messages.values())
           if m.get("thread_ts", m["ts"]) == m["ts"] and in_range(m["ts"], args)]
    page, cursor = paginate(top, args, lambda m: m["ts"], default_limit=100, cap=ws.page_cap)
    return {"ok": True, "messages": with_metadata(page, args), "has_more": bool(cursor), "pin_count": 0,
            "channel_actions_ts": None, "channel_actions_count": 0,
            "response_metadata": {"next_cursor": cursor}}


@method("conversations.members")
def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.visible_channel(args.get("channel"))
    page, cursor = paginate(list(ch.members), args, str, default_limit=100)
    return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}


@method("users.conversations")
def users_conversations(ws: Workspace, args: Args) -> dict[str, Any]:
    uid = ws.user(str(args.get("user") or ws.bot_user_id))["id"]
    types = str(args.get("types") or "public_channel").split(",")
    chans = [channel_obj(ws, ch) for ch in ws.channels.values() if uid in ch.members
             and ("private_channel" if ch.is_private else "public_channel") in types]
    page, cursor = paginate(chans, args, lambda c: c["id"], default_limit=100)
    return {"ok": True, "channels": page, "response_metadata": {"next_cursor": cursor}}


@method("users.info")
def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    return {"ok": True, "user": dict(ws.user(required(args, "user")))}


# ---- chat -------------------------------------------------------------------
@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    target = str(args.get("channel") or "")
    ch = ws.direct_channel(target) if target.startswith(("U", "W")) else ws.member_channel(target)
    text, blocks, attachments = validate_message(args)
    metadata = message_metadata(args)
    extra = {"metadata": metadata} if metadata else {}
    ts = ws.post(ch.id, ws.bot_user_id, text, thread_ts=args.get("thread_ts") or None,
                 blocks=stored_blocks(blocks), attachments=attachments, **extra)
    # A reply from the app clears its native "is thinking…" status in that thread.
    ws.thread_status.pop((ch.id, str(args.get("thread_ts") or "")), None)
    return {"ok": True, "channel": ch.id, "ts": ts, "message": ws.render(ch, ch.messages[ts])}


@method("chat.update")
def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    msg = ws.message(ch, args.get("ts"))
    if msg.get("user") != ws.bot_user_id:
        raise SlackError("cant_update_message")
    text, blocks, attachments = validate_message(args)
    msg["text"] = text
    # Like Slack, an update without metadata keeps the message's metadata.
    for key, value in (("blocks", stored_blocks(blocks)), ("attachments", attachments),
                       ("metadata", message_metadata(args))):
        if value is not None:
            msg[key] = value
    msg["edited"] = {"user": ws.bot_user_id, "ts": ws.next_ts()}
    ws.end_stream(ch.id, msg["ts"], "updated")  # the documented fallback for a stream Slack closed; it ends one
    ws.changed()  # edited in place, so waiters must be told explicitly
    return {"ok": True, "channel": ch.id, "ts": msg["ts"], "text": text, "message": ws.render(ch, msg)}


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    user = ws.user(required(args, "user"))["id"]
    if user not in ch.members:
        raise SlackError("user_not_in_channel")
    text, blocks, attachments = validate_message(args)
    ts = ws.next_ts()
    ws.record(ws.ephemerals, {"channel": ch.id, "user": user, "text": text, "blocks": blocks,
                              "attachments": attachments, "thread_ts": args.get("thread_ts"),
                              "message_ts": ts})
    return {"ok": True, "message_ts": ts}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.visible_channel(args.get("channel"))
    ts = ws.message(ch, args.get("message_ts"))["ts"]
    return {"ok": True, "channel": ch.id, "permalink": ws.permalink(ch.id, ts)}


# ---- reactions --------------------------------------------------------------
@method("reactions.add")
def reactions_add(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    ws.react(ch, str(args.get("timestamp") or ""), required(args, "name"), ws.bot_user_id)
    return {"ok": True}


@method("reactions.remove")
def reactions_remove(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    ws.unreact(ch, str(args.get("timestamp") or ""), required(args, "name"), ws.bot_user_id)
    return {"ok": True}


@method("reactions.get")
def reactions_get(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    msg = ws.render(ch, ws.message(ch, args.get("timestamp")))
    return {"ok": True, "type": "message", "channel": ch.id, "message": msg}
