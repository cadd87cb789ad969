"""A finished postmortem as memory keeps it: what a later recall shows and searches. Everything is redacted here,
once more, whatever its source already did, because memory outlives the run."""

from __future__ import annotations

import re

from bot.core.digest.model import parse_time
from bot.core.memory import Signals, classes_in
from bot.core.memory.render import without_seen_before
from bot.core.memory.signals import class_titles
from bot.core.redact import redact_text
from bot.core.run import Run, RunFacts
from bot.core.sections import Section, SectionId
from bot.memory.index import Entry

CAUSE_CHARS = 300
_CITATION = re.compile(r"\s*\[m\d+(?:\s*,\s*m\d+)*\]")
_MARKUP = re.compile(r"[*_`#>]+")
_PRIMARY = re.compile(r"primary(?: root)? cause\s*:?\s*", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def plain(text: str) -> str:
    """Markdown and evidence ids out, one line: "[m2, m3]" means nothing outside the run that cited it."""
    return " ".join(_MARKUP.sub("", _CITATION.sub("", text)).split())


def primary_cause(text: str) -> str:
    """The primary root-cause sentence of a Root Cause Determination (or of a team's own review): the line after
    "Primary root cause:" when there is one, else the first sentence."""
    lines = [plain(line) for line in text.splitlines() if plain(line)]
    for n, line in enumerate(lines):
        found = _PRIMARY.search(line)
        if found:
            rest = line[found.end():].strip() or (lines[n + 1] if n + 1 < len(lines) else "")
            return _first_sentence(rest)
    return _first_sentence(" ".join(lines))


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE.split(text.strip(), maxsplit=1)[0] if text.strip() else ""
    return redact_text(sentence if len(sentence) <= CAUSE_CHARS else sentence[:CAUSE_CHARS - 1].rsplit(" ", 1)[0] + "…")


def cause_of(sections: list[Section], signals: Signals) -> str:
    """The model's primary cause; for a run without one (degraded), the failure classes the rules recognised."""
    root = next((s for s in sections if s.id is SectionId.ROOT_CAUSE), None)
    return cause_of_text(root.body if root is not None else "", signals)


def cause_of_text(text: str, signals: Signals) -> str:
    """The primary cause written in ``text``; without one, the failure classes the rules recognised."""
    if text.strip() and (cause := primary_cause(text)):
        return cause
    titles = class_titles()
    named = ", ".join(titles.get(c, c) for c in signals.classes)
    return f"rule-based: {named}" if named else ""


def tests_of(info: RunFacts) -> list[dict[str, str]]:
    """The plan's tests, each with its ticket when the run filed one (CLI ``--tickets``; Slack's are read live)."""
    filed = {str(t.get("test")): t for t in info.tickets if t.get("url")}
    tests = []
    for test in info.tests:
        name = redact_text(str(test.get("name") or "test"))
        ticket = filed.get(str(test.get("name")), {})
        tests.append({"name": name, "type": str(test.get("type") or ""), "ticket_url": ticket.get("url", ""),
                      "ticket_key": ticket.get("key", "")})
    return tests


def entry_for_run(run: Run, sections: list[Section], report: str, *, source: str, run_id: int | None = None,
                  channel: str | None = None, thread_ts: str | None = None, private: bool = False, link: str | None = None) -> Entry:
    """A finished run (Slack or CLI, degraded too)."""
    info = run.facts
    signals = Signals.from_dict(info.signals)
    cause = cause_of(sections, signals)
    signals = signals.with_classes(classes_in(cause))
    started = parse_time(signals.started)
    return Entry(source=source, title=redact_text(signals.headline or "incident"), signals=signals, status=run.status.value,
                 primary_cause=cause, tests=tests_of(info), body=redact_text(without_seen_before(report)),
                 started_at=started.timestamp() if started else None, run_id=run_id, channel=channel, thread_ts=thread_ts,
                 private=private, link=link)
