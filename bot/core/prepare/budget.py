"""Token estimate and fitting prepared content into a token budget, least informative first.

Drop order when over budget: acknowledgement chatter, routine log lines, long lines shortened,
discussion messages, then (last resort) key lines; always from the middle outwards, so the start
and end of the incident survive longest. Pinned units (first/last message) are only shortened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from bot.core.prepare.timestamps import clock_range

# Ollama has no tokenize endpoint, so tokens are estimated from characters. Llama-family tokenizers
# average ~4 chars/token on English but less on logs (digits, punctuation, ids); 3.6 leaves margin.
# Integer arithmetic (×10/36) so that estimate_tokens(text[:chars_for(b)]) <= b holds exactly.
_TENTHS_PER_TOKEN = 36
LONG_LINE = 300  # first truncation step
SHORT_LINE = 120  # truncation of pinned lines when nothing else is left to drop


def estimate_tokens(text: str) -> int:
    """≈ ceil(chars / 3.6)."""
    return -(-len(text) * 10 // _TENTHS_PER_TOKEN)


def chars_for(tokens: int) -> int:
    """The most characters whose estimate fits in ``tokens``."""
    return max(tokens, 0) * _TENTHS_PER_TOKEN // 10


class Rank(IntEnum):
    CHATTER = 0
    ROUTINE = 1
    DISCUSSION = 2
    KEY = 3
    PINNED = 4


# Nouns for omission notes, by (rank, is a log line): singular, plural.
_NOUNS: dict[tuple[Rank, bool], tuple[str, str]] = {
    (Rank.CHATTER, False): ("chat message (acknowledgement)", "chat messages (acknowledgements)"),
    (Rank.ROUTINE, True): ("routine log line", "routine log lines"),
    (Rank.ROUTINE, False): ("routine message", "routine messages"),
    (Rank.DISCUSSION, False): ("discussion message", "discussion messages"),
    (Rank.DISCUSSION, True): ("message line", "message lines"),
    (Rank.KEY, True): ("error/alert/deploy log line (over budget)", "error/alert/deploy log lines (over budget)"),
    (Rank.KEY, False): ("error/alert/deploy message (over budget)", "error/alert/deploy messages (over budget)"),
}


@dataclass(slots=True)
class Unit:
    """The smallest thing that can be dropped: a message body, a log line, a folded template, a trace."""

    text: str
    rank: Rank
    log: bool = False  # a log line rather than a chat message (for the omission note)
    ts: str | None = None
    last_ts: str | None = None
    weight: int = 1  # input lines or messages this unit stands for (folded templates stand for many)


@dataclass(slots=True)
class MessageBlock:
    """A message as rendered: ``head`` ("[ISO] author:") and its body units. Empty blocks vanish."""

    head: str
    units: list[Unit]


def render_block(head: str, body: Sequence[str]) -> str:
    """Same layout as incident.render_message: one-line bodies on the head line, others below it."""
    text = "\n".join(body)
    return f"{head}\n{text}" if "\n" in text else f"{head} {text}"


@dataclass
class Fitted:
    text: str
    omitted: list[str]


@dataclass(slots=True)
class _Dropped:
    count: int = 0
    # Earliest and latest timestamps as written; string order is time order within one format (ISO, epoch).
    first: str | None = None
    last: str | None = None


class _Fitter:
    def __init__(self, blocks: Sequence[MessageBlock], limit: int) -> None:
        self.blocks = blocks
        self.limit = limit
        self.flat = [(b, u) for b, block in enumerate(blocks) for u in block.units]
        self.alive = [True] * len(self.flat)
        self.left = [len(block.units) for block in blocks]
        # Rendered length: each block is head + separator + units joined by newlines, blocks joined by newlines.
        self.size = sum(len(b.head) + 1 for b in blocks if b.units) + sum(len(u.text) + 1 for _, u in self.flat) - 1
        self.dropped: dict[tuple[Rank, bool], _Dropped] = {}
        self.notes: list[str] = []

    def over(self) -> bool:
        return self.size > self.limit

    def _middle_first(self, pick: object) -> list[int]:
        n = len(self.flat)
        idx = [i for i, (_, u) in enumerate(self.flat) if self.alive[i] and pick(u)]  # type: ignore[operator]
        return sorted(idx, key=lambda i: -min(i, n - 1 - i))

    def drop(self, rank: Rank) -> None:
        for i in self._middle_first(lambda u: u.rank == rank):
            if not self.over():
                break
            b, unit = self.flat[i]
            self.alive[i] = False
            self.size -= len(unit.text) + 1
            self.left[b] -= 1
            if not self.left[b]:
                self.size -= len(self.blocks[b].head) + 1
            rec = self.dropped.setdefault((unit.rank, unit.log), _Dropped())
            rec.count += unit.weight
            end = unit.last_ts or unit.ts
            if unit.ts and (rec.first is None or unit.ts < rec.first):
                rec.first = unit.ts
            if end and (rec.last is None or end > rec.last):
                rec.last = end

    def shorten(self, width: int, min_rank: Rank = Rank.CHATTER) -> None:
        shortened = 0
        for i in self._middle_first(lambda u: u.rank >= min_rank and any(len(x) > width for x in u.text.split("\n"))):
            if not self.over():
                break
            unit = self.flat[i][1]
            new = "\n".join(_cut(line, width, unit.ts) for line in unit.text.split("\n"))
            self.size -= len(unit.text) - len(new)
            unit.text = new
            shortened += 1
        if shortened:
            noun = "entry" if shortened == 1 else "entries"
            self.notes.append(f"{shortened} long {noun} shortened to {width} characters per line")

    def render(self) -> str:
        bodies: list[list[str]] = [[] for _ in self.blocks]
        for i, (b, unit) in enumerate(self.flat):
            if self.alive[i]:
                bodies[b].append(unit.text)
        return "\n".join(render_block(block.head, body) for block, body in zip(self.blocks, bodies, strict=True) if body)

    def omitted(self) -> list[str]:
        notes = []
        for key, rec in self.dropped.items():
            singular, plural = _NOUNS[key]
            span = clock_range(rec.first, rec.last)
            notes.append(f"{rec.count} {singular if rec.count == 1 else plural}{span}")
        return notes + self.notes


def _cut(line: str, width: int, ts: str | None) -> str:
    if len(line) <= width:
        return line
    cut = line[: width - 1] + "…"
    # Every kept line keeps its timestamp, even when it sat past the cut.
    return f"{ts} {cut}" if ts and ts in line and ts not in cut else cut


def fit_to_budget(blocks: Sequence[MessageBlock], budget_tokens: int) -> Fitted:
    """Render ``blocks`` within ``budget_tokens`` (by estimate_tokens), dropping least informative first.

    Units are modified in place when shortened. Over budget even with only pinned units left, the text is cut.
    """
    fitter = _Fitter(blocks, chars_for(budget_tokens))
    fitter.drop(Rank.CHATTER)
    fitter.drop(Rank.ROUTINE)
    if fitter.over():
        fitter.shorten(LONG_LINE)
    fitter.drop(Rank.DISCUSSION)
    fitter.drop(Rank.KEY)
    if fitter.over():
        fitter.shorten(SHORT_LINE, Rank.PINNED)
    text = fitter.render()
    omitted = fitter.omitted()
    if len(text) > fitter.limit:
        text = text[: max(fitter.limit - 1, 0)] + "…" if fitter.limit else ""
        omitted.append("the end of the remaining text (over budget even after dropping everything else)")
    return Fitted(text, omitted)
