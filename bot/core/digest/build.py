"""Incident → Digest, with the preparation helpers only (redaction, trace reduction, drain3 folding).

Each line is looked at once: chat messages fold per author (an alert bot firing 2,500 times is one
entry with a count), log blocks and attached files fold into templates; events, metric jumps, failure
classes and service names are read off the folded entries, not the raw lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise

from bot.core.digest.extract import is_error, line_at, metric_jumps, one_line, services
from bot.core.digest.model import Digest, Event, Failure, Gap, Kind, MetricJump, iso, parse_time
from bot.core.digest.rules import Rules, default_rules
from bot.core.incident import Incident, Message
from bot.core.prepare.classify import is_change
from bot.core.prepare.fold import Folded, Folder, fold_log, mask
from bot.core.prepare.pipeline import LOG_BLOCK_LINES
from bot.core.prepare.redact import redact_text
from bot.core.prepare.timestamps import split_ts
from bot.core.prepare.traces import Chunk, split_traces

GAP_MINUTES = 15.0
MAX_EVENTS = 60
MAX_METRICS = 20
MAX_SERVICES = 20
# Log lines only give alerts and changes; mitigations and the resolution are what people say in the thread.
_LOG_KINDS = frozenset({"alert_fired", "alert_resolved", "deploy", "rollback"})
# Ordering of what the capped timeline keeps first: the must-have events, then the rest.
_PRIORITY: dict[Kind, int] = {"alert_fired": 0, "alert_resolved": 0, "deploy": 0, "rollback": 0, "resolution": 0, "report": 0,
                              "mitigation": 1, "metric": 2, "error_burst": 2, "error": 3}
_SIGNALS = frozenset({"report", "alert_fired", "error_burst", "error", "metric"})


@dataclass(frozen=True, slots=True)
class _Unit:
    """A folded entry with where it came from: one chat message (or folded repeats), or a log template/line."""

    order: tuple[int, int]  # (message index, position inside the block) = source order
    text: str  # display text: the message, or the template with <*> and ranges
    sample: str  # the first original text, which classification reads
    count: int
    first_ts: str | None
    last_ts: str | None
    author: str
    log: bool
    trace: bool = False


@dataclass
class _Builder:
    rules: Rules
    gap_minutes: float
    authors: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    chat: Folder = field(default_factory=Folder)
    chat_authors: dict[int, str] = field(default_factory=dict)
    units: list[_Unit] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    files_unread: list[str] = field(default_factory=list)

    def author(self, msg: Message) -> str:
        if msg.author not in self.authors:
            self.authors[msg.author] = redact_text(msg.author)
        name = self.authors[msg.author]
        self.counts[name] = self.counts.get(name, 0) + 1
        return name

    def add(self, idx: int, msg: Message) -> None:
        author = self.author(msg)
        text = redact_text(msg.text)
        if text.count("\n") + 1 < LOG_BLOCK_LINES:
            if text.strip():
                # Same keys as the prompt's chat folding: identical up to numbers and ids, changes only when identical.
                flat = " ".join(text.split())
                self.chat_authors[idx] = author
                self.chat.add(idx, Chunk(text, msg.iso_ts, flat), group=author, exact_key=flat if is_change(flat) else mask(flat))
        else:
            self.log(idx, 0, text, author, "message")
        for n, att in enumerate(msg.attachments, start=1):
            name = redact_text(att.name)
            if att.text is None:
                self.files_unread.append(f"{name} (binary, not read)")
                continue
            self.files_read.append(name)
            self.log(idx, n * 1_000_000, redact_text(att.text), f"{author} ({name})", name)

    def log(self, idx: int, base: int, text: str, author: str, where: str) -> None:
        chunks = list(split_traces(text.splitlines()))
        self.gaps += _gaps([parse_time(c.ts) for c in chunks], self.gap_minutes, f"log {where}")
        folded, _ = fold_log(text)  # the same folding preparation does on the same text: shared, not repeated
        self.units += [_log_unit((idx, base + f.pos), f, author) for f in folded]

    def finish_chat(self) -> None:
        for f in self.chat.result():
            self.units.append(_Unit((f.pos, 0), f.text, f.sample, f.count, f.first_ts, f.last_ts, self.chat_authors[f.pos], False))


def _log_unit(order: tuple[int, int], f: Folded, author: str) -> _Unit:
    return _Unit(order, f.text, f.sample, f.count, f.first_ts, f.last_ts, author, True, f.trace)


def _gaps(times: list[datetime | None], minutes: float, where: str) -> list[Gap]:
    known = sorted(t for t in times if t)
    return [
        Gap(iso(a) or "", iso(b) or "", round((b - a).total_seconds() / 60, 1), where)
        for a, b in pairwise(known)
        if (b - a).total_seconds() >= minutes * 60
    ]


def _kind(unit: _Unit, rules: Rules, first: bool) -> Kind | None:
    kind = rules.event_kind(unit.sample)
    if unit.log:
        if kind in _LOG_KINDS:
            return kind
        if unit.trace or is_error(unit.sample):
            return "error_burst" if unit.count > 1 else "error"
        return None
    return kind or ("report" if first else None)


def _display(unit: _Unit) -> str:
    """One line to show: a trace by its exception (last) line, a log line without its timestamp (shown apart)."""
    text = unit.text if unit.count > 1 else unit.sample
    if unit.trace:
        # Python names the exception last, the JVM, Node and Go first.
        lines = text.strip().splitlines()
        text = lines[-1] if lines[0].lstrip().startswith("Traceback") else lines[0]
    return one_line(split_ts(text)[1] if unit.log else text)


def _event(unit: _Unit, kind: Kind) -> Event:
    text = _display(unit)
    last = unit.last_ts if unit.count > 1 and unit.last_ts != unit.first_ts else None
    return Event(unit.first_ts, kind, text, unit.author, unit.count, last, parse_time(unit.first_ts), unit.order[0])


def _chronological(events: list[Event]) -> list[Event]:
    """Sorted by time; an event without one stays right after the event before it in the source."""
    keyed: list[tuple[datetime | None, Event]] = []
    previous: datetime | None = None
    for event in events:
        previous = event.at or previous
        keyed.append((previous, event))
    keyed.sort(key=lambda pair: (pair[0] is not None, pair[0] or datetime.min))
    return [event for _, event in keyed]


def _cap(events: list[Event]) -> tuple[list[Event], int]:
    """At most MAX_EVENTS, keeping every must-have event and then the biggest error bursts and metrics."""
    if len(events) <= MAX_EVENTS:
        return events, 0
    ranked = sorted(range(len(events)), key=lambda i: (_PRIORITY[events[i].kind], -events[i].count, i))
    keep = set(ranked[:MAX_EVENTS])
    return [e for i, e in enumerate(events) if i in keep], len(events) - len(keep)


def _span(events: list[Event], message_times: list[datetime]) -> tuple[str | None, str | None, bool]:
    """(first signal, resolution — or the last known time when none was recognised —, resolved?)."""
    signals = [e.at for e in events if e.kind in _SIGNALS and e.at]
    # With nothing recognised, the thread's own span is the only honest duration.
    start = min(signals) if signals else min(message_times, default=None)
    resolutions = [e.at for e in events if e.kind == "resolution" and e.at]
    fired = [parse_time(e.last_time) or e.at for e in events if e.kind == "alert_fired"]
    cleared = [e.at for e in events if e.kind == "alert_resolved" and e.at]
    end: datetime | None = None
    if resolutions:
        end = max(resolutions)
    elif cleared and max(cleared) >= max((t for t in fired if t), default=max(cleared)):
        end = max(cleared)
    if end is not None and start is not None and end >= start:
        return iso(start), iso(end), True
    known = [t for e in events for t in (e.at, parse_time(e.last_time)) if t] + message_times
    return iso(start), iso(max(known)) if known and start else None, False


def build_digest(incident: Incident, *, gap_minutes: float = GAP_MINUTES, rules: Rules | None = None) -> Digest:
    """What the thread shows, without a model; linear in the input size."""
    rules = rules or default_rules()
    builder = _Builder(rules, gap_minutes)
    for idx, msg in enumerate(incident.messages):
        builder.add(idx, msg)
    builder.finish_chat()
    builder.gaps += _gaps([m.ts for m in incident.messages], gap_minutes, "thread")
    units = sorted(builder.units, key=lambda u: u.order)

    events: list[Event] = []
    metrics: dict[tuple[str, str, str], MetricJump] = {}
    found: dict[str, Failure] = {}
    names: dict[str, None] = {}
    first_report: Event | None = None
    for unit in units:
        kind = _kind(unit, rules, first=unit.order == (0, 0) and not unit.log)
        jumps = list(metric_jumps(unit.text))
        for name, before, after, basis, line in jumps:
            metrics.setdefault((name, before, after), MetricJump(name, before, after, basis, unit.first_ts, unit.author, line,
                                                                           unit.order[0]))
        if kind is None and jumps:
            kind = "metric"
        if kind is not None:
            events.append(_event(unit, kind))
            if unit.order == (0, 0) and not unit.log:
                first_report = events[-1]
        for failure in rules.failures:
            hit = failure.regex.search(unit.sample)
            if hit is None:
                continue
            rule, known = failure.rule, found.get(failure.rule.id)
            at = parse_time(unit.first_ts)
            # The evidence is the earliest matching line: a pasted log often predates the messages around it.
            if known is None or (at and (known_at := parse_time(known.time)) and at < known_at):
                hits = unit.count + (known.hits if known else 0)
                found[rule.id] = Failure(rule.id, rule.title, line_at(unit.sample, hit.start()), unit.first_ts, unit.author, hits,
                                         rule.test, unit.order[0])
            else:
                found[rule.id] = replace(known, hits=known.hits + unit.count)
        for name in services(unit.text, rules.components):
            names.setdefault(name, None)

    events = _chronological(events)
    started, ended, resolved = _span(events, [m.ts for m in incident.messages if m.ts])
    events, omitted = _cap(events)
    order = {rule.rule.id: i for i, rule in enumerate(rules.failures)}
    return Digest(
        title=redact_text(incident.title),
        message_count=len(incident.messages),
        timeline=events,
        gaps=sorted(builder.gaps, key=lambda g: g.start),
        metrics=list(metrics.values())[:MAX_METRICS],
        failures=sorted(found.values(), key=lambda f: order[f.id]),
        participants=list(builder.counts.items()),
        services=list(names)[:MAX_SERVICES],
        files_read=builder.files_read,
        files_unread=builder.files_unread + [redact_text(f) for f in incident.unread_files],
        first_report=first_report,
        started=started,
        ended=ended,
        resolved=resolved,
        gap_minutes=gap_minutes,
        omitted_events=omitted,
    )
