"""Incident model: an ordered list of messages, and its rendering for the prompt."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

# The author of text that names none: a document's prose, a timeline row without a "Name:".
NOTES_AUTHOR = "incident-notes"
# The nominal day of clock times whose date the source does not give (see Message.dated).
UNDATED_DAY = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Attachment:
    """A file or snippet on a message. ``text`` is None for binary files (listed by name only)."""

    name: str
    text: str | None = None


# The normalised document section a message's text came from (bot.core.incident.structure reads the headings).
# None for chat, Slack messages and text outside any recognised section.
Section = Literal["summary", "timeline", "impact", "detection", "root_cause", "contributing", "resolution", "action_items",
                  "lessons"]


@dataclass(frozen=True)
class Message:
    author: str
    text: str
    # UTC, taken from the data; None when the source has no timestamp (never invented).
    ts: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    # Where the message lives in its source (a Slack message ts), so a citation of it can link there; None for files.
    ref: str | None = None
    # "root_cause" text weighs more as evidence; "action_items" and "lessons" are decisions, never events.
    section: Section | None = None
    # The time as the source wrote it ("09:02", "Jan 14, 10:18 AM PST"), for a row read from a text (bot.core.incident.structure).
    stamp: str | None = None
    # False when the source gives a clock time but no date: ``ts`` then sits on UNDATED_DAY (one day later per
    # midnight the rows cross), so order and durations hold, and no date is ever shown or sent for it.
    dated: bool = True
    # The source says a bot or an app wrote it (Slack's bot_id, or subtype bot_message); False for text sources,
    # where only a known tool's name tells (bot.core.digest.people).
    bot: bool = False

    @property
    def iso_ts(self) -> str | None:
        return self.ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if self.ts and self.dated else None

    @property
    def time_label(self) -> str | None:
        """The time to show: ISO UTC when the date is known, else the time as written."""
        return self.iso_ts or self.stamp

    def full_text(self) -> str:
        """Message text plus attached text, as one block."""
        parts = [self.text] if self.text else []
        for att in self.attachments:
            if att.text is None:
                parts.append(f"[file: {att.name} (binary, not read)]")
            else:
                parts.append(f"[file: {att.name}]\n{att.text}")
        return "\n".join(parts)


@dataclass
class Incident:
    messages: list[Message]
    title: str = "incident"
    source: str = "text"
    # Files that could not be read (download failed, binary, sign-in page…), each "name (reason)".
    unread_files: list[str] = field(default_factory=list)
    # Secrets and personal data already replaced in the messages (per kind), before preparation sees them: a text
    # is redacted whole before it is split into rows, so a secret whose key sits on another row is still found.
    redacted: dict[str, int] = field(default_factory=dict)

    @property
    def first_ts(self) -> datetime | None:
        return next((m.ts for m in self.messages if m.ts and m.dated), None)

    @property
    def last_ts(self) -> datetime | None:
        return next((m.ts for m in reversed(self.messages) if m.ts and m.dated), None)


# Joiners that shape emoji sequences and some scripts (Persian, Indic): kept between two non-ASCII characters.
_JOINERS = "\u200c\u200d"


def visible(text: str) -> str:
    """``text`` without invisible format characters (zero-width spaces, word joiners, bidi overrides, soft hyphens,
    BOMs). A model that interleaves them makes a template token, a loop or a heading look new to every check while
    Slack shows the same text; removed from the model's output before anything reads it."""
    if text.isascii():
        return text
    return "".join(
        ch for i, ch in enumerate(text)
        if unicodedata.category(ch) != "Cf"
        or (ch in _JOINERS and 0 < i < len(text) - 1 and not text[i - 1].isascii() and not text[i + 1].isascii())
    )


def clean_text(text: str) -> str:
    """Lone UTF-16 surrogates (an emoji a bot cut in half, a file name's undecodable bytes) cannot be encoded,
    hashed, stored or sent: they become U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def cleaned(incident: Incident) -> Incident:
    """The incident with every string made encodable (see clean_text)."""
    def message(m: Message) -> Message:
        atts = tuple(Attachment(clean_text(a.name), clean_text(a.text) if a.text is not None else None) for a in m.attachments)
        return replace(m, author=clean_text(m.author), text=clean_text(m.text), attachments=atts)

    return Incident([message(m) for m in incident.messages], clean_text(incident.title), incident.source,
                    [clean_text(f) for f in incident.unread_files], incident.redacted)


def message_id(index: int) -> str:
    """The evidence id of the message at ``index`` (``m1`` is the first): stable for a message whatever
    preparation later folds or drops, because it comes from the message's place in the incident."""
    return f"m{index + 1}"


def message_head(index: int, msg: Message, author: str) -> str:
    """``[m3] [ISO] author:`` (the time as written when it has no date); the time is omitted when unknown."""
    when = f" [{msg.time_label}]" if msg.time_label else ""
    return f"[{message_id(index)}]{when} {author}:"


def render_message(msg: Message, index: int) -> str:
    """One message as prompt text: ``[m3] [ISO] author: text``."""
    head = message_head(index, msg, msg.author)
    body = msg.full_text()
    return f"{head} {body}" if "\n" not in body else f"{head}\n{body}"


def render_incident(incident: Incident) -> str:
    return "\n".join(render_message(m, i) for i, m in enumerate(incident.messages))
