"""Digest → plain prose of 80–200 words, for narration when no model is available.

No timestamps with seconds, ids, log templates or markdown: only what reads well aloud.
"""

from __future__ import annotations

import re

from bot.core.digest.model import Digest, Event, parse_time
from bot.core.digest.span import human_minutes
from bot.core.speech.text import clean_for_speech

MIN_WORDS = 80
MAX_WORDS = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_PADDING = (
    "Each failure class comes with a standard test: its type, the fault to inject, and a measurable pass criterion.",
    "The checklist in the thread lists the evidence line for every class it names.",
    "Treat this digest as a starting point for the postmortem, not as its conclusion.",
    "A full analysis needs a language model or a person to weigh the causes.",
)


def _clock(time: str | None) -> str | None:
    """'09:02 UTC' for an ISO time; a time as the source wrote it ('09:02', 'Jan 14, 10:18 AM') is read as is."""
    at = parse_time(time)
    return at.strftime("%H:%M UTC") if at else time


def _spoken(minutes: float) -> str:
    """'18 minutes', '2 hours 5 minutes', '1 day 23 hours'."""
    return human_minutes(minutes).replace(" min", " minutes").replace(" h", " hours").replace("1 hours", "1 hour")


def _count(n: int, noun: str) -> str:
    plural = "es" if noun.endswith("s") else "s"
    return f"{n} {noun}{'' if n == 1 else plural}"


def _events(d: Digest, *kinds: str) -> list[Event]:
    return [e for e in d.timeline if e.kind in kinds]


def _sentences(d: Digest) -> list[str]:
    out = ["This is a rule-based digest of the incident thread, made without a language model."]
    start, minutes = _clock(d.started), d.duration_minutes
    if start and minutes is not None:
        end = "until it was resolved" if d.resolved else "with no resolution recognised in the thread"
        out.append(f"The first signal came at {start}, and the incident lasted about {_spoken(minutes)} {end}.")
    fired, cleared = _events(d, "alert_fired"), _events(d, "alert_resolved")
    deploys, rollbacks = _events(d, "deploy"), _events(d, "rollback")
    if fired or deploys or rollbacks:
        parts = [_count(sum(e.count for e in fired), "alert") + " fired", _count(len(cleared), "alert") + " resolved",
                 _count(len(deploys), "deploy message"), _count(len(rollbacks), "rollback message")]
        out.append(f"The thread shows {', '.join(parts[:-1])} and {parts[-1]}.")
    else:
        out.append("No alerts or deploys were recognised in the thread.")
    bursts = sorted(_events(d, "error_burst"), key=lambda e: -e.count)
    if bursts:
        out.append(f"The logs hold {_count(len(bursts), 'repeated error pattern')}, the largest seen {bursts[0].count} times.")
    if d.metrics:
        m = d.metrics[0]
        out.append(f"Among the metric jumps, {m.name} went from {m.before} to {m.after}.")
    if d.failures:
        titles = [f.title for f in d.failures[:5]]
        listed = titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"
        out.append(f"The rules found strong evidence for {_count(len(d.failures), 'failure class')}, best supported first: {listed}.")
    elif d.mentioned:
        out.append("No failure class has strong evidence in the thread, so the digest does not guess one.")
    else:
        out.append("No known failure class matched the rules.")
    if d.gaps:
        longest = max(d.gaps, key=lambda g: g.minutes)
        out.append(f"There {'was' if len(d.gaps) == 1 else 'were'} {_count(len(d.gaps), 'silence')}, the longest {round(longest.minutes)} minutes.")
    people = len(d.participants)
    bots = f", and {_count(len(d.bots), 'bot')} posted" if d.bots else ""
    out.append(f"{_count(people, 'participant')} wrote{bots} in {_count(d.message_count, 'message')}.")
    return out


def _words(sentences: list[str]) -> int:
    return sum(len(s.split()) for s in sentences)


def speech_text(d: Digest) -> str:
    """80–200 words: the facts first, a fixed explanation to reach the minimum, cut at a sentence at the maximum."""
    sentences = _sentences(d)
    for extra in _PADDING:
        if _words(sentences) >= MIN_WORDS:
            break
        sentences.append(extra)
    while _words(sentences) > MAX_WORDS and len(sentences) > 1:
        sentences.pop(-2)  # the last sentence (participants) stays; drop the detail before it
    # Names come from the thread: markdown in them is read as markdown (bot.core.speech.text owns what is fit to speak);
    # a log template's "<*>" is a value, and a star left over (no emphasis) would still be read aloud.
    return clean_for_speech(" ".join(sentences).replace("<*>", "some value")).replace("*", "")
