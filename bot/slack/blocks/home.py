"""The Home tab's memory parts (issue 22), as Block Kit: the search box and its results, and the open follow-ups.
A follow-up line is also what the weekly reminder posts (bot/slack/outbound/reminder.py)."""

from __future__ import annotations

from typing import Any

from bot.core.memory import PastIncident, PastTest, TicketState
from bot.core.mentions import neutralise_mentions
from bot.memory.followups import FollowUp
from bot.slack.blocks.history import history_line, inert

SEARCH_ACTION = "memory.search"  # the block_id and action_id of the search box
QUERY_CHARS = 200
FOLLOWUPS_SHOWN = 15
NAME_CHARS = 200  # a test's name in a follow-up line: a section holds 3,000 characters


def ticket_mrkdwn(test: PastTest) -> str:
    """`<url|#12> open`, `OPS-7 status unknown (why)`, or "no ticket"."""
    if not test.ticket_key:
        return "no ticket"
    key = inert(test.ticket_key)
    name = f"<{test.ticket_url}|{key}>" if test.ticket_url else key
    if test.state is TicketState.OPEN:
        return f"{name} open"
    note = f": {inert(test.state_note)}" if test.state_note else ""
    return f"{name} status unknown{note}"


def followup_line(followup: FollowUp, now: float) -> str:
    past = followup.past
    days = followup.age_days(now)
    incident = f"<{past.link}|{inert(past.title)}>" if past.link else inert(past.title)
    name = followup.test.name if len(followup.test.name) <= NAME_CHARS else followup.test.name[:NAME_CHARS - 1] + "…"
    return neutralise_mentions(f"• *{inert(name)}* — {ticket_mrkdwn(followup.test)} · "
                               f"{days} day{'' if days == 1 else 's'} old · {incident} ({past.day})")


def _section(text: str, block_id: str) -> dict[str, Any]:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def search_blocks(query: str, found: list[PastIncident] | str | None) -> list[dict[str, Any]]:
    """The search box (Enter sends it: an input with dispatch_action, which Home tabs support), then the results of
    ``query`` when one was sent: the postmortems found, or why there are none (a string)."""
    element: dict[str, Any] = {
        "type": "plain_text_input", "action_id": SEARCH_ACTION, "max_length": QUERY_CHARS,
        "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        "placeholder": {"type": "plain_text", "text": "pool exhaustion payments-api"},
    }
    if query:
        element["initial_value"] = query
    blocks: list[dict[str, Any]] = [{"type": "input", "block_id": SEARCH_ACTION, "dispatch_action": True, "element": element,
                                     "label": {"type": "plain_text", "text": "Search past postmortems"}}]
    if found is None:
        return blocks
    asked = neutralise_mentions(inert(query))
    if isinstance(found, str):
        return [*blocks, _section(found, "search.none")]
    if not found:
        return [*blocks, _section(f"_No past postmortems matching “{asked}” in channels you are a member of._", "search.none")]
    blocks.append(_context(f"Matching “{asked}”, newest first, in channels you are a member of:"))
    return blocks + [_section(history_line(past), f"search.{n}") for n, past in enumerate(found)]


def followup_blocks(lines: list[str] | str) -> list[dict[str, Any]]:
    """"Open follow-ups": the lines the viewer may see (oldest first), or why there are none (a string)."""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "Open follow-ups"}},
              _context("Tests recommended by past postmortems whose ticket is still open, or that never got one; "
                       "oldest first, in channels you are a member of.")]
    if isinstance(lines, str):
        return [*blocks, _section(lines, "followups.none")]
    if not lines:
        return [*blocks, _section("_No open follow-ups in channels you are a member of._", "followups.none")]
    blocks += [_section(line, f"followups.{n}") for n, line in enumerate(lines[:FOLLOWUPS_SHOWN])]
    if len(lines) > FOLLOWUPS_SHOWN:
        blocks.append(_context(f"and {len(lines) - FOLLOWUPS_SHOWN} more; `/postmortem history` finds the postmortems."))
    return blocks
