"""The emulator's canvas methods answer like Slack's documentation says, through slack_sdk."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_emulator import SlackEmulator

from .conftest import Incident
from .test_web_api import api_error

MD = {"type": "markdown", "markdown": "# Report"}


async def test_canvas_methods_and_their_documented_errors(slack: SlackEmulator, incident: Incident, client: AsyncWebClient) -> None:
    made = await client.canvases_create(title="T", document_content=MD, channel_id=incident.channel)
    assert slack.workspace.canvases[made["canvas_id"]]["kind"] == "standalone" and made["canvas_id"].startswith("F")
    bad = await api_error(client.canvases_create(title="T", document_content={"type": "html", "html": "<p>"}))
    assert bad.response["error"] == "invalid_arguments"
    outside = slack.add_channel("elsewhere", bot_member=False)
    assert (await api_error(client.canvases_create(document_content=MD, channel_id=outside))).response["error"] == "not_in_channel"
    tab = await client.conversations_canvases_create(channel_id=incident.channel, document_content=MD)
    assert slack.workspace.canvases[tab["canvas_id"]]["kind"] == "channel"
    again = await api_error(client.conversations_canvases_create(channel_id=incident.channel, document_content=MD))
    assert again.response["error"] == "channel_canvas_already_exists"
    slack.workspace.plan = "free"
    free = await api_error(client.canvases_create(title="T", document_content=MD, channel_id=incident.channel))
    assert free.response["error"] == "free_teams_cannot_create_non_tabbed_canvases"
    slack.workspace.scopes = {"chat:write"}
    denied = await api_error(client.conversations_canvases_create(channel_id=incident.channel, document_content=MD))
    assert denied.response["error"] == "missing_scope" and denied.response.headers["x-oauth-scopes"] == "chat:write"
