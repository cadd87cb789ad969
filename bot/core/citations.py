"""Evidence links. Every message of an incident has a short id in the prompt (``[m12]``, see incident.message_id);
the model cites ids after its claims. Here: the citations are checked against the ids the prompt showed (one that
points at no message shown is removed and counted), recorded in ``RunFacts.citations`` with where each cited message
lives, and rendered by the front ends: Slack as links to the messages, the CLI as the messages' times.

The record holds message ids, times and Slack timestamps only, never message text: nothing in it can leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.incident.model import Incident, message_id
from bot.core.sections import Section, SectionId

# One citation group: "[m4]", "[m4, m7]", "[m4; m7]". Ids run to six digits (a thread of 500 messages needs three).
CITATION = re.compile(r"\[\s*m\d{1,6}(?:\s*[,;]\s*m\d{1,6})*\s*\]")
_ID = re.compile(r"m\d{1,6}")
# A group and the spaces before it, for removing it without leaving "claim  ." behind.
_GROUP_WITH_SPACE = re.compile(r"[ \t]*" + CITATION.pattern)
# Sections whose citations are not evidence links: the spoken summary is read aloud.
_UNCITED = frozenset({SectionId.AUDIO_SUMMARY})
_DANGLING_KEPT = 20  # ids listed in the record; the count is exact


@dataclass(frozen=True)
class Source:
    """Where a cited message lives: its time (ISO, UTC; as written for a row with no date) and its Slack ts, each
    when known."""

    time: str | None
    ref: str | None

    @property
    def clock(self) -> str | None:
        """HH:MM:SS of the message, the CLI's and the link's label ("9:02 AM" for a row with no date)."""
        if self.time and len(self.time) >= 19 and self.time[10] == "T":
            return self.time[11:19]
        return self.time or None


def sources_of(incident: Incident) -> dict[str, Source]:
    return {message_id(i): Source(m.time_label, m.ref) for i, m in enumerate(incident.messages)}


def ids_in(text: str) -> list[str]:
    """Every id cited in ``text``, in order, repeats kept."""
    return [i for group in CITATION.findall(text) for i in _ID.findall(group)]


def strip_citations(text: str) -> str:
    """``text`` without any citation (speech, and anything else that must not show ids)."""
    return _GROUP_WITH_SPACE.sub("", text)


def render(text: str, label: Callable[[str], str]) -> str:
    """Each citation group replaced by its ids' labels, joined by a space."""
    return CITATION.sub(lambda m: " ".join(label(i) for i in _ID.findall(m.group(0))), text)


def recorded_sources(record: dict[str, Any]) -> dict[str, Source]:
    """The sources saved in ``RunFacts.citations`` (a resumed run has only its record)."""
    raw = record.get("sources") or {}
    return {k: Source(v.get("time"), v.get("ref")) for k, v in raw.items() if isinstance(v, dict)}


def times_label(sources: Mapping[str, Source]) -> Callable[[str], str]:
    """The CLI's rendering: ``[10:42:05]``, the message's time; ``[message 3]`` for a message without one."""
    def label(cid: str) -> str:
        source = sources.get(cid)
        clock = source.clock if source else None
        return f"[{clock}]" if clock else f"[message {cid[1:]}]"
    return label


def render_times(text: str, sources: Mapping[str, Source]) -> str:
    return render(text, times_label(sources))


class CitationAudit:
    """One run's citations. ``audit`` each section of the model's answer; the counts and the sources of every id
    cited (by the model or the digest) are kept in ``record``, which is ``RunFacts.citations``."""

    def __init__(self, incident: Incident, record: dict[str, Any], digest_markdown: str = "", context: str = "") -> None:
        """``context``: the digest's lines as the prompt carries them, always whole: the ids they cite are shown."""
        self.sources = sources_of(incident)
        self.record = record
        record.setdefault("cited", 0)
        record.setdefault("dangling_removed", 0)
        record.setdefault("dangling", [])
        record.setdefault("sources", {})
        self._shown: tuple[str, frozenset[str]] = ("", frozenset())
        self._context = frozenset(ids_in(context))
        self._keep(ids_in(digest_markdown))

    def shown(self, incident_text: str) -> frozenset[str]:
        """Ids the model was shown: in the prepared incident's message heads or the digest's lines, and naming a real
        message. A message dropped to fit the budget exists, but the model never saw it: citing it is no evidence."""
        if self._shown[0] is not incident_text:
            found = {i for i in {*ids_in(incident_text), *self._context} if i in self.sources}  # "arm64" shows no m64
            self._shown = (incident_text, frozenset(found))
        return self._shown[1]

    def audit(self, section: Section, incident_text: str) -> Section:
        """``section`` with its dangling citations removed (and counted); a spoken summary loses all of them."""
        if section.id in _UNCITED:
            body = strip_citations(section.body)
            return section if body == section.body else Section(section.id, section.title, body)
        body, kept, dangling = self._filter(section.body, incident_text)
        self.record["cited"] += len(kept)
        self.record["dangling_removed"] += len(dangling)
        listed: list[str] = self.record["dangling"]
        listed += [i for i in dict.fromkeys(dangling) if i not in listed][: max(0, _DANGLING_KEPT - len(listed))]
        return section if body == section.body else Section(section.id, section.title, body)

    def preview(self, section_id: SectionId, text: str, incident_text: str) -> str:
        """A streaming preview's line, cleaned like ``audit`` cleans the finished section, but not counted: the
        finished section is audited (and counted) once."""
        if section_id in _UNCITED:
            return strip_citations(text)
        return self._filter(text, incident_text)[0]

    def _filter(self, text: str, incident_text: str) -> tuple[str, list[str], list[str]]:
        """``text`` without the ids the model was not shown; the ids kept (their sources recorded) and removed."""
        shown = self.shown(incident_text)
        kept: list[str] = []
        dangling: list[str] = []

        def check(match: re.Match[str]) -> str:
            ids = _ID.findall(match.group(0))
            good = [i for i in ids if i in shown]
            kept.extend(good)
            dangling.extend(i for i in ids if i not in shown)
            if not good:
                return ""
            spaces = match.group(0)[: len(match.group(0)) - len(match.group(0).lstrip(" \t"))]
            return f"{spaces}[{', '.join(good)}]"

        body = _GROUP_WITH_SPACE.sub(check, text)
        self._keep(kept)
        return body, kept, dangling

    def _keep(self, ids: Iterable[str]) -> None:
        sources: dict[str, Any] = self.record["sources"]
        for cid in ids:
            if cid in self.sources and cid not in sources:
                source = self.sources[cid]
                sources[cid] = {"time": source.time, "ref": source.ref}
