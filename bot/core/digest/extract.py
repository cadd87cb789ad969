"""Line-level extraction for the digest: metric jumps, service names, error level, short display lines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

# A measurement: optional folded range ("5.0–29.9%"), a unit. Not part of a version or an id ("v2.31.0", "db01").
_VAL = r"~?\d+(?:\.\d+)?(?:–\d+(?:\.\d+)?)?(?:%|ms|µs|us|s|sec|min|m|h|[KMGT]i?B|[kKM]|x|rps|qps)?"
_NUM = rf"(?<![\w.])(?:{_VAL})(?![\w.]\d|\w)"
# "4.8s (threshold 2s)": up to three words between a value and its reference, none of them a number.
_REFERENCE = rf"(?P<b>{_NUM})(?:[ \t]+[^\s(\d][^\s(]*){{0,3}}[ \t]*\((?:WORDS)\s*:?\s*(?P<a>{_NUM})\)"
_JUMPS: tuple[tuple[Literal["change", "threshold", "baseline"], re.Pattern[str]], ...] = (
    ("change", re.compile(rf"(?P<a>{_NUM})\s*(?:→|->|=>|⇒)\s*(?P<b>{_NUM})")),
    ("change", re.compile(rf"\bfrom\s+(?P<a>{_NUM})\s+to\s+(?P<b>{_NUM})", re.IGNORECASE)),
    ("threshold", re.compile(_REFERENCE.replace("WORDS", "threshold|slo|target|limit"), re.IGNORECASE)),
    ("baseline", re.compile(_REFERENCE.replace("WORDS", "baseline|normal(?:ly)?|usual(?:ly)?|was"), re.IGNORECASE)),
)
_DIGIT = re.compile(r"\d")
_CLAUSE = re.compile(r"[.;:,(/\[\]\n!?]|\s[-—]\s")
_FILLER = frozenset(["the", "a", "an", "is", "was", "are", "were", "went", "jumped", "rose", "dropped", "fell", "grew", "spiked",
                     "climbed", "at", "on", "of", "from"])
# A metric's name never reaches back past a conjunction: "no backoff and the pool size went from …".
_CONJUNCTION = frozenset(["and", "but", "so", "then", "with", "while", "after", "because"])

# Service-like names: "checkout-api", "db-primary", "fraud-check.internal".
_SERVICE = re.compile(
    r"\b(?:[a-z][a-z0-9]*-)+(?:api|service|svc|db|worker|web|app|gateway|gw|proxy|cache|queue|primary|replica|server"
    r"|backend|frontend|consumer|producer|scheduler|cron|job)\b"
    r"|\b(?:db|pg|redis|kafka|mysql|mongo|es)-[a-z0-9]+(?:-[a-z0-9]+)*\b"
    r"|\b[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:internal|svc|local|cluster\.local)\b"
)
# Log level or exception wording that makes a folded template an error burst.
_ERROR_LEVEL = re.compile(r"\b(?:ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE|EMERG|ALERT)\b|\w+(?:Error|Exception)\b|\bpanic:")

MAX_LINE = 180


def metric_jumps(text: str) -> Iterator[tuple[str, str, str, Literal["change", "threshold", "baseline"], str]]:
    """(name, before, after, basis, line) for each jump in ``text``; the name is the clause's last words."""
    if not _DIGIT.search(text):
        return
    for basis, regex in _JUMPS:
        for match in regex.finditer(text):
            before_text = text[: match.start()]
            words: list[str] = []
            for word in reversed(_CLAUSE.split(before_text)[-1].split()):
                if word.lower() in _CONJUNCTION or len(words) == 3:
                    break
                if word.lower() not in _FILLER and any(ch.isalnum() for ch in word):
                    words.insert(0, word)
            name = " ".join(words) or "value"
            yield name, match.group("a").lstrip("~"), match.group("b").lstrip("~"), basis, line_at(text, match.start())


def services(text: str, components: re.Pattern[str] | None) -> Iterator[str]:
    yield from (m.group(0) for m in _SERVICE.finditer(text))
    if components is not None:
        yield from (m.group(0).lower() for m in components.finditer(text))


def is_error(text: str) -> bool:
    return bool(_ERROR_LEVEL.search(text))


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """The first non-empty line, shortened at a word: what the timeline and evidence show."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return f"{cut} …"


def line_at(text: str, pos: int) -> str:
    """The line of ``text`` holding character ``pos`` (the evidence of a regex match), shortened."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return one_line(text[start : end if end >= 0 else len(text)])
