"""A text's lines → blocks: timed rows (timeline entries, chat lines) and prose paragraphs, each with its section.

Code fences are kept whole as prose: a quoted log line is evidence, never a row of the incident's timeline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import tzinfo

from bot.core.incident.model import Section
from bot.core.incident.structure.sections import heading, labelled, section_of
from bot.core.incident.structure.tables import table_rows
from bot.core.incident.structure.times import Stamp, leading_stamp, zone_named

_MARKER = re.compile(r"\s*(?:[-*+•●▪◦]\s+|\d{1,3}[.)]\s+)?(?:\*\*|__|[*_\[(>])*\s*")
_AFTER_STAMP = re.compile(r"[\s*_\])]*(?:\s*[-–—:|>=]+\s*|\s+)?")
# "Anna Smith  10:32 AM", "Anna — 10:32", "Anna [10:32]": a chat client's copy of a message header.
_NAME_HEAD = re.compile(r"\s*(?P<name>[A-Za-z@][\w.'’ -]{0,40}?)\s*(?:[—–-]\s*|\[|\(|\s)\s*(?=\d)")
_ZONE_NOTE = re.compile(r"\btimes?\b.{0,30}\b(?:in|are|is|shown|given)\b", re.IGNORECASE)
_DATE_LABEL = re.compile(r"\s*(?:[-*]\s+)?(?:\*\*|__)?(?:[A-Za-z][\w ]{0,25}?\s)?(?:date|day|when|on)\b(?:\*\*|__)?\s*:\s*(?:\*\*|__)?",
                         re.IGNORECASE)
_FENCE = re.compile(r"\s*(?:```|~~~)")
_BULLET = re.compile(r"\s*(?:[-*+•●▪◦]|\d{1,3}[.)])\s+")


@dataclass
class Block:
    section: Section | None
    lines: list[str] = field(default_factory=list)
    stamp: Stamp | None = None  # None for prose
    name: str | None = None  # the author a chat header named
    year: int | None = None  # a year the table's header gave ("Date (2021)")

    @property
    def text(self) -> str:
        return "\n".join(self.lines).strip()


@dataclass
class Scan:
    blocks: list[Block] = field(default_factory=list)
    zone: tzinfo | None = None  # "All times in CET"
    headings: int = 0


class _Scanner:
    def __init__(self) -> None:
        self.scan = Scan()
        self.section: Section | None = None
        self.current: Block | None = None
        self.fence = False

    def close(self) -> None:
        if self.current is not None and (self.current.text or self.current.stamp):
            self.scan.blocks.append(self.current)
        self.current = None

    def prose(self, line: str) -> None:
        if self.current is None:
            self.current = Block(self.section)
        self.current.lines.append(line)

    def row(self, stamp: Stamp, text: str, name: str | None = None, year: int | None = None) -> None:
        self.close()
        self.current = Block(self.section, [text] if text else [], stamp, name, year)

    def feed(self, lines: list[str]) -> Scan:
        i = 0
        while i < len(lines):
            line = lines[i]
            if _FENCE.match(line):
                if not self.fence and self.current is not None and self.current.stamp is not None:
                    self.close()  # a fence after a row is its evidence, not its text
                self.fence = not self.fence
                self.prose(line)
            elif self.fence:
                self.prose(line)
            elif line.lstrip().startswith("|"):
                i = self.table(lines, i)
                continue
            elif not line.strip():
                self.close()
            else:
                self.line(line, lines[i + 1] if i + 1 < len(lines) else "")
            i += 1
        self.close()
        return self.scan

    def table(self, lines: list[str], i: int) -> int:
        end = i
        while end < len(lines) and lines[end].lstrip().startswith("|"):
            end += 1
        self.close()
        rows, prose = table_rows(lines[i:end])
        for row in rows:
            self.row(row.stamp, row.text, row.name, row.year)
            self.close()
        for text in prose:
            self.prose(text)
            self.close()
        return end

    def line(self, line: str, next_line: str) -> None:
        title = heading(line, next_line)
        if title is not None:
            self.close()
            self.scan.headings += 1
            named = section_of(title)
            stamp = leading_stamp(title)
            if named is not None:
                self.section = named
                self.scan.zone = zone_named(title) or self.scan.zone
            elif stamp is not None and stamp.has_date:
                self.row(stamp, "")  # a dated heading: the date of the rows under it
            else:
                self.section = None
            if named is not None and not re.match(r"\s*(?:#|\*\*|__)", line) and not line.rstrip().endswith(":"):
                self.prose(line)  # an unmarked label line may be a sentence ("Resolved the issue"): its words are kept
            return
        if re.fullmatch(r"\s*(?:=+|-{3,}|\*{3,}|_{3,})\s*", line):
            self.close()
            return
        if _ZONE_NOTE.search(line) and (zone := zone_named(line)) is not None and len(line.split()) <= 12:
            self.scan.zone = zone
            return
        if (label := labelled(line)) is not None:
            self.close()
            self.section = label[0]
            self.prose(label[1])
            return
        if (dated := _date_line(line)) is not None:
            self.row(dated, "")  # "Date: 2023-05-04": the date of the rows around it
            return
        start = _MARKER.match(line)
        stamp = leading_stamp(line, start.end() if start else 0)
        if stamp is not None:
            rest = line[stamp.end :]
            rest = rest[len(sep.group(0)) :] if (sep := _AFTER_STAMP.match(rest)) else rest
            self.row(stamp, rest.strip().rstrip("*_").strip())
            return
        if (head := _chat_header(line)) is not None:
            self.row(head[1], "", head[0])
            return
        if _BULLET.match(line):
            self.close()  # each bullet is its own entry; other lines continue the row or paragraph above them
        self.prose(line)


def _date_line(line: str) -> Stamp | None:
    """The date of a "Date: 2023-05-04" or "Incident date: Jan 14, 2024" line (a short label, then only a date)."""
    match = _DATE_LABEL.match(line)
    if match is None:
        return None
    stamp = leading_stamp(line, match.end())
    return stamp if stamp is not None and stamp.has_date and not line[stamp.end :].strip(" *_.") else None


def _looks_like_name(name: str, separator: str) -> bool:
    """"Anna Smith", "@anna", "alice" before a wide gap or a dash: not "checkout is down since" or "back at"."""
    words = name.split()
    if not 1 <= len(words) <= 3:
        return False
    if all(w[0].isupper() or w[0] == "@" for w in words):
        return True
    return len(words) == 1 and (len(separator) - len(separator.lstrip()) >= 2 or separator.strip()[:1] in ("—", "–", "-", "[", "("))


def _chat_header(line: str) -> tuple[str, Stamp] | None:
    """("Anna Smith", 10:32 AM) for a header line that holds only a name and a time."""
    match = _NAME_HEAD.match(line)
    if match is None or not _looks_like_name(match.group("name"), line[match.end("name") : match.end()]):
        return None
    stamp = leading_stamp(line, match.end())
    if stamp is None or not stamp.has_clock or line[stamp.end :].strip(" ])"):
        return None
    return match.group("name").strip(), stamp


def scan(text: str) -> Scan:
    return _Scanner().feed(text.splitlines())
