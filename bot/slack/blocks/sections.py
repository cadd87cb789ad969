"""Section → Slack messages: `markdown` blocks (made for AI output) with a plain-text fallback, split to fit limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import MarkdownBlock

from bot.core.mentions import neutralise_mentions
from bot.core.sections import Section

__all__ = ["MARKDOWN_LIMIT", "OutboundMessage", "section_messages", "split_paragraphs"]

# All markdown blocks of one message share 12,000 characters; keep a margin for the heading line.
MARKDOWN_LIMIT = 11_000
# The notification/fallback text only needs to say what the message is.
FALLBACK_CHARS = 300


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    blocks: list[dict[str, Any]]


def _pack(pieces: list[str], sep: str, limit: int) -> list[str]:
    """Join consecutive pieces with ``sep`` into chunks of at most ``limit`` characters."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{sep}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _lines_within(para: str, limit: int) -> list[str]:
    """A paragraph too long for one chunk: pack its lines, cutting any single over-long line."""
    lines = [line[i : i + limit] for line in para.split("\n") for i in range(0, max(len(line), 1), limit)]
    return _pack(lines, "\n", limit)


def split_paragraphs(text: str, limit: int) -> list[str]:
    """Split at blank lines, then at line ends, then hard, so no chunk exceeds ``limit``."""
    pieces = [p for para in text.split("\n\n") for p in ([para] if len(para) <= limit else _lines_within(para, limit))]
    return _pack(pieces, "\n\n", limit) or [""]


def section_messages(section: Section, *, block_id: str | None = None, limit: int = MARKDOWN_LIMIT) -> list[OutboundMessage]:
    """Mentions are made inert first: model output must never ping. ``block_id`` (suffix ``.N``) is sent, but Slack
    does not keep a markdown block's id, so it cannot mark what a resumed run already posted (metadata can)."""
    body, heading = neutralise_mentions(section.body), neutralise_mentions(section.title)
    parts = split_paragraphs(body, limit)
    messages = []
    for i, part in enumerate(parts):
        title = heading if len(parts) == 1 else f"{heading} ({i + 1}/{len(parts)})"
        markdown = f"## {title}\n\n{part}"
        fallback = f"{title}: {part[:FALLBACK_CHARS]}"
        tag = f"{block_id}.{i}" if block_id else None
        messages.append(OutboundMessage(text=fallback, blocks=[MarkdownBlock(text=markdown, block_id=tag).to_dict()]))
    return messages
