"""Run the rules: URL-encoded tokens first, then our early rules, continued commands as one line, the spanning table
(name and value apart), name/value forms, the gitleaks list, our late rules."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from urllib.parse import unquote

from bot.core.redact import continued, gitleaks, local, scan, spanning, structured

_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_SPACE = re.compile(r"\s")
# Invisible format characters split a key or token ("pass\u200dword=", "xox\u200bb-…") so that no rule sees
# it; text holding them is redacted without them (they carry nothing a reader or the model needs).
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_MAX_DECODES = 3  # "%253D" is "%3D" encoded once more; deeper nesting does not occur in real URLs
# Threads repeat short messages ("+1", "ack", alert lines) and log records repeat too: a bounded
# cache of short texts takes a third off a 10k-message thread. At most ~2 MB.
_CACHED_UP_TO = 256


def _sub_line(pattern: re.Pattern[str], sub: Callable[[re.Match[str]], str], line: str, _rules: list[int]) -> str:
    """One candidate line rewritten by one rule (``_rules`` is for the gitleaks pass, which shares the index)."""
    return pattern.sub(sub, line)


def _apply(rules: Sequence[local.Rule], text: str, counts: Counter[str]) -> str:
    lowered = scan.lower_same_length(text)
    for rule in rules:
        # Cheap checks first: most rules find nothing in most texts (the search and `in` run in C).
        if rule.hints:
            if not any(hint in lowered for hint in rule.hints):
                continue
        elif not rule.pattern.search(text):
            continue

        def sub(m: re.Match[str], rule: local.Rule = rule) -> str:
            replacement, kind = rule.replace(m)
            if kind:
                counts[kind] += 1
            return replacement

        if rule.hints:  # only on the lines holding a hint
            new = scan.rewrite_lines(text, rule.index.lines(lowered), partial(_sub_line, rule.pattern, sub))
        else:
            new = rule.pattern.sub(sub, text)
        if new != text:  # offsets moved: the lower-cased copy must follow
            text, lowered = new, scan.lower_same_length(new)
    return text


def _redact_plain(text: str, counts: Counter[str]) -> str:
    text = _apply(local.BEFORE, text, counts)
    text = continued.redact_continued(text, counts, _redact_plain)
    text = spanning.redact_spanning(text, counts)
    text = _apply(structured.RULES, text, counts)
    text = structured.redact_blocks(text, counts)
    text = gitleaks.redact_gitleaks(text, scan.lower_same_length(text), local.placeholder, counts)
    return _apply(local.AFTER, text, counts)


def _decode_escaped(text: str, counts: Counter[str]) -> str:
    """Tokens with %XX escapes are decoded and redacted on their own (``token%3Dxoxb-…``).

    A token is replaced by its decoded, redacted form only when it held a secret: other URLs keep
    their encoding, so links in the text still work.
    """
    out: list[str] = []
    last = 0
    for m in _ESCAPE.finditer(text):
        if m.start() < last:
            continue  # inside the token just handled
        start = max(text.rfind(ch, 0, m.start()) for ch in " \t\r\n") + 1
        after = _SPACE.search(text, m.end())
        end = after.start() if after else len(text)
        token = decoded = text[start:end]
        for _ in range(_MAX_DECODES):
            step = unquote(decoded)
            if step == decoded:
                break
            decoded = step
        redacted, found = _redact_token(decoded) if decoded != token else (token, ())
        if found:
            counts.update(dict(found))
            out += [text[last:start], redacted]
        else:
            out += [text[last:start], token]
        last = end
    return "".join(out) + text[last:] if out else text


def redact(text: str) -> tuple[str, Counter[str]]:
    """Replace secrets and personal data with ``[REDACTED:<kind>]``; return the text and counts per kind."""
    if len(text) <= _CACHED_UP_TO:
        redacted, counts = _redact_short(text)
        return redacted, Counter(dict(counts))
    if len(text) >= _LARGE:
        redacted, counts = _redact_large(text)
        return redacted, Counter(dict(counts))
    return _redact(text)


# A large attachment is redacted by preparation and again by the digest (and again when a run shrinks its
# prompt): a few of them are kept, so a 5 MB log costs one pass, not three.
_LARGE = 64 * 1024


@lru_cache(maxsize=4)
def _redact_large(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    redacted, counts = _redact(text)
    return redacted, tuple(counts.items())


def _redact(text: str) -> tuple[str, Counter[str]]:
    visible = _INVISIBLE.sub("", text)
    if visible != text:
        redacted, found = _redact(visible)
        # Nothing found: the original text is returned as it was, invisible characters and all.
        return (redacted, found) if found else (text, found)
    counts: Counter[str] = Counter()
    if "%" in text:
        text = _decode_escaped(text, counts)
    return _redact_plain(text, counts), counts


@lru_cache(maxsize=4096)
def _redact_token(decoded: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    """A decoded URL token, redacted; access logs repeat the same query strings."""
    found: Counter[str] = Counter()
    return _redact_plain(decoded, found), tuple(found.items())


@lru_cache(maxsize=4096)
def _redact_short(text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
    redacted, counts = _redact(text)
    return redacted, tuple(counts.items())


def redact_text(text: str) -> str:
    """:func:`redact` without the counts: for the model's answer, report text and log records."""
    return redact(text)[0]

