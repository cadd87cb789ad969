"""Keyword prefilter: run a rule only on the lines that hold one of its keywords.

Most rules need a keyword (``password``, ``xoxb``, ``hooks.slack.com`` …) that few lines of a log
contain; finding those lines with ``str.find`` and running the regex on them alone keeps ~200 rules
as fast on a 10k-line log as a handful of regexes over the whole text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Span = tuple[int, int]


def lower_same_length(text: str) -> str:
    """Lower-cased text whose offsets match ``text`` (a few characters such as "İ" grow when lowered)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


def candidate_lines(lowered: str, keywords: Sequence[Sequence[str]]) -> dict[Span, set[int]]:
    """For each line (start, end) holding a keyword, the indexes of the rules whose keywords it holds."""
    by_keyword: dict[str, list[int]] = {}
    for idx, words in enumerate(keywords):
        for word in words:
            by_keyword.setdefault(word, []).append(idx)
    lines: dict[Span, set[int]] = {}
    for word, idxs in by_keyword.items():
        pos = lowered.find(word)
        while pos != -1:
            start = lowered.rfind("\n", 0, pos) + 1
            end = lowered.find("\n", pos)
            end = len(lowered) if end == -1 else end
            lines.setdefault((start, end), set()).update(idxs)
            pos = lowered.find(word, end)
    return lines


def rewrite_lines(text: str, lines: dict[Span, set[int]], rewrite: Callable[[str, list[int]], str]) -> str:
    """``text`` with each candidate line replaced by ``rewrite(line, rule indexes in order)``."""
    if not lines:
        return text
    out: list[str] = []
    last = 0
    for start, end in sorted(lines):
        out += [text[last:start], rewrite(text[start:end], sorted(lines[(start, end)]))]
        last = end
    out.append(text[last:])
    return "".join(out)
