"""Socket Mode payloads shaped like Slack's (slash commands, Events API, message shortcuts, button clicks)."""

from __future__ import annotations

import secrets
import time
from typing import Any

from .workspace import Workspace

VERIFICATION_TOKEN = "emulator-verification-token"  # deprecated by Slack, still sent


def trigger_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def slash_command(ws: Workspace, user: str, channel: str, command: str, text: str,
                  response_url: str) -> dict[str, Any]:
    u, ch = ws.user(user), ws.channel(channel)
    # Slack sends form fields, so every value is a string (no thread_ts: commands can't run in threads)
    return {"token": VERIFICATION_TOKEN, "team_id": ws.team["id"], "team_domain": ws.team["domain"],
            "channel_id": ch.id, "channel_name": ch.name if not ch.is_private else "privategroup",
            "user_id": u["id"], "user_name": u["name"], "command": command, "text": text,
            "api_app_id": ws.app_id, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id()}


def event_callback(ws: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    return {"token": VERIFICATION_TOKEN, "team_id": ws.team["id"], "context_team_id": ws.team["id"],
            "api_app_id": ws.app_id, "event": event, "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": ws.team["id"],
                                "user_id": ws.bot_user_id, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{secrets.token_hex(16)}"}


def message_action(ws: Workspace, user: str, channel: str, ts: str, callback_id: str,
                   response_url: str) -> dict[str, Any]:
    u, ch = ws.user(user), ws.channel(channel)
    message = ws.render(ch, ws.message(ch, ts))
    return {"type": "message_action", "token": VERIFICATION_TOKEN, "action_ts": ws.next_ts(),
            "team": {"id": ws.team["id"], "domain": ws.team["domain"]},
            "user": {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": ws.team["id"]},
            "channel": {"id": ch.id, "name": ch.name}, "is_enterprise_install": False,
            "enterprise": None, "callback_id": callback_id, "trigger_id": trigger_id(),
            "response_url": response_url, "message_ts": ts, "message": message}


def interactive_elements(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every element a user can click: section accessories, actions-block elements and
    context_actions elements (each half of a feedback_buttons element separately)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        if isinstance(block.get("accessory"), dict) and block["accessory"].get("action_id"):
            found.append((block.get("block_id", ""), block["accessory"]))
        if block.get("type") == "actions":
            found += [(block.get("block_id", ""), e) for e in block.get("elements", []) if e.get("action_id")]
        if block.get("type") == "context_actions":
            for e in block.get("elements", []):
                if e.get("type") == "feedback_buttons":
                    # Each half is clicked on its own; the payload carries that half's text and value.
                    found += [(block.get("block_id", ""), {"type": "feedback_buttons", "action_id": e.get("action_id", ""),
                                                           **e[half]}) for half in ("positive_button", "negative_button")]
                elif e.get("action_id"):
                    found.append((block.get("block_id", ""), e))
    return found


def block_actions(ws: Workspace, user: str, channel: str, ts: str, block_id: str, element: dict[str, Any],
                  response_url: str) -> dict[str, Any]:
    """A user clicking ``element`` (a button) of the message at ``ts``, as Slack sends it over Socket Mode."""
    u, ch = ws.user(user), ws.channel(channel)
    message = ws.render(ch, ws.message(ch, ts))
    container = {"type": "message", "message_ts": ts, "channel_id": ch.id, "is_ephemeral": False}
    if message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    action = {"type": element.get("type", "button"), "action_id": element["action_id"], "block_id": block_id,
              "action_ts": ws.next_ts()}
    action.update({k: element[k] for k in ("text", "value", "style", "url") if k in element})
    return {"type": "block_actions", "token": VERIFICATION_TOKEN, "api_app_id": ws.app_id,
            "team": {"id": ws.team["id"], "domain": ws.team["domain"]},
            "user": {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": ws.team["id"]},
            "container": container, "trigger_id": trigger_id(), "channel": {"id": ch.id, "name": ch.name},
            "message": message, "state": {"values": {}}, "response_url": response_url, "actions": [action],
            "is_enterprise_install": False, "enterprise": None}


def home_input_action(ws: Workspace, user: str, view: dict[str, Any], block_id: str, element: dict[str, Any],
                      value: str) -> dict[str, Any]:
    """``user`` pressed Enter in an input of their Home tab (``dispatch_action``): a block_actions payload whose
    container is the view, with the view and its state; Home tabs have no response_url, channel or message."""
    u = ws.user(user)
    action = {"type": element["type"], "block_id": block_id, "action_id": element["action_id"], "value": value,
              "action_ts": ws.next_ts()}
    state = {"values": {**view.get("state", {}).get("values", {}),
                        block_id: {element["action_id"]: {"type": element["type"], "value": value}}}}
    shown = {"id": view["id"], "team_id": ws.team["id"], "type": "home", "blocks": view.get("blocks", []),
             "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
             "state": state, "hash": f"{int(time.time())}.{secrets.token_hex(4)}", "title": {"type": "plain_text", "text": "View Title"},
             "clear_on_close": False, "notify_on_close": False, "close": None, "submit": None, "previous_view_id": None,
             "root_view_id": view["id"], "app_id": ws.app_id, "external_id": view.get("external_id", ""),
             "app_installed_team_id": ws.team["id"], "bot_id": ws.bot_id}
    return {"type": "block_actions", "token": VERIFICATION_TOKEN, "api_app_id": ws.app_id,
            "team": {"id": ws.team["id"], "domain": ws.team["domain"]},
            "user": {"id": u["id"], "username": u["name"], "name": u["name"], "team_id": ws.team["id"]},
            "container": {"type": "view", "view_id": view["id"]}, "trigger_id": trigger_id(), "view": shown,
            "actions": [action], "is_enterprise_install": False, "enterprise": None}
