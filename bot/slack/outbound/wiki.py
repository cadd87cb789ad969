"""The finished report on the team's wiki (EXPORT=confluence|notion), linked from the thread and from the canvas.

One page per thread: the key comes from the channel and the thread, so Regenerate and `again` update the page the
first run made, and a resumed run finds it instead of making a second. A wiki that refuses is explained in the
closing line with its fix; the postmortem in the thread stands without it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.export import ExportError, ReportExporter, export_key
from bot.slack.outbound.thread import SlackThread

log = logging.getLogger(__name__)

LINK_ITEM = "export_link"
Say = Callable[[str, str], Awaitable[None]]


class WikiPublisher:
    def __init__(self, exporter: ReportExporter, thread: SlackThread, say_once: Say) -> None:
        self.exporter = exporter
        self.thread = thread
        self.say_once = say_once

    async def publish(self, title: str, markdown: str) -> tuple[str, str | None]:
        """Export the report; returns the canvas markdown (with the page's link on top when there is one) and a
        note for the closing line when the export failed."""
        key = export_key(self.thread.channel, self.thread.thread_ts)
        wiki = self.exporter.name
        try:
            page = await self.exporter.publish(key, title, markdown)
        except ExportError as exc:
            log.warning("export to %s failed: %s", wiki, exc)
            return markdown, f"the report was not exported to {wiki}: {exc}"
        label = "".join(" " if c in "<>|" else c for c in title)  # the title must not end Slack's <link|label>
        updated = "" if page.created else " (updated)"
        await self.say_once(LINK_ITEM, f":notebook: The report is in {wiki}{updated}: <{page.url}|{label}>")
        return f"_Also in {wiki}: [{title}]({page.url})_\n\n{markdown}", None
