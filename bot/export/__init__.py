"""The finished report exported to a wiki: Confluence Cloud (REST v2 pages) or Notion (pages in a database), behind
one ``ReportExporter`` protocol. One page per incident thread: a Regenerate or `again` updates it, a retried run
finds it by its key. Core code: no Slack import; Slack links the page from the thread (bot/slack/outbound/delivery.py)."""

from bot.export.factory import make_exporter
from bot.export.model import ExportedPage, ExportError, ReportExporter, export_key

__all__ = ["ExportError", "ExportedPage", "ReportExporter", "export_key", "make_exporter"]
