"""The configured exporter, or a one-line ConfigError naming the setting that is missing."""

from __future__ import annotations

from bot.export.confluence import ConfluenceExporter
from bot.export.model import ReportExporter
from bot.export.notion import NotionExporter
from bot.settings import Settings, require_settings, setting_text

_NEEDS = {
    "confluence": (("CONFLUENCE_URL", "your site's wiki base, https://your-site.atlassian.net/wiki"),
                   ("CONFLUENCE_SPACE", "the space key, e.g. OPS"),
                   ("CONFLUENCE_EMAIL", "the account the API token belongs to"),
                   ("CONFLUENCE_API_TOKEN", "from id.atlassian.com/manage-profile/security/api-tokens")),
    "notion": (("NOTION_TOKEN", "the integration's internal secret, from notion.so/my-integrations"),
               ("NOTION_DATABASE_ID", "the database's id, from its URL")),
}


def make_exporter(settings: Settings) -> ReportExporter | None:
    """None when EXPORT=none. Raises ConfigError when the chosen wiki lacks a setting."""
    if settings.export == "none":
        return None
    require_settings(settings, "EXPORT", _NEEDS[settings.export])
    s = settings
    if s.export == "confluence":
        return ConfluenceExporter(setting_text(s, "CONFLUENCE_URL"), setting_text(s, "CONFLUENCE_SPACE"),
                                  setting_text(s, "CONFLUENCE_EMAIL"), setting_text(s, "CONFLUENCE_API_TOKEN"),
                                  setting_text(s, "CONFLUENCE_PARENT_ID") or None)
    return NotionExporter(setting_text(s, "NOTION_TOKEN"), setting_text(s, "NOTION_DATABASE_ID"), setting_text(s, "NOTION_API_URL"))
