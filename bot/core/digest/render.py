"""Digest → Slack-friendly markdown, labelled rule-based. No mention syntax ever reaches the output."""

from __future__ import annotations

from bot.core.digest.model import Digest, Event, FailureFinding, Gap, MetricJump
from bot.core.digest.span import human_minutes
from bot.core.incident.model import message_id
from bot.core.mentions import neutralise_mentions

HEADING = "## What the thread shows (rule-based)"
NOTHING_RECOGNISED = "No alerts or deploys were recognised."
NO_CLASS = "No known failure class matched; the checklist is empty."
NO_STRONG_CLASS = "No failure class has strong evidence in this text, so there is no checklist rather than a guess."
CHECKLIST_ORDER = "_Best-supported first: a statement in a root-cause section weighs most, then contributing factors and the summary._"

_LABEL = {
    "report": "first report", "alert_fired": "alert fired", "alert_resolved": "alert resolved", "deploy": "deploy",
    "rollback": "rollback", "mitigation": "mitigation", "resolution": "resolution", "error_burst": "error burst",
    "error": "error", "metric": "metric", "update": "update",
}


def code(text: str) -> str:
    """Inline code: log lines keep their <*> and symbols without being read as markdown."""
    return f"`{neutralise_mentions(text).replace('`', 'ʹ')}`"


def cite(message: int | None) -> str:
    """`` [m4]``: the evidence id of the message a line was read from, cited like the model cites."""
    return f" [{message_id(message)}]" if message is not None else ""


def when(time: str | None, last: str | None = None) -> str:
    if not time:
        return "time unknown"
    return f"{time} … {last}" if last else time


def _event(n: int, e: Event) -> str:
    label = _LABEL[e.kind] + (f" ×{e.count}" if e.count > 1 else "")
    return f"{n}. {when(e.time, e.last_time)} — **{label}** {code(e.text)} ({neutralise_mentions(e.author)}){cite(e.message)}"


def _gap(g: Gap) -> str:
    what = "no messages" if g.where == "thread" else f"no lines in {neutralise_mentions(g.where)}"
    return f"- {g.start} → {g.end}: {g.minutes:g} min with {what}"


def _metric(m: MetricJump) -> str:
    basis = "" if m.basis == "change" else f" (vs {m.basis})"
    name, author = neutralise_mentions(m.name), neutralise_mentions(m.author)
    return f"- {name}: {m.before} → {m.after}{basis} — {when(m.time)}, {author}: {code(m.line)}{cite(m.message)}"


_SECTION = {
    "summary": "summary", "timeline": "timeline", "impact": "impact", "detection": "detection", "root_cause": "root cause",
    "contributing": "contributing factors", "resolution": "resolution", "action_items": "action items", "lessons": "lessons",
}


def _where(f: FailureFinding) -> str:
    """"root cause, 2025-11-17T08:53:00Z, ana": the evidence line's section (when it has one), time and author."""
    parts = ([_SECTION[f.section]] if f.section else []) + ([f.time] if f.time else []) + [neutralise_mentions(f.author)]
    return ", ".join(parts)


def _failure(f: FailureFinding) -> list[str]:
    t = f.test
    hits = f", {f.hits} matching lines" if f.hits > 1 else ""
    return [
        f"- [ ] **{f.title}** — evidence ({_where(f)}{hits}): {code(f.evidence)}{cite(f.message)}",
        f"   Test: {t.type}; scope: {t.scope}; fault injection: {t.fault_injection}; passes when: {t.success_criteria}",
    ]


def _summary(d: Digest) -> list[str]:
    minutes = d.duration_minutes
    if minutes is None:
        duration = "unknown (the thread carries no usable timestamps)"
    elif d.resolved:
        duration = f"{human_minutes(minutes)}, first signal {d.started} → resolution {d.ended}"
    else:
        duration = f"{human_minutes(minutes)} so far, {d.started} → {d.ended} (no resolution recognised)"
    people = ", ".join(f"{neutralise_mentions(name)} ({count})" for name, count in d.participants) or "none named"
    if d.bots:
        people += "; bots: " + ", ".join(f"{neutralise_mentions(name)} ({count})" for name, count in d.bots)
    lines = [f"**Duration:** {duration}"]
    if d.first_report:
        report = d.first_report
        lines.append(f"**First report:** {when(report.time)} by {neutralise_mentions(report.author)} — {code(report.text)}{cite(report.message)}")
    lines.append(f"**Participants:** {people} — {d.message_count} message{'' if d.message_count == 1 else 's'}")
    lines.append(f"**Services and components:** {', '.join(neutralise_mentions(s) for s in d.services) or 'none named'}")
    if d.files_read:
        lines.append(f"**Files read:** {', '.join(neutralise_mentions(f) for f in d.files_read)}")
    if d.files_unread:
        lines.append(f"**Files not read:** {', '.join(neutralise_mentions(f) for f in d.files_unread)}")
    return lines


def render_markdown(d: Digest) -> str:
    out = [HEADING, "_Built from the thread alone by pattern rules, without a language model._", "", *_summary(d), "", "### Timeline"]
    if not any(e.kind in ("alert_fired", "alert_resolved", "deploy", "rollback") for e in d.timeline):
        out.append(NOTHING_RECOGNISED)
    out += [_event(n, e) for n, e in enumerate(d.timeline, start=1)] or ["No events were recognised."]
    if d.omitted_events:
        out.append(f"_{d.omitted_events} smaller events (errors, metrics, mitigations) not shown._")
    out += ["", f"### Silence gaps (≥ {d.gap_minutes:g} min)", *([_gap(g) for g in d.gaps] or ["- none"])]
    if d.metrics:
        out += ["", "### Metric jumps", *(_metric(m) for m in d.metrics)]
    out += ["", "### Failure classes and the tests that would have caught them (rule-based checklist)", *_checklist(d)]
    return "\n".join(out) + "\n"


def _checklist(d: Digest) -> list[str]:
    if d.failures:
        return [CHECKLIST_ORDER, *(line for f in d.failures for line in _failure(f))]
    if not d.mentioned:
        return [NO_CLASS]
    named = ", ".join(f"{f.title} ({code(f.evidence)}{cite(f.message)})" for f in d.mentioned[:3])
    return [NO_STRONG_CLASS, f"Also named, without strong evidence (a symptom, an action item, a refuted or weak mention): {named}."]


GUIDE_HEADING = "Pre-computed from the data by rules (a guide, not a conclusion):"
CANDIDATE = "candidate failure class (reject it if the messages do not show it)"


def render_context(d: Digest) -> str:
    """The digest as pre-computed context for the model (inside the data fence): the ordered events, and only the
    failure classes with strong evidence, as candidates the model may reject. Plain lines, no markup."""
    lines = [GUIDE_HEADING]
    lines += [f"- {when(e.time, e.last_time)}: {_LABEL[e.kind]}{f' x{e.count}' if e.count > 1 else ''}: {e.text}{cite(e.message)}"
              for e in d.timeline]
    lines += [f"- {CANDIDATE}: {f.title} (evidence: {f.evidence}){cite(f.message)}" for f in d.failures]
    return "\n".join(lines) if len(lines) > 1 else ""
