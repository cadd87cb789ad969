"""Incident → Digest, with the preparation helpers only (redaction, trace reduction, drain3 folding).

Each line is looked at once: chat messages fold per author (an alert bot firing 2,500 times is one
entry with a count), log blocks and attached files fold into templates; events, metric jumps, failure
classes and service names are read off the folded entries, not the raw lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise

from bot.core.digest.evidence import EvidenceOrigin, Tally, Weighing
from bot.core.digest.extract import is_error, metric_jumps, one_line, services
from bot.core.digest.model import Digest, Event, FailureFinding, Gap, Kind, MetricJump, iso, parse_time
from bot.core.digest.people import split_people
from bot.core.digest.rules import Rules, default_rules
from bot.core.digest.span import Moment, incident_span
from bot.core.incident.model import Incident, Message, Section
from bot.core.incident.structure import expand
from bot.core.prepare.classify import is_change, is_chatter
from bot.core.prepare.fold import Folded, Folder, fold_log, mask
from bot.core.prepare.pipeline import LOG_BLOCK_LINES
from bot.core.prepare.timestamps import split_ts
from bot.core.prepare.traces import Chunk, split_traces
from bot.core.redact import redact_text

GAP_MINUTES = 15.0
MAX_EVENTS = 60
MAX_METRICS = 20
MAX_SERVICES = 20
# Log lines only give alerts and changes; mitigations and the resolution are what people say in the thread.
_LOG_KINDS = frozenset({"alert_fired", "alert_resolved", "deploy", "rollback"})
# Ordering of what the capped timeline keeps first: the must-have events, then the rest.
_PRIORITY: dict[Kind, int] = {"alert_fired": 0, "alert_resolved": 0, "deploy": 0, "rollback": 0, "resolution": 0, "report": 0,
                              "mitigation": 1, "metric": 2, "error_burst": 2, "update": 2, "error": 3}
# What the authors decided: never an event of the incident, whatever its words.
_DECISIONS: frozenset[Section | None] = frozenset({"action_items", "lessons"})
_ATTACHED = 1_000_000  # row index of a message's attached files: after every row of its text


@dataclass(frozen=True, slots=True)
class _Unit:
    """A folded entry with where it came from: one chat message or row (or folded repeats), or a log template/line."""

    order: tuple[int, int, int]  # (message index, row inside the message, position inside a log block) = source order
    text: str  # display text: the message, or the template with <*> and ranges
    sample: str  # the first original text, which classification reads
    count: int
    first_ts: str | None
    last_ts: str | None
    author: str
    log: bool
    trace: bool = False
    row: bool = False  # a timed row of a timeline or transcript: an event of the incident whatever its words
    section: Section | None = None


@dataclass
class _DigestBuilder:
    rules: Rules
    gap_minutes: float
    authors: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    bots: set[str] = field(default_factory=set)  # the names the source marked as bots
    chat: Folder = field(default_factory=Folder)
    places: list[tuple[int, int, Message, str]] = field(default_factory=list)  # chat position → (message, row, row, author)
    labels: dict[str, str] = field(default_factory=dict)  # ISO of a row's time → the time as written
    seen: list[Moment] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    files_read: list[str] = field(default_factory=list)
    files_unread: list[str] = field(default_factory=list)

    def author(self, msg: Message) -> str:
        if msg.author not in self.authors:
            self.authors[msg.author] = redact_text(msg.author)
        name = self.authors[msg.author]
        self.counts[name] = self.counts.get(name, 0) + 1
        if msg.bot:
            self.bots.add(name)
        return name

    def add(self, idx: int, msg: Message, rows: list[Message]) -> None:
        """A message, as its rows (a pasted transcript or timeline: each row cited as this message), redacted."""
        for k, row in enumerate(rows):
            self.add_text(idx, k, row)
        author = self.authors.setdefault(msg.author, redact_text(msg.author))  # counted by its text, not its files
        for n, att in enumerate(msg.attachments, start=1):
            name = redact_text(att.name)
            if att.text is None:
                self.files_unread.append(f"{name} (binary, not read)")
                continue
            self.files_read.append(name)
            self.log((idx, _ATTACHED + n), redact_text(att.text), f"{author} ({name})", name, None)

    def add_text(self, idx: int, k: int, msg: Message) -> None:
        """``msg.text`` is redacted already."""
        author = self.author(msg)
        text = msg.text
        ts = iso(msg.ts)  # a row without a date keeps its nominal day here, for order and durations
        if ts is not None:
            label = msg.stamp or msg.time_label or ts
            self.labels.setdefault(ts, label)
            if msg.ts is not None:
                self.seen.append(Moment(msg.ts, label))
        if text.count("\n") + 1 < LOG_BLOCK_LINES:
            if text.strip():
                # Same keys as the prompt's chat folding: identical up to numbers and ids, changes only when identical.
                flat = " ".join(text.split())
                self.places.append((idx, k, msg, author))
                self.chat.add(len(self.places) - 1, Chunk(text, ts, flat), group=author, exact_key=flat if is_change(flat) else mask(flat))
        else:
            self.log((idx, k), text, author, "message", msg.section)

    def log(self, where_: tuple[int, int], text: str, author: str, where: str, section: Section | None) -> None:
        chunks = list(split_traces(text.splitlines()))
        self.gaps += _gaps([m for c in chunks if (m := _logged(c.ts))], self.gap_minutes, f"log {where}")
        folded, _ = fold_log(text)  # the same folding preparation does on the same text: shared, not repeated
        self.units += [_log_unit((*where_, f.pos), f, author, section) for f in folded]

    def finish_chat(self) -> None:
        for f in self.chat.result():
            idx, k, msg, author = self.places[f.pos]
            self.units.append(_Unit((idx, k, 0), f.text, f.sample, f.count, f.first_ts, f.last_ts, author, False,
                                    row=msg.stamp is not None, section=msg.section))


# Joins texts for one redaction pass: a call per message costs more than its text (a 100 KB postmortem is 1,200 rows).
# No rule matches across it; should one ever swallow it, the texts are redacted one by one instead.
_JOIN = "\n\u2063\u2063\n"


def _redacted(texts: list[str]) -> list[str]:
    parts = redact_text(_JOIN.join(texts)).split(_JOIN) if texts else []
    return parts if len(parts) == len(texts) else [redact_text(t) for t in texts]


def _logged(ts: str | None) -> Moment | None:
    at = parse_time(ts)
    return Moment(at, iso(at) or "") if at else None


def _log_unit(order: tuple[int, int, int], f: Folded, author: str, section: Section | None) -> _Unit:
    return _Unit(order, f.text, f.sample, f.count, f.first_ts, f.last_ts, author, True, f.trace, section=section)


def _gaps(moments: list[Moment], minutes: float, where: str) -> list[Gap]:
    known = sorted(moments, key=lambda m: m.at)
    return [
        Gap(a.label, b.label, round((b.at - a.at).total_seconds() / 60, 1), where)
        for a, b in pairwise(known)
        if (b.at - a.at).total_seconds() >= minutes * 60
    ]


def _kind(unit: _Unit, rules: Rules, first: bool) -> Kind | None:
    if unit.section in _DECISIONS or (unit.section is not None and not unit.row):
        return None  # a document's prose (root cause, impact…) is evidence, its action items are decisions
    kind = rules.event_kind(unit.sample)
    if unit.log:
        if kind in _LOG_KINDS:
            return kind
        if unit.trace or is_error(unit.sample):
            return "error_burst" if unit.count > 1 else "error"
        return None
    return kind or ("report" if first and not unit.row else None)


def _display(unit: _Unit) -> str:
    """One line to show: a trace by its exception (last) line, a log line without its timestamp (shown apart)."""
    text = unit.text if unit.count > 1 else unit.sample
    if unit.trace:
        # Python names the exception last, the JVM, Node and Go first.
        lines = text.strip().splitlines()
        text = lines[-1] if lines[0].lstrip().startswith("Traceback") else lines[0]
    return one_line(split_ts(text)[1] if unit.log else text)


def _event(unit: _Unit, kind: Kind, labels: dict[str, str]) -> Event:
    """The event of a unit; a row's time shows as its source wrote it."""
    text = _display(unit)
    last = unit.last_ts if unit.count > 1 and unit.last_ts != unit.first_ts else None
    first = labels.get(unit.first_ts, unit.first_ts) if unit.first_ts else None
    last = labels.get(last, last) if last else None
    return Event(first, kind, text, unit.author, unit.count, last, parse_time(unit.first_ts), unit.order[0],
                 last_at=parse_time(unit.last_ts) if last else None)


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


def _failure(tally: Tally, labels: dict[str, str]) -> FailureFinding:
    """The checklist item of a weighed class; ``labels``: a row's time as written, for rows without a date."""
    assert tally.best is not None  # ranked() returns only classes with a counted statement
    _, hit, source = tally.best
    rule = tally.failure.rule
    time = labels.get(source.time, source.time) if source.time else None
    return FailureFinding(rule.id, rule.title, one_line(hit.line), time, source.author, tally.hits, rule.test, source.message,
                   round(tally.score, 2), source.section)


def build_digest(incident: Incident, *, gap_minutes: float = GAP_MINUTES, rules: Rules | None = None) -> Digest:
    """What the thread shows, without a model; linear in the input size."""
    rules = rules or default_rules()
    builder = _DigestBuilder(rules, gap_minutes)
    # Each message is redacted whole before a pasted transcript in it is split into rows: a secret's key and value
    # may sit on different lines.
    texts = _redacted([msg.text for msg in incident.messages])
    for idx, (msg, text) in enumerate(zip(incident.messages, texts, strict=True)):
        builder.add(idx, msg, expand(replace(msg, text=text)))
    builder.finish_chat()
    builder.gaps += _gaps(builder.seen, gap_minutes, "thread")
    units = sorted(builder.units, key=lambda u: u.order)
    # A short thread is its own timeline: every timed message that says something is an event. A long one lists
    # only what the rules recognise, or the timeline would be the thread again.
    said = [u for u in units if u.first_ts and not u.log and not u.row and u.section is None and not is_chatter(u.sample)]
    whole_thread = len(said) <= MAX_EVENTS
    said_set = set(map(id, said)) if whole_thread else set()
    rows: list[Event] = []
    logged: set[int] = set()

    events: list[Event] = []
    metrics: dict[tuple[str, str, str], MetricJump] = {}
    weighing = Weighing()
    names: dict[str, None] = {}
    first_report: Event | None = None
    for unit in units:
        first = unit.order[:2] == (0, 0) and not unit.log and not unit.row
        kind = _kind(unit, rules, first)
        jumps = list(metric_jumps(unit.text))
        for name, before, after, basis, line in jumps:
            shown = builder.labels.get(unit.first_ts, unit.first_ts) if unit.first_ts else None
            metrics.setdefault((name, before, after), MetricJump(name, before, after, basis, shown, unit.author, line,
                                                                           unit.order[0]))
        if kind is None and jumps:
            kind = "metric"
        if kind is None and ((unit.row and unit.section not in _DECISIONS) or id(unit) in said_set):
            kind = "update"
        if kind is not None:
            events.append(_event(unit, kind, builder.labels))
            if first:
                first_report = events[-1]
            if unit.row and (unit.section in (None, "timeline")):
                rows.append(events[-1])
            if unit.log:
                logged.add(id(events[-1]))
        hits = list(rules.hits(unit.sample))
        if hits:
            weighing.add(hits, EvidenceOrigin(unit.first_ts, unit.author, unit.order[0], unit.section, unit.order), unit.count)
        for name in services(unit.text, rules.components):
            names.setdefault(name, None)

    events = _chronological(events)
    span = incident_span(events, rows, logged, builder.seen)
    events, omitted = _cap(events)
    strong, mentioned = weighing.ranked()
    people, bots = split_people(builder.counts, frozenset(builder.bots))
    return Digest(
        title=redact_text(incident.title),
        message_count=len(incident.messages),
        timeline=events,
        gaps=sorted(builder.gaps, key=lambda g: g.start),
        metrics=list(metrics.values())[:MAX_METRICS],
        failures=[_failure(t, builder.labels) for t in strong],
        mentioned=[_failure(t, builder.labels) for t in mentioned],
        participants=people,
        bots=bots,
        services=list(names)[:MAX_SERVICES],
        files_read=builder.files_read,
        files_unread=builder.files_unread + [redact_text(f) for f in incident.unread_files],
        first_report=first_report,
        started=span.start.label if span.start else None,
        ended=span.end.label if span.end else None,
        resolved=span.resolved,
        duration_minutes=span.minutes,
        gap_minutes=gap_minutes,
        omitted_events=omitted,
    )
