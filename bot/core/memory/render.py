""""Seen before": the part of the digest that recalls similar past postmortems, and the same, bounded, for the model."""

from __future__ import annotations

import re

from bot.core.memory.model import Match, PastIncident, PastTest, Recurrence, SeenBefore, TicketState
from bot.core.memory.signals import incident_id
from bot.core.mentions import neutralise_mentions

HEADING = "### Seen before"
# Marks the grounding inside the prompt's data; bot/core/prompt.py asks its recurrence question when it is there.
GROUNDING_HEADING = "Seen before (past postmortems from the team's memory, most similar first):"
GROUNDING_CHARS = 1600  # about 400 tokens, whatever the past postmortems hold
TESTS_SHOWN = 6  # per past incident: a plan of twenty tests must not bury the digest
_KIND = {"class": "failure class", "service": "service", "alert": "alert", "template": "log line"}


_BLOCK = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^#{{1,2}} |\Z)", re.MULTILINE | re.DOTALL)


def without_seen_before(report: str) -> str:
    """A report as memory keeps it: without its own "Seen before" block, or each postmortem would carry the titles
    and causes of older ones into the full-text index."""
    return _BLOCK.sub("", report)


_CITED = re.compile(r"\[m\d+(?:\s*,\s*m\d+)*\]")


def shown(text: str) -> str:
    """Text from a past incident (another thread wrote it), as this digest may show it: no mention, no evidence id
    (``[m3]`` would link to this thread's third message), and no markdown link dressed as something else."""
    return neutralise_mentions(_CITED.sub("", text)).replace("[", "(").replace("]", ")")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def recurrence_line(r: Recurrence, titles: dict[str, str]) -> str:
    name = titles.get(r.failure_class, r.failure_class.replace("-", " ")).lower()
    where = f" on {neutralise_mentions(r.service)}" if r.service else ""
    return f"{_ordinal(r.count)} {name}{where} in {r.days} days"


def ticket_text(test: PastTest) -> str:
    """`#12 (open)`, `OPS-7 (closed as done)`: the ticket as its backend names it, its state in words."""
    if not test.ticket_key:
        return "no ticket"
    name = f"[{shown(test.ticket_key)}]({test.ticket_url})" if test.ticket_url else shown(test.ticket_key)
    state = test.state.value if test.state else TicketState.UNKNOWN.value
    note = f", {neutralise_mentions(test.state_note)}" if test.state_note and test.state is TicketState.UNKNOWN else ""
    return f"{name} ({state}{note})"


def follow_up(test: PastTest, past: PastIncident) -> str | None:
    """The plain-words verdict on a past test whose ticket we could read; None when there is nothing to say."""
    ref = f"the test '{shown(test.name)}' recommended on {past.day} for {shown(incident_id(past.title) or past.title)}"
    key = shown(test.ticket_key or "")
    if test.state is TicketState.OPEN:
        return f"{ref} is still open ({key})."
    if test.state is TicketState.DONE:
        return f"{ref} was marked done ({key}), yet the same failure recurred: check the test really covers it."
    if test.state is TicketState.NOT_PLANNED:
        return f"{ref} was closed as not planned ({key}), and the failure recurred."
    return None


def _shared(match: Match) -> str:
    parts = [f"{_KIND[kind]} `{neutralise_mentions(value).replace('`', 'ʹ')}`" for kind, value in match.shared]
    if match.text_score >= 0.5:
        parts.append("similar wording")
    return ", ".join(parts) or "similar wording"


def _where(past: PastIncident) -> str:
    return f"[thread]({past.link})" if past.link else f"from `{shown(past.where).replace('`', 'ʹ')}`"


def render_markdown(seen: SeenBefore, titles: dict[str, str]) -> str:
    """The "Seen before" block of the digest; empty when nothing similar is remembered."""
    if not seen.matches:
        return ""
    out = ["", HEADING]
    out += [f"_{recurrence_line(r, titles).capitalize()}._" for r in seen.recurrences]
    for n, match in enumerate(seen.matches, start=1):
        past = match.past
        out.append(f"{n}. **{shown(past.title)}** — {past.day}, {_where(past)}")
        out.append(f"   Shared: {_shared(match)}")
        out.append(f"   Primary cause then: {shown(past.primary_cause) or 'not recorded'}")
        if past.tests:
            tests = "; ".join(f"{shown(t.name)}{f' ({shown(t.type)})' if t.type else ''}: {ticket_text(t)}" for t in past.tests[:TESTS_SHOWN])
            more = f"; and {len(past.tests) - TESTS_SHOWN} more" if len(past.tests) > TESTS_SHOWN else ""
            out.append(f"   Tests recommended then: {tests}{more}")
        else:
            out.append("   Tests recommended then: none recorded")
        out += [f"   - {line[0].upper()}{line[1:]}" for t in past.tests[:TESTS_SHOWN] if (line := follow_up(t, past))]
    return "\n".join(out) + "\n"


def grounding(seen: SeenBefore, titles: dict[str, str]) -> str:
    """The same for the model: link, title, primary cause and tickets of each past incident, cut to GROUNDING_CHARS."""
    if not seen.matches:
        return ""
    lines = [GROUNDING_HEADING]
    lines += [f"- {recurrence_line(r, titles)}" for r in seen.recurrences]
    for match in seen.matches:
        past = match.past
        tests = "; ".join(f"{t.name} (ticket {t.ticket_key}: {(t.state or TicketState.UNKNOWN).value})" if t.ticket_key
                          else f"{t.name} (no ticket)" for t in past.tests) or "none recorded"
        shared = ", ".join(f"{_KIND[k]} {v}" for k, v in match.shared) or "similar wording"
        lines.append(f"- {past.day} {past.title} ({past.link or past.where}). Shared: {shared}. Primary cause then: "
                     f"{past.primary_cause or 'not recorded'}. Tests recommended then: {tests}.")
    text = "\n".join(lines)
    return text if len(text) <= GROUNDING_CHARS else text[:GROUNDING_CHARS - 1].rsplit(" ", 1)[0] + "…"
