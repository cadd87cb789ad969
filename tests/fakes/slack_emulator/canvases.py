"""Canvas methods: `canvases.create` (a standalone canvas, tabbed in a channel when `channel_id` is given) and
`conversations.canvases.create` (a channel's own canvas, at most one per channel), with their documented errors.

`workspace.plan = "free"` makes the workspace a free team: it cannot create standalone canvases
(`free_teams_cannot_create_non_tabbed_canvases`, as Slack answers free teams) but can create channel canvases.
Canvases are kept in `workspace.canvases` (id → title, markdown, channel, kind) for tests to read.
"""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .web_api import Args, json_arg, method, required
from .workspace import Workspace

MAX_MARKDOWN = 1_048_576  # "The markdown content is limited to 1 MiB"


def _content(args: Args) -> str:
    content = json_arg(args, "document_content", "invalid_arguments")
    if content is None:
        return ""
    if not isinstance(content, dict) or content.get("type") != "markdown" or not isinstance(content.get("markdown"), str):
        raise SlackError("invalid_arguments", response_metadata={
            "messages": ['[ERROR] document_content must be {"type": "markdown", "markdown": "..."}']})
    if len(content["markdown"]) > MAX_MARKDOWN:
        raise SlackError("canvas_creation_failed")
    return str(content["markdown"])


def _store(ws: Workspace, kind: str, title: str, markdown: str, channel: str | None) -> dict[str, Any]:
    canvas_id = ws.new_file_id()
    ws.canvases[canvas_id] = {"id": canvas_id, "kind": kind, "title": title, "markdown": markdown, "channel": channel}
    ws.changed()
    return {"ok": True, "canvas_id": canvas_id}


@method("canvases.create")
def canvases_create(ws: Workspace, args: Args) -> dict[str, Any]:
    ws.require_scope("canvases:write")
    if ws.plan == "free":
        raise SlackError("free_teams_cannot_create_non_tabbed_canvases")
    markdown = _content(args)
    channel = ws.member_channel(args["channel_id"]).id if args.get("channel_id") else None
    return _store(ws, "standalone", str(args.get("title") or ""), markdown, channel)


@method("conversations.canvases.create")
def conversations_canvases_create(ws: Workspace, args: Args) -> dict[str, Any]:
    ws.require_scope("canvases:write")
    ch = ws.member_channel(required(args, "channel_id"))
    markdown = _content(args)
    if any(c["kind"] == "channel" and c["channel"] == ch.id for c in ws.canvases.values()):
        raise SlackError("channel_canvas_already_exists")
    return _store(ws, "channel", str(args.get("title") or ""), markdown, ch.id)
