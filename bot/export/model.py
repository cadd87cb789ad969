"""What an exporter takes and gives back, the key that finds a thread's page again, and the one error it raises."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from bot.errors import PostmortemError

# Confluence titles are unique within a space and Notion titles are searchable: the key rides in the title, so a
# page is found again whatever the report's own title became after a Regenerate.
MAX_TITLE = 200


class ExportError(PostmortemError):
    """The report could not be exported; ``message`` and ``fix`` are shown in the thread (or on stderr)."""

    exit_code = 6  # the CLI wrote the postmortem, but the wiki did not take it


@dataclass(frozen=True)
class ExportedPage:
    url: str
    page_id: str
    created: bool  # False: an existing page of the same thread was updated


class ReportExporter(Protocol):
    """A wiki. ``publish`` creates the thread's page or updates it; never leaves a half-made page behind."""

    name: str  # "Confluence", "Notion": shown to people

    async def publish(self, key: str, title: str, markdown: str) -> ExportedPage: ...

    async def probe(self) -> str:
        """The lookups a publish makes first, for `doctor`: where pages go; raises ExportError when refused."""
        ...

    async def aclose(self) -> None: ...


def export_key(*parts: object) -> str:
    """The same short key for the same thread (channel, thread ts) or CLI input: ``pmb-`` and 12 hex digits."""
    digest = hashlib.sha256("\x1f".join(("export", *map(str, parts))).encode()).hexdigest()[:12]
    return f"pmb-{digest}"


def page_title(title: str, key: str) -> str:
    """``<report title> (pmb-…)``: one line, within the wikis' limits, the key always whole."""
    suffix = f" ({key})"
    head = " ".join(title.split()) or "Testing postmortem"
    return head[: MAX_TITLE - len(suffix)].rstrip() + suffix
