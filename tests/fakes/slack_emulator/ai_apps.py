"""Web API methods of Slack's AI-app and App Home surfaces: assistant.threads.setStatus and views.publish,
with their documented errors."""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .web_api import Args, json_arg, method, required
from .workspace import Workspace

MAX_LOADING_MESSAGES = 10
MAX_HOME_BLOCKS = 100


@method("assistant.threads.setStatus")
def assistant_threads_set_status(ws: Workspace, args: Args) -> dict[str, Any]:
    """Works in channel threads with chat:write (since 2026-03-05). An empty status clears it; Slack also clears it
    when the app replies in the thread (see chat.postMessage) or after two minutes (not emulated)."""
    ch = ws.member_channel(required(args, "channel_id"))
    thread_ts = required(args, "thread_ts")
    if thread_ts not in ch.messages:
        raise SlackError("invalid_thread_ts")
    if "status" not in args:
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing required field: status"]})
    loading = json_arg(args, "loading_messages", "invalid_arguments") or []
    if not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES:
        raise SlackError("invalid_arguments", response_metadata={"messages": [
            f"[ERROR] loading_messages: no more than {MAX_LOADING_MESSAGES} items allowed"]})
    status = str(args.get("status") or "")
    ws.status_history.append({"channel": ch.id, "thread_ts": thread_ts, "status": status, "loading_messages": loading})
    if status:
        ws.thread_status[(ch.id, thread_ts)] = status
    else:
        ws.thread_status.pop((ch.id, thread_ts), None)
    ws.changed()
    return {"ok": True}


@method("views.publish")
def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    user = ws.user(required(args, "user_id"))["id"]
    view = json_arg(args, "view", "invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "home":
        raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] view.type must be home"]})
    blocks = view.get("blocks") or []
    if len(blocks) > MAX_HOME_BLOCKS:
        raise SlackError("invalid_blocks", response_metadata={"messages": [
            f"[ERROR] no more than {MAX_HOME_BLOCKS} items allowed [json-pointer:/view/blocks]"]})
    ws.home_views[user] = view
    ws.changed()
    return {"ok": True, "view": {"id": f"V{user}", "type": "home", "blocks": blocks}}
