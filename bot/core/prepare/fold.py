"""Fold repeated and near-identical lines into drain3 templates with a count and first/last timestamps.

``[×412, 2024-05-01T10:02:03Z … 10:09:55Z] ERROR pool: connection <*> timeout after 28–33s``
Ids that vary become ``<*>``, measurements that vary a range. Lines seen fewer than ``min_count``
times stay verbatim; output keeps the order of first appearance.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

from bot.core.prepare.classify import is_change
from bot.core.prepare.timestamps import ts_span
from bot.core.prepare.traces import Chunk, split_traces

# Two copies folded into one template line save nothing and lose the values; three start to pay.
MIN_FOLD = 3
# drain3 logs "Starting Drain3 template miner" at INFO for every miner; that is noise in the bot's log.
logging.getLogger("drain3").setLevel(logging.WARNING)

# Not drain's own "<*>": drain does not count "<*>" tokens as similar, so lines made mostly of ids
# would never cluster. Shown as "<*>" in the output.
_MASK_TOKEN = "<#>"
_MASK = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"  # UUID
    r"|\b0x[0-9a-fA-F]+\b"
    r"|\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b"  # hashes, request ids
    r"|\d+(?:[.:,]\d+)*"  # numbers, IPs with ports, versions, durations' digits
)
_SPACE = re.compile(r"(\s+)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Measurements (a decimal, or a number with a unit) that vary are shown as a range, "error rate 5.0–24.9%",
# so a folded alert keeps its spike. Plain integers are usually ids (conn 12, tx 4711) and become <*>.
_MEASURE = re.compile(r"\d+\.\d+|\d+(?=(?:%|ms|us|s|m|h|[KMGT]i?B?)(?![A-Za-z]))")


def mask(text: str) -> str:
    """Replace ids and numbers so that lines which differ only in them cluster together."""
    return _MASK.sub(_MASK_TOKEN, text)


def _measure(token: str) -> tuple[str, str, str] | None:
    """(text before, number, text after) when the token holds one measurement. The key of
    "p99=820ms" is skipped so that its digits do not count."""
    value_at = max(token.rfind("="), token.rfind(":")) + 1
    value = token[value_at:]
    numbers = list(_NUMBER.finditer(value))
    if len(numbers) != 1 or not _MEASURE.search(value):
        return None
    number = numbers[0]
    return token[: value_at + number.start()], number.group(), value[number.end() :]


def _miner() -> TemplateMiner:
    config = TemplateMinerConfig()  # configured here; no drain3.ini is read
    config.drain_sim_th = 0.6  # above drain's 0.4 so distinct errors sharing a logger prefix stay apart
    config.drain_depth = 4
    config.drain_max_children = 100
    config.parametrize_numeric_tokens = True
    return TemplateMiner(config=config)


@dataclass(frozen=True, slots=True)
class Folded:
    """One output entry: a verbatim chunk (count 1) or a folded template."""

    pos: int
    text: str  # the verbatim chunk, or the template without its [×N] prefix
    count: int
    first_ts: str | None
    last_ts: str | None
    sample: str  # first original text, for classification (templates have lost their numbers)
    trace: bool = False

    @property
    def prefix(self) -> str:
        """'[×412, first … last]' for a folded entry, '' for a verbatim one."""
        if self.count == 1:
            return ""
        span = ts_span(self.first_ts, self.last_ts)
        return f"[×{self.count}, {span}]" if span else f"[×{self.count}]"

    @property
    def line(self) -> str:
        return f"{self.prefix} {self.text}" if self.count > 1 else self.text


@dataclass(slots=True)
class _Group:
    first: Chunk
    parts: list[str]  # the first text split into tokens (even indexes) and the whitespace between them
    tokens: list[str]  # parts[0::2]
    varies: list[bool]  # per token: did any later member differ? Constant tokens are shown as written.
    samples: list[tuple[int, Chunk]] = field(default_factory=list)
    count: int = 0
    last_ts: str | None = None
    cluster_id: int | None = None  # None for exact-key groups
    # token index → (low, high) of a varying measurement; None when that token is not one
    ranges: dict[int, tuple[str, str] | None] = field(default_factory=dict)

    def compare(self, tokens: list[str]) -> None:
        if len(tokens) != len(self.tokens):
            self.varies = [True] * len(self.tokens)
            self.ranges = dict.fromkeys(range(len(self.tokens)))
            return
        for i, (first, token) in enumerate(zip(self.tokens, tokens, strict=True)):
            if first != token:
                self.varies[i] = True
                self._widen(i, first, token)

    def _widen(self, i: int, first: str, token: str) -> None:
        if i in self.ranges and self.ranges[i] is None:
            return
        a, b = _measure(first), _measure(token)
        if a is None or b is None or (a[0], a[2]) != (b[0], b[2]):
            self.ranges[i] = None
            return
        low, high = self.ranges.get(i) or (a[1], a[1])
        self.ranges[i] = (min(low, b[1], key=float), max(high, b[1], key=float))


class Folder:
    """Streams chunks in; ``result()`` gives folded entries in order of first appearance.

    Memory is one group per distinct template plus at most ``min_count - 1`` samples each.
    """

    def __init__(self, min_count: int = MIN_FOLD) -> None:
        self.min_count = min_count
        self._miner: TemplateMiner | None = None  # created on first use: exact-key folding needs none
        self._groups: dict[Hashable, _Group] = {}

    def add(self, pos: int, chunk: Chunk, *, group: Hashable = None, exact_key: str | None = None) -> None:
        """Add a chunk. ``group`` keeps clusters apart (e.g. per author); ``exact_key`` bypasses drain."""
        cluster_id = None
        if exact_key is not None:
            key: Hashable = (group, "=", exact_key)
        else:
            if self._miner is None:
                self._miner = _miner()
            cluster_id = self._miner.add_log_message(mask(chunk.bare))["cluster_id"]
            key = (group, cluster_id)
        grp = self._groups.get(key)
        if grp is None:
            parts = _SPACE.split(chunk.bare.strip())
            tokens = parts[0::2]
            grp = self._groups[key] = _Group(chunk, parts, tokens, [False] * len(tokens), cluster_id=cluster_id)
        else:
            grp.compare(chunk.bare.split())
        grp.count += 1
        grp.last_ts = chunk.ts or grp.last_ts
        if len(grp.samples) < self.min_count - 1:
            grp.samples.append((pos, chunk))

    def _template(self, grp: _Group) -> str:
        """The first text with every token that varied shown as a range or its masked form (drain's, for clusters)."""
        if grp.cluster_id is not None and self._miner is not None:
            mined: Sequence[str] = self._miner.drain.id_to_cluster[grp.cluster_id].log_template_tokens
        else:
            mined = [mask(tok) for tok in grp.tokens]
        parts = list(grp.parts)
        for i, vary in enumerate(grp.varies):
            span, measured = grp.ranges.get(i), _measure(grp.tokens[i])
            if span and measured:
                parts[2 * i] = f"{measured[0]}{span[0]}–{span[1]}{measured[2]}"
            elif vary:
                parts[2 * i] = mined[i].replace(_MASK_TOKEN, "<*>")
        return "".join(parts)

    def result(self) -> list[Folded]:
        out: list[Folded] = []
        for grp in self._groups.values():
            first_pos = grp.samples[0][0]
            if grp.count >= self.min_count:
                first_ts = next((c.ts for _, c in grp.samples if c.ts), None)
                template = self._template(grp)
                out.append(Folded(first_pos, template, grp.count, first_ts, grp.last_ts, grp.first.text, grp.first.trace))
            else:
                out += [Folded(p, c.text, 1, c.ts, c.ts, c.text, c.trace) for p, c in grp.samples]
        out.sort(key=lambda f: f.pos)
        return out

    @property
    def templates(self) -> int:
        """How many folded templates the result contains."""
        return sum(1 for g in self._groups.values() if g.count >= self.min_count)


def fold_chunks(chunks: Iterable[Chunk], min_count: int = MIN_FOLD) -> tuple[list[Folded], int]:
    """Fold log chunks. Traces fold only when identical (ignoring numbers); deploy-type lines only when
    identical, because their versions matter more than the saving. Blank lines are dropped."""
    folder = Folder(min_count)
    for pos, chunk in enumerate(chunks):
        if not chunk.bare.strip():
            continue
        if chunk.trace:
            folder.add(pos, chunk, exact_key=mask(chunk.bare))
        elif is_change(chunk.bare):
            folder.add(pos, chunk, exact_key=chunk.bare)
        else:
            folder.add(pos, chunk)
    return folder.result(), folder.templates


def fold_log(text: str, min_count: int = MIN_FOLD) -> tuple[list[Folded], int]:
    """Reduce stack traces, then fold: the log-block pipeline for one message or file. Preparation and the
    digest fold the same (redacted) file, so the last few results are kept; callers get their own list."""
    folded, templates = _fold_log(text, min_count)
    return list(folded), templates


@lru_cache(maxsize=4)
def _fold_log(text: str, min_count: int) -> tuple[tuple[Folded, ...], int]:
    folded, templates = fold_chunks(split_traces(text.splitlines()), min_count)
    return tuple(folded), templates
