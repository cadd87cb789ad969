"""The spanning table (``spanning.toml``): our rules in gitleaks' format for a name and its secret apart, in other
elements or attributes, on later lines, behind a heredoc marker, or in a connection string. Each regex runs over the
whole text (it may span lines) when one of its keywords is in it; the secret is replaced as gitleaks' would be."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.core.prepare.redact import gitleaks
from bot.core.prepare.redact.local import placeholder
from bot.core.prepare.redact.scan import lower_same_length

DATA_FILE = Path(__file__).with_name("spanning.toml")


def redact_spanning(text: str, counts: Counter[str]) -> str:
    table = gitleaks.load(DATA_FILE)
    lowered = lower_same_length(text)
    for rule in table.rules:
        if rule.keywords and not any(word in lowered for word in rule.keywords):
            continue
        new = rule.redact_line(text, placeholder, counts, table.global_allow)
        if new != text:
            text, lowered = new, lower_same_length(new)
    return text
