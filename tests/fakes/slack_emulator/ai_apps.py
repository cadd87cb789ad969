"""Web API methods of Slack's AI-app and App Home surfaces: assistant.threads.setStatus and views.publish,
with their documented errors."""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .web_api import Args, json_arg, method, required
from .workspace import Workspace

MAX_LOADING_MESSAGES = 10
MAX_HOME_BLOCKS = 100
MAX_LABEL = 2000
# Elements an input block may hold (Block Kit reference); dispatch_action only makes sense on those that send actions.
INPUT_ELEMENTS = frozenset({
    "plain_text_input", "rich_text_input", "email_text_input", "url_text_input", "number_input", "checkboxes",
    "radio_buttons", "datepicker", "timepicker", "datetimepicker", "static_select", "multi_static_select",
    "users_select", "multi_users_select", "conversations_select", "multi_conversations_select", "channels_select",
    "multi_channels_select", "external_select", "multi_external_select", "file_input",
})


def input_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """What Slack's invalid_blocks names for an input block: a label (plain_text, at most 2,000 characters), one
    element of an input type, each block_id once in the view."""
    problems, ids = [], set()
    for n, block in enumerate(blocks):
        if block.get("block_id") is not None:
            if block["block_id"] in ids:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:/view/blocks/{n}/block_id]")
            ids.add(block["block_id"])
        if block.get("type") != "input":
            continue
        label = block.get("label")
        if not isinstance(label, dict) or label.get("type") != "plain_text" or not 0 < len(str(label.get("text", ""))) <= MAX_LABEL:
            problems.append(f"[ERROR] must provide a plain_text label of 1-{MAX_LABEL} characters [json-pointer:/view/blocks/{n}/label]")
        element = block.get("element")
        if not isinstance(element, dict) or element.get("type") not in INPUT_ELEMENTS:
            problems.append(f"[ERROR] must provide an input element [json-pointer:/view/blocks/{n}/element]")
    return problems


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
    problems = input_problems(blocks)
    if problems:
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})
    # What the user typed in an input stays when the app publishes the tab again (same block_id and action_id).
    typed = ws.home_views.get(user, {}).get("state", {}).get("values", {})
    kept = {bid: v for bid, v in typed.items() if any(b.get("block_id") == bid and b.get("type") == "input" for b in blocks)}
    ws.home_views[user] = {**view, "id": f"V{user}", "state": {"values": kept}}
    ws.changed()
    return {"ok": True, "view": {"id": f"V{user}", "type": "home", "blocks": blocks, "state": {"values": kept}}}
