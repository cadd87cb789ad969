"""What every Slack-side piece of a run is given once, at start-up, grouped so none is built from a long list."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from bot.slack.collect import Collector


@dataclass(frozen=True)
class SlackDeps:
    """The workspace as the bot reaches it: the Web API client, the settings, the collector that reads threads (it
    knows the bot's own ids) and the team id (from auth.test: streaming in channels names the recipient's team)."""

    client: AsyncWebClient
    settings: Settings
    collector: Collector
    team_id: str | None = None
