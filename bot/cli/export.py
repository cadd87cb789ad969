"""`analyze` with EXPORT set: the finished report also goes to Confluence or Notion. The page's URL is printed on
stdout, run.json's ``export`` records it (or the error), and the same input analysed again updates the same page."""

from __future__ import annotations

import sys

from bot.core.run import RunFacts
from bot.export import ExportError, ReportExporter, export_key


async def export_report(exporter: ReportExporter, info: RunFacts, markdown: str) -> ExportError | None:
    """Export; the error is returned, not raised: the postmortem is written whatever the wiki says."""
    title = markdown.partition("\n")[0].lstrip("# ").strip() or "Testing postmortem"
    try:
        page = await exporter.publish(export_key("cli", info.input_hash or title), title, markdown)
    except ExportError as exc:
        info.export = {"service": exporter.name, "error": str(exc)}
        return exc
    finally:
        await exporter.aclose()
    info.export = {"service": exporter.name, "url": page.url}
    print(page.url, flush=True)
    print(f"[export] {exporter.name} page {'created' if page.created else 'updated'}", file=sys.stderr, flush=True)
    return None
