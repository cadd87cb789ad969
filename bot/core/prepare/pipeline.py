"""Incident → prompt-ready text: redact, reduce traces, fold repeats, fit the token budget.

Every string that reaches the model is redacted: message and attachment text, file names, author
(display) names and the incident title, which carries the channel name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.core.incident.model import Attachment, Incident, Message, message_head, message_id, render_message
from bot.core.prepare.budget import MessageBlock, Rank, Unit, estimate_tokens, fit_to_budget
from bot.core.prepare.classify import is_change, is_chatter, is_key
from bot.core.prepare.fold import Folded, Folder, fold_log, mask
from bot.core.prepare.traces import Chunk
from bot.core.redact import redact

# A message with this many lines (or with attached text) is a log paste: folded line by line.
# Shorter messages are chat and fold only across the thread (per author).
LOG_BLOCK_LINES = 8


@dataclass
class PreparedIncident:
    text: str  # redacted, folded, within budget; `[m3] [ISO] author: text` lines like render_message
    title: str  # the incident title (channel name), redacted: the prompt uses this, not Incident.title
    message_count: int  # messages in the input
    redactions: dict[str, int]
    omitted: list[str]  # what was left out, human readable; empty when nothing was
    token_estimate: int
    original_chars: int
    folded_templates: int  # how many templates folding produced


def _chat_rank(text: str) -> Rank:
    if is_key(text):
        return Rank.KEY
    return Rank.CHATTER if is_chatter(text) else Rank.DISCUSSION


def _log_units(folded: list[Folded]) -> list[Unit]:
    return [
        Unit(f.line, Rank.KEY if f.trace or is_key(f.sample) else Rank.ROUTINE, True, f.first_ts, f.last_ts, f.count)
        for f in folded
    ]


@dataclass
class _BlockBuilder:
    """Accumulates blocks by message index; chat messages go through one thread-wide Folder."""

    messages: list[Message]
    redactions: Counter[str] = field(default_factory=Counter)
    templates: int = 0
    blocks: dict[int, MessageBlock] = field(default_factory=dict)
    chat: Folder = field(default_factory=Folder)
    authors: dict[str, str] = field(default_factory=dict)  # raw → redacted; a thread has few authors

    def clean(self, text: str) -> str:
        text, counts = redact(text)
        self.redactions.update(counts)
        return text

    def author(self, msg: Message) -> str:
        if msg.author not in self.authors:
            self.authors[msg.author] = self.clean(msg.author)
        return self.authors[msg.author]

    def fold(self, text: str) -> list[Unit]:
        folded, templates = fold_log(text)
        self.templates += templates
        return _log_units(folded)

    def attachment(self, att: Attachment) -> list[Unit]:
        # Same wording as Message.full_text, so the model sees files the same way in every path.
        name = self.clean(att.name)
        if att.text is None:
            return [Unit(f"[file: {name} (binary, not read)]", Rank.ROUTINE, True)]
        return [Unit(f"[file: {name}]", Rank.KEY, True), *self.fold(self.clean(att.text))]

    def add(self, idx: int, msg: Message, pinned: bool) -> None:
        author = self.author(msg)
        text = self.clean(msg.text)
        if not msg.attachments and text.count("\n") + 1 < LOG_BLOCK_LINES and not pinned:
            # Messages fold per author only when identical up to numbers and ids (alert bots): people's
            # different sentences must not become one template. Deploy-type messages only when identical.
            flat = " ".join(text.split())
            key = flat if is_change(flat) else mask(flat)
            self.chat.add(idx, Chunk(text, msg.iso_ts, flat), group=author, exact_key=key)
            return
        if text.count("\n") + 1 >= LOG_BLOCK_LINES:
            units = self.fold(text)
        elif text:
            units = [Unit(text, _chat_rank(text), False, msg.iso_ts)]
        else:
            units = []
        for att in msg.attachments:
            units += self.attachment(att)
        if pinned and units:
            units[0].rank = units[-1].rank = Rank.PINNED
        self.blocks[idx] = MessageBlock(message_head(idx, msg, author), units or [Unit("", Rank.PINNED if pinned else Rank.CHATTER)])

    def add_chat(self) -> None:
        self.templates += self.chat.templates
        for f in self.chat.result():
            msg = self.messages[f.pos]
            author = self.authors[msg.author]
            # Folded repeats carry the id of their first message: the one the model can cite for all of them.
            head = f"[{message_id(f.pos)}] {f.prefix} {author}:" if f.count > 1 else message_head(f.pos, msg, author)
            unit = Unit(f.text, _chat_rank(f.sample), False, f.first_ts, f.last_ts, f.count)
            self.blocks[f.pos] = MessageBlock(head, [unit])


def prepare_incident(incident: Incident, budget_tokens: int) -> PreparedIncident:
    """Redact, reduce traces, fold repeats and fit ``budget_tokens``; linear in the input size."""
    messages = incident.messages
    builder = _BlockBuilder(messages)
    title = builder.clean(incident.title)
    last = len(messages) - 1
    for idx, msg in enumerate(messages):
        # The first message states the problem and the last usually the resolution: never folded away.
        builder.add(idx, msg, pinned=idx in (0, last))
    builder.add_chat()
    fitted = fit_to_budget([builder.blocks[i] for i in sorted(builder.blocks)], budget_tokens)
    original = sum(len(render_message(m, i)) for i, m in enumerate(messages)) + max(len(messages) - 1, 0)
    return PreparedIncident(
        text=fitted.text,
        title=title,
        message_count=len(messages),
        redactions=dict(sorted((builder.redactions + Counter(incident.redacted)).items())),
        omitted=fitted.omitted,
        token_estimate=estimate_tokens(fitted.text),
        original_chars=original,
        folded_templates=builder.templates,
    )
