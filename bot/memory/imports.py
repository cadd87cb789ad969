"""`python -m bot import DIR`: a team's existing postmortems (markdown or text reviews, Slack export day files) read
into memory with the same loader and digest as a run, so recall works on day one."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.digest import build_digest, default_rules
from bot.core.digest.extract import one_line, services
from bot.core.digest.model import parse_time
from bot.core.incident.decode import decode_incident
from bot.core.incident.load import load_incident
from bot.core.incident.model import cleaned, render_incident
from bot.core.memory import classes_in, signals_of
from bot.core.memory.signals import MAX_PER_KIND, TITLE_CHARS, incident_id
from bot.core.redact import redact_text
from bot.errors import PostmortemError
from bot.memory.entry import cause_of_text, plain
from bot.memory.index import Entry

SUFFIXES = frozenset({".md", ".markdown", ".txt", ".log", ".json"})
MAX_TESTS = 8
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$|^\*\*(.+?)\*\*:?\s*$", re.MULTILINE)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+)$")
_CAUSE = re.compile(r"root[- ]?cause|\bcause", re.IGNORECASE)
_TESTS = re.compile(r"\btests?\b|action items?|follow[- ]?ups?|remediation|prevention|corrective", re.IGNORECASE)


@dataclass(frozen=True)
class Imported:
    path: Path
    title: str | None = None
    error: str | None = None  # why the file was not imported (its one-line cause and fix)


def files_in(folder: Path) -> Iterator[Path]:
    """Postmortem files under ``folder``, in a stable order; hidden files and folders are skipped, and linked folders
    are not followed (a link loop would never end)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(root) / f for f in files if not f.startswith(".") and Path(f).suffix.lower() in SUFFIXES]
    yield from sorted(p for p in found if p.is_file())


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each markdown section ("**Root cause:**" lines count as headings)."""
    marks = list(_HEADING.finditer(text))
    return [(m.group(1) or m.group(2), text[m.end(): marks[n + 1].start() if n + 1 < len(marks) else len(text)])
            for n, m in enumerate(marks)]


def tests_in(text: str) -> list[dict[str, str]]:
    """List items under a tests / action items / follow-ups heading: the review's own follow-ups."""
    tests: list[dict[str, str]] = []
    for heading, body in sections(text):
        if _TESTS.search(heading):
            for line in body.splitlines():
                item = _ITEM.match(line)
                if item and len(tests) < MAX_TESTS:
                    tests.append({"name": redact_text(one_line(plain(item.group(1)), 120)), "type": "", "ticket_url": "",
                                  "ticket_key": ""})
    return tests


def title_of(text: str, fallback: str) -> str:
    first = next((plain(line.strip().lstrip("#")) for line in text.splitlines() if plain(line.strip().lstrip("#"))), "")
    return redact_text(one_line(first, TITLE_CHARS) or fallback)


def entry_for_file(path: Path) -> Entry:
    """One file as memory keeps it. Raises PostmortemError (InputError) for a file that is not a postmortem."""
    incident = cleaned(load_incident(str(path)))  # checks the file as `analyze` does: encoding, binary, no content
    # A review's own headings (root cause, action items) are read from the file as written.
    text = render_incident(incident) if incident.source.startswith("slack") else decode_incident(path.read_bytes(), path.name)
    digest = build_digest(incident)
    signals = signals_of(digest, path.stem)
    title = title_of(text, path.stem) if not incident.source.startswith("slack") else signals.headline
    cause_text = next((body for heading, body in sections(text) if _CAUSE.search(heading)), "")
    cause = cause_of_text(cause_text, signals)
    signals = signals.with_classes(classes_in(cause))
    # A review names its services anywhere (its title, its headings), not only in lines the digest reads as events.
    named = sorted({*signals.services, *(n.lower() for n in services(text, default_rules().components))})[:MAX_PER_KIND]
    signals = replace(signals, services=tuple(named))
    at = parse_time(digest.started)
    name = incident_id(title) or incident_id(path.stem)
    return Entry(source=f"file:{path.resolve()}", title=f"{name} {title}" if name and name not in title.upper() else title,
                 signals=signals, status="imported", primary_cause=cause, tests=tests_in(text), body=redact_text(text),
                 started_at=at.timestamp() if at else None)


def read_folder(folder: Path) -> Iterator[tuple[Imported, Entry | None]]:
    for path in files_in(folder):
        try:
            entry = entry_for_file(path)
        except PostmortemError as exc:
            yield Imported(path, error=str(exc)), None
            continue
        yield Imported(path, entry.title), entry
