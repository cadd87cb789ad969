"""The manifest must grant exactly what the code uses: scopes for every Web API call, every event, the command."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.cli.doctor import REQUIRED_SCOPES
from bot.slack.inbound.triggers import COMMAND, SHORTCUT_CALLBACK_ID

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())
BOT_SOURCE = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))

# Web API method (slack_sdk name) → the bot scopes it needs (public and private channels).
METHOD_SCOPES: dict[str, set[str]] = {
    "auth_test": set(),
    "conversations_replies": {"channels:history", "groups:history"},
    "conversations_history": {"channels:history", "groups:history"},
    "conversations_info": {"channels:read", "groups:read"},
    "conversations_members": {"channels:read", "groups:read"},
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_stream": {"chat:write"},  # chat.startStream / appendStream / stopStream
    "chat_stopStream": {"chat:write"},
    "chat_delete": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "chat_getPermalink": set(),  # any token may ask for a permalink
    "canvases_create": {"canvases:write"},
    "conversations_canvases_create": {"canvases:write"},
    "reactions_add": {"reactions:write"},
    "reactions_remove": {"reactions:write"},
    "users_info": {"users:read"},
    "files_upload_v2": {"files:write"},
    "assistant_threads_setStatus": {"chat:write"},  # chat:write suffices since 2026-03-05
    "views_publish": set(),
}
EVENT_SCOPES = {"reaction_added": {"reactions:read"}, "app_mention": {"app_mentions:read"}, "app_home_opened": set()}


def called_methods() -> set[str]:
    return set(re.findall(r"client\.(\w+)\(", BOT_SOURCE))


def listened_events() -> set[str]:
    return set(re.findall(r"app\.event\(\"(\w+)\"\)", BOT_SOURCE))


def required_scopes() -> set[str]:
    scopes = {"commands"}
    for method in called_methods():
        assert method in METHOD_SCOPES, f"bot calls client.{method}(): add its scopes to METHOD_SCOPES and manifest.yaml"
        scopes |= METHOD_SCOPES[method]
    for event in listened_events():
        scopes |= EVENT_SCOPES[event]
    if "url_private" in BOT_SOURCE:
        scopes.add("files:read")
    return scopes


def test_the_scan_finds_the_calls_it_should() -> None:
    # Guards the regex itself: if these vanish the other tests would pass vacuously.
    assert {"conversations_replies", "chat_postMessage", "files_upload_v2", "reactions_add"} <= called_methods()
    assert {"reaction_added", "app_mention"} <= listened_events()


def test_bot_scopes_are_exactly_those_the_code_uses() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == required_scopes()


def test_doctor_checks_the_same_scopes_as_the_manifest() -> None:
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == REQUIRED_SCOPES


def test_every_listened_event_is_subscribed() -> None:
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == listened_events()


def test_command_and_shortcut_match_the_code() -> None:
    commands = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert commands == [COMMAND]
    shortcuts = MANIFEST["features"]["shortcuts"]
    assert [(s["type"], s["callback_id"]) for s in shortcuts] == [("message", SHORTCUT_CALLBACK_ID)]
    assert all(len(s["name"]) <= 24 for s in shortcuts)


def test_home_tab_is_enabled_for_the_event_the_code_listens_to() -> None:
    assert "app_home_opened" in listened_events()
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_socket_mode_and_interactivity_are_on() -> None:
    assert MANIFEST["settings"]["socket_mode_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert len(MANIFEST["display_information"]["name"]) <= 35
