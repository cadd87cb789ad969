"""Structure before rules: an incident text → messages with times, authors and sections.

A chat transcript (``09:02 Anna: text``, ``[09:02] Anna: text``, a Slack or Teams copy ``Anna  9:02 AM`` then the
text) becomes one message per line, with its author. A postmortem becomes one message per timeline row (with its
time, and its author when a column or a ``Name:`` gives one) and one per prose paragraph or bullet, each tagged
with the section its heading names. Logs are not structured here: they stay one block for log folding.

Dates: a row's own date, else the date of the row or heading above it, else the document's first date, else the
date of the message the text was pasted in (``anchor``; a paste comes after what it shows, so a clock time later
than the message means the day before). With no date anywhere, rows are undated (see ``Message.dated``). A clock
time more than an hour earlier than the one above it, with no date of its own, is on the next day (or twelve hours
later when every clock is a 12-hour one without AM/PM: "12:05" then "1:10"). Times without a
zone are in the document's zone ("All times in CET", a "Time (PT)" column) or else UTC, like logs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.core.incident.model import NOTES_AUTHOR, UNDATED_DAY, Message, visible
from bot.core.incident.structure.blocks import Block, scan
from bot.core.incident.structure.times import Stamp, leading_stamp

# "Anna: text", "Alertmanager: [FIRING] …", "Anna Smith: text": a speaker, at most three words, no sentence; a
# name starts with a letter of any script ("Émile", "Дмитрий", "דנה").
_SPEAKER = re.compile(r"(?P<name>(?:[^\W\d_]|@)[\w.'’-]*(?: [^\W\d_][\w.'’-]*){0,2}|\[[^\]]{1,30}\]|<[^>]{1,30}>):\s+(?P<text>\S.*)", re.S)
# What makes a timed line a machine's: a level, a syslog tag, a logger name.
_LOG_LINE = re.compile(r"\[?(?:INFO|WARN(?:ING)?|ERROR|ERR|DEBUG|TRACE|FATAL|CRIT(?:ICAL)?|NOTICE|SEVERE|[IWEDF])\]?\b"
                       r"|(?:[\w.-]+\s+)?[\w.-]+\[\d+\]:|[a-z_][\w.]*\.[a-z_]+:", re.IGNORECASE)
_EARLIER = timedelta(hours=1)  # a listing slip within the hour is not the next day
# What shows a clock is not a 12-hour one without AM/PM: a leading zero ("09:02") or an AM/PM of its own.
_AMPM_OR_ZERO = re.compile(r"(?<!\d)0\d:|\d\s?[ap]\.?m\b", re.IGNORECASE)


def read_text(text: str, anchor: datetime | None = None) -> list[Message] | None:
    """The text's rows and sections as messages; None when it has neither (a log, one paragraph of notes)."""
    # Invisible characters split a clock ("10:0\u200b5") or a name, and bidi overrides make a row read as another.
    scanned = scan(_unfenced(visible(text)))
    rows = [b for b in scanned.blocks if b.stamp is not None and (b.text or b.name)]
    if not rows and scanned.headings == 0:
        return None
    if rows and sum(1 for b in rows if _LOG_LINE.match(b.text)) * 2 > len(rows):
        # Timestamped machine lines: log folding keeps what matters in them. People talking between them are
        # still a chat: their lines are its messages, the rest one log block.
        return _chat_and_log(text, anchor)
    speakers = _speakers(rows)
    times = _times(scanned.blocks, scanned.zone, anchor)
    out: list[Message] = []
    for block in scanned.blocks:
        text_ = block.text
        if block.stamp is None:
            if text_:
                out.append(Message(NOTES_AUTHOR, text_, section=block.section))
            continue
        if not text_ and not block.name:
            continue  # a dated heading: its date went to the rows under it
        author = block.name
        if author is None and speakers and (match := _SPEAKER.fullmatch(text_)):
            author, text_ = match.group("name").strip("[]<>"), match.group("text")
        at, dated = times[id(block)]
        out.append(Message(author or NOTES_AUTHOR, text_, at, section=block.section, stamp=block.stamp.text, dated=dated))
    return out or None


def _chat_and_log(text: str, anchor: datetime | None) -> list[Message] | None:
    """A log with people's timed "Name: text" lines among its lines: their messages in order, and every other line
    as one log block where the log first appears. None for a log with fewer than two such lines."""
    chat: list[str] = []
    log: list[str] = []
    log_at, day = 0, None
    for line in text.splitlines():
        stamp = leading_stamp(line)
        said = line[stamp.end :].strip(" -–—|") if stamp else ""
        if stamp and stamp.has_clock and _SPEAKER.fullmatch(said) and not _LOG_LINE.match(said):
            chat.append(line)
        elif line.strip():
            log_at = log_at if log else len(chat)
            log.append(line)
            day = day or (stamp.at.date().isoformat() if stamp and stamp.has_year else None)
    if len(chat) < 2 or not log:
        return None
    # The log's first date dates the people's clock times too (a heading's date is the date of the rows under it).
    messages = read_text("\n".join(([f"# {day}"] if day else []) + chat), anchor)
    if messages is None:
        return None
    at = min(log_at, len(messages))
    return [*messages[:at], Message(NOTES_AUTHOR, "\n".join(log)), *messages[at:]]


def _unfenced(text: str) -> str:
    """A text wholly inside one code fence (how chat users paste a transcript) is read as the text it holds;
    fences inside a document stay quoted evidence."""
    stripped = text.strip()
    if stripped.startswith("```") and stripped.endswith("```") and stripped.count("```") == 2 and len(stripped) > 6:
        return stripped[3:-3].split("\n", 1)[-1] if "\n" in stripped[3:-3] else stripped[3:-3]
    return text


def expand(msg: Message) -> list[Message]:
    """A chat message holding a pasted transcript or timeline → its rows (the pasted lines' own times and
    authors; prose keeps the message's author and time); any other message → itself."""
    if msg.stamp is not None or msg.section is not None or "\n" not in msg.text:
        return [msg]
    rows = read_text(msg.text, msg.ts if msg.dated else None)
    if rows is None or not any(r.stamp for r in rows):
        return [msg]
    return [replace(r, ref=msg.ref) if r.stamp else replace(r, author=msg.author, ts=msg.ts, dated=msg.dated, ref=msg.ref) for r in rows]


def _speakers(rows: list[Block]) -> bool:
    """Rows read as "Name: text" when all of them have that form, or most with names that repeat: a transcript."""
    names = [m.group("name") for b in rows if b.name is None and (m := _SPEAKER.fullmatch(b.text))]
    return len(names) >= 2 and (len(names) == len(rows) or (len(names) * 2 >= len(rows) and len(set(names)) < len(names)))


def _times(blocks: list[Block], zone: tzinfo | None, anchor: datetime | None) -> dict[int, tuple[datetime, bool]]:
    """Each timed block's aware UTC time and whether its date is known (see the module's doc)."""
    stamps = [(b, b.stamp) for b in blocks if b.stamp is not None]
    year = next((s.at.year if s.has_year else b.year for b, s in stamps if s.has_year or (s.has_date and b.year)), None)
    year = year or (anchor.year if anchor else None)
    first_day = next((_day(b, s, year) for b, s in stamps if s.has_date), None)
    pasted = first_day is None and anchor is not None
    day = anchor.astimezone(UTC).date() if pasted and anchor else first_day or UNDATED_DAY.date()
    dated = year is not None and (first_day is not None or anchor is not None)
    twelve_hour = _twelve_hour_clock([s for _, s in stamps])
    out: dict[int, tuple[datetime, bool]] = {}
    previous: datetime | None = None
    for block, stamp in stamps:
        if stamp.has_date:
            day = _day(block, stamp, year)
        at = _at(stamp, day, zone)
        if not stamp.has_date and previous is not None and at < previous - _EARLIER:
            if twelve_hour and at + timedelta(hours=12) >= previous - _EARLIER:
                at += timedelta(hours=12)  # "12:05" then "1:10" on a 12-hour clock is past noon (or midnight)
            else:
                at, day = at + timedelta(days=1), day + timedelta(days=1)  # past midnight
        if pasted and anchor is not None and previous is None and at > anchor:
            at, day = at - timedelta(days=1), day - timedelta(days=1)  # pasted after the fact: yesterday's clock
        out[id(block)] = (at.astimezone(UTC), dated)
        previous = at
    return out


def _twelve_hour_clock(stamps: list[Stamp]) -> bool:
    """Clocks written on a 12-hour clock without AM or PM: none past 12:59, none with a leading zero or an AM/PM."""
    clocks = [s for s in stamps if s.has_clock and not s.has_date]
    return bool(clocks) and all(s.at.hour <= 12 and not _AMPM_OR_ZERO.search(s.text) for s in clocks)


def _day(block: Block, stamp: Stamp, year: int | None) -> date:
    known = stamp.at.year if stamp.has_year else block.year or year or UNDATED_DAY.year
    return stamp.at.date().replace(year=known)


def _at(stamp: Stamp, day: date, zone: tzinfo | None) -> datetime:
    local = datetime.combine(day, stamp.at.time())
    return local.replace(tzinfo=stamp.at.tzinfo or zone or UTC)
