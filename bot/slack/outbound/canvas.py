"""The whole report in a canvas, linked from the thread; once per run.

A standalone canvas (`canvases.create`) tabbed in the incident channel, so its members can open it. Free plans refuse
standalone canvases (``free_teams_cannot_create_non_tabbed_canvases``): then the channel's own canvas tab
(`conversations.canvases.create`), which a channel has at most one of. Where neither can be made, the markdown file
already uploaded is the report, and the closing line says so once.

Idempotent like every post of a run: the canvas is recorded as the item ``canvas`` (its kind and id) and the link
as ``canvas_link``; a resumed or redelivered run skips what is recorded. (A crash between Slack creating the canvas
and the record would leave one orphan canvas: Slack offers no metadata on canvases to find it by.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.core.mentions import neutralise_mentions
from bot.core.plan import TestPlan
from bot.core.run import Run
from bot.slack.errors import slack_error
from bot.slack.outbound.thread import SlackThread

log = logging.getLogger(__name__)

CANVAS_ITEM, LINK_ITEM = "canvas", "canvas_link"
FREE_PLAN = "free_teams_cannot_create_non_tabbed_canvases"
# Canvas markdown is limited to 1 MiB; a report never comes near, but a cut report beats no canvas.
MAX_MARKDOWN = 1_048_576
_WHY = {
    "channel_canvas_already_exists": "this workspace's plan allows only the channel canvas, and the channel already has one",
    "missing_scope": "the app lacks the canvases:write scope (reinstall it from manifest.yaml)",
    "canvas_disabled_user_team": "canvases are turned off in this workspace",
    "team_tier_cannot_create_channel_canvases": "this workspace's plan cannot create canvases",
    "restricted_action": "the workspace does not let the app create canvases",
}

Say = Callable[[str, str], Awaitable[None]]

def canvas_markdown(report: str, plan: TestPlan | None) -> str:
    """The report, then the test plan as a checklist canvases tick off; every mention inert."""
    text = report.rstrip() + "\n"
    if plan is not None and plan.tests:
        lines = [f"- [ ] **{t.name}** ({t.type}{', add first' if t.priority == 1 else ''}): {t.scope}; "
                 f"fault injection: {t.fault_injection}; passes when: {t.success_criteria}" for t in plan.tests]
        text += "\n## Test plan (checklist)\n\n" + "\n".join(" ".join(line.split()) for line in lines) + "\n"
    return neutralise_mentions(text)  # canvas mentions ("![](@U123)") included


def no_canvas_note(error: str) -> str:
    why = _WHY.get(error, f"Slack said `{error}`")
    return f"no canvas was made ({why}): the full report is the markdown file above"


class CanvasPublisher:
    def __init__(self, thread: SlackThread, run: Run, say_once: Say) -> None:
        self.thread = thread
        self.run = run
        self.say_once = say_once

    async def publish(self, title: str, markdown: str) -> str | None:
        """Make the canvas (once) and link it from the thread. Returns a note for the closing line when no canvas
        could be made; never raises for a Slack refusal, because the report file stands on its own."""
        if self.run.was_posted(LINK_ITEM):
            return None
        made = self.run.ts_of(CANVAS_ITEM)
        if made is None:
            try:
                made = await self._create(title, markdown[:MAX_MARKDOWN])
            except SlackApiError as exc:
                log.warning("no canvas for run %s: %s", self.run.id, slack_error(exc))
                return no_canvas_note(slack_error(exc))
            self.run.mark_posted(CANVAS_ITEM, made)
        kind, _, canvas_id = made.partition(":")
        where = "the channel's canvas tab" if kind == "tab" else "a canvas"
        label = "".join(" " if c in "<>|" else c for c in title)  # the title must not end Slack's <link|label>
        try:
            link = await self._link(canvas_id)
            await self.say_once(LINK_ITEM, f":page_facing_up: The full report is in {where}: <{link}|{label}>")
        except SlackApiError as exc:
            return f"the canvas was made but could not be linked here (Slack said `{slack_error(exc)}`)"
        return None

    async def _create(self, title: str, markdown: str) -> str:
        """``standalone:<id>`` or ``tab:<id>``."""
        content: dict[str, Any] = {"type": "markdown", "markdown": markdown}
        client, channel = self.thread.client, self.thread.channel
        try:
            resp = await client.canvases_create(title=title, document_content=content, channel_id=channel)
            return f"standalone:{resp['canvas_id']}"
        except SlackApiError as exc:
            if slack_error(exc) != FREE_PLAN:
                raise
        resp = await client.conversations_canvases_create(channel_id=channel, document_content=content)
        return f"tab:{resp['canvas_id']}"

    async def _link(self, canvas_id: str) -> str:
        """Slack's canvas address: the workspace URL, /docs/, the team and the canvas id."""
        auth = await self.thread.client.auth_test()
        return f"{str(auth['url']).rstrip('/')}/docs/{auth['team_id']}/{canvas_id}"
