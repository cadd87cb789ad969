"""Weighing the failure classes' evidence: where a statement sits, whether it names the failure or a symptom,
whether it is stated as a cause. The checklist holds only classes with strong evidence, best-supported first.

Weights, and why:
- a "Root cause" section is where authors state the failure (4); "Contributing factors" (2.5), causes by
  definition, and the summary (2), where reports without a root-cause heading state it, come next; the timeline, impact, detection, resolution and
  chat (no section) count once (1);
- "Action items" and "Lessons learned" count nothing: they say what the authors will do ("alert on certificate
  expiry"), not what happened, so a class named only there is not evidence that it failed;
- a sentence that names the statement as a cause ("caused by", "due to", "led to") doubles it;
- a symptom ("timed out") counts a quarter and can never make a class strong alone;
- a class marked ``consequence`` (a crash loop, failing probes, a backlog, timeouts) ranks at three quarters of its
  score: with evidence as strong, the failure that caused it comes first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.digest.rules import CompiledFailure, Hit
from bot.core.incident.model import Section

SECTION_WEIGHT: dict[Section | None, float] = {
    "root_cause": 4.0, "contributing": 2.5, "summary": 2.0,
    "timeline": 1.0, "impact": 1.0, "detection": 1.0, "resolution": 1.0, None: 1.0,
    "action_items": 0.0, "lessons": 0.0,
}
CAUSE_FACTOR = 2.0
SYMPTOM_FACTOR = 0.25
CONSEQUENCE_FACTOR = 0.75
# A class is in the checklist when one statement naming it weighs at least this much (a plain mention in chat
# or a timeline does), and its total is not dwarfed by the best-supported class (an aside in a long report).
STRONG = 1.0
RELATIVE = 0.2


@dataclass(frozen=True)
class EvidenceOrigin:
    """Where a piece of text sits: what the FailureFinding of a class carries about its evidence line."""

    time: str | None
    author: str
    message: int | None
    section: Section | None
    order: tuple[int, ...]  # where the text sits in the source, for the earliest among equals


@dataclass
class Tally:
    """One class's evidence so far."""

    failure: CompiledFailure
    score: float = 0.0
    strongest: float = 0.0  # the weight of its best statement naming the failure
    hits: int = 0  # matching lines, folded repeats counted
    best: tuple[float, Hit, EvidenceOrigin] | None = None
    refuted: bool = False  # the text states that this failure did not happen

    @property
    def rank(self) -> float:
        """The score the checklist is ordered by: a consequence class (a crash loop, a backlog) yields to a cause."""
        return self.score * (CONSEQUENCE_FACTOR if self.failure.rule.consequence else 1.0)

    def add(self, hit: Hit, source: EvidenceOrigin, count: int) -> None:
        weight = SECTION_WEIGHT.get(source.section, 1.0) * (CAUSE_FACTOR if hit.cause else 1.0) * (1.0 if hit.strong else SYMPTOM_FACTOR)
        if hit.refutes:
            self.refuted = self.refuted or weight > 0
            return
        if weight <= 0:
            # Named only in action items or lessons: recorded as mentioned, never counted as evidence.
            self.best = self.best or (weight, hit, source)
            return
        self.hits += count
        # Repeats of one line (an alert bot, a folded log template) add little beyond the first.
        self.score += weight * (1.0 + 0.1 * min(count - 1, 10))
        if hit.strong:
            self.strongest = max(self.strongest, weight)
        # The line shown is the weightiest, the earliest among equals: a pasted log often predates the messages.
        if self.best is None or weight > self.best[0] or (weight == self.best[0] and _earlier(source, self.best[2])):
            self.best = (weight, hit, source)


def _earlier(a: EvidenceOrigin, b: EvidenceOrigin) -> bool:
    if a.time and b.time and a.time != b.time:
        return a.time < b.time
    return a.order < b.order


@dataclass
class Weighing:
    """All classes' tallies for one incident; ``ranked()`` splits them into the checklist and the rest."""

    tallies: dict[str, Tally] = field(default_factory=dict)

    def add(self, hits: list[Hit], source: EvidenceOrigin, count: int) -> None:
        for hit in hits:
            rule_id = hit.failure.rule.id
            tally = self.tallies.get(rule_id) or self.tallies.setdefault(rule_id, Tally(hit.failure))
            tally.add(hit, source, count)

    def ranked(self) -> tuple[list[Tally], list[Tally]]:
        """(strong classes, best-supported first; the other classes that were mentioned, for the record)."""
        counted = sorted((t for t in self.tallies.values() if t.best is not None), key=lambda t: (-t.rank, t.best[2].order if t.best else ()))
        supported = [t for t in counted if t.strongest >= STRONG and not t.refuted]
        top = max((t.score for t in supported), default=0.0)
        strong = [t for t in supported if t.score >= RELATIVE * top]
        return strong, [t for t in counted if t not in strong]
