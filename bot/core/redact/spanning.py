"""The spanning table (``spanning.toml``): our rules in gitleaks' format for a name and its secret apart, in other
elements or attributes, on later lines, behind a heredoc marker, or in a connection string. A regex may span lines;
it runs on the stretch of text around each of its keywords (from a little before the keyword's line, for a value
written before its name, to a bounded span after it, for a heredoc's body), not over the whole text: a rule that
needs Python's engine (a heredoc's end marker is a back-reference) would otherwise take seconds on a 5 MB log."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.core.redact import gitleaks
from bot.core.redact.local import placeholder
from bot.core.redact.scan import lower_same_length

DATA_FILE = Path(__file__).with_name("spanning.toml")
# How far before a keyword a match may start (a value written before its name) and after it a match may end (a
# heredoc's body, an element's value on later lines).
_BEFORE = 4096
_AFTER = 16384


def _windows(text: str, lowered: str, keywords: tuple[str, ...]) -> list[tuple[int, int]]:
    """Merged [start, end) stretches, on line boundaries, around each keyword occurrence."""
    hits = sorted(pos for word in keywords for pos in _find_all(lowered, word))
    windows: list[tuple[int, int]] = []
    for pos in hits:
        start = text.rfind("\n", 0, max(0, pos - _BEFORE)) + 1
        end = text.find("\n", min(len(text), pos + _AFTER))
        end = len(text) if end == -1 else end
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _find_all(lowered: str, word: str) -> list[int]:
    found, pos = [], lowered.find(word)
    while pos != -1:
        found.append(pos)
        pos = lowered.find(word, pos + len(word))
    return found


def redact_spanning(text: str, counts: Counter[str]) -> str:
    table = gitleaks.load(DATA_FILE)
    lowered = lower_same_length(text)
    for rule in table.rules:
        windows = _windows(text, lowered, rule.keywords) if rule.keywords else [(0, len(text))]
        if not windows:
            continue
        out: list[str] = []
        last = 0
        for start, end in windows:
            out += [text[last:start], rule.redact_line(text[start:end], placeholder, counts, table.global_allow)]
            last = end
        new = "".join(out) + text[last:]
        if new != text:  # offsets moved: the lower-cased copy must follow
            text, lowered = new, lower_same_length(new)
    return text
