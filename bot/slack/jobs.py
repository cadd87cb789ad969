"""A job: one accepted trigger, as the runner needs it. The queue itself is the run store's table (bot/slack/workers.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Job:
    trigger: str  # "command" | "command-link" | "reaction" | "shortcut" | "mention"
    channel: str
    invoker: str
    # The thread root; None for `/postmortem` without a link (the channel's recent history).
    thread_ts: str | None
    channel_name: str | None = None
    # Slash commands and shortcuts carry one; it reaches the user even where the bot cannot post.
    response_url: str | None = None
    regenerate: bool = False
    # The run store's id; set when the job is accepted, or taken from the store when resuming.
    run_id: int | None = None
    resumed: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.thread_ts or "channel-history")
