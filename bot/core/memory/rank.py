"""Recall's ranking: a weighted overlap of shared signals plus the full-text rank, with a threshold.

A shared failure class alone clears the threshold; so do an alert name (or a log template) with a service. A
full-text match adds at most ``TEXT_WEIGHT``, less than the threshold, so shared generic words never make two
incidents similar on their own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

WEIGHTS = {"class": 3.0, "alert": 2.0, "template": 2.0, "service": 1.0}
TEXT_WEIGHT = 1.0
THRESHOLD = 3.0
SHOWN = 3
# BM25's usual constants: term frequency saturates, long texts are not favoured.
_K1, _B = 1.2, 0.75
_WORD = re.compile(r"[a-z][a-z0-9]{2,}")


def tokens(text: str) -> list[str]:
    """Plain lower-case words of three letters or more ("payments-api" → "payments", "api")."""
    return _WORD.findall(text.lower())


def document(title: str, primary_cause: str, signals_json: str) -> str:
    """The words an incident is ranked by (its title, primary cause and signals as stored), kept with it: tokenising
    the candidates at every recall cost more than finding them."""
    return " ".join(tokens(f"{title} {primary_cause} {signals_json}"))


def bm25(query: set[str], docs: dict[int, list[str]]) -> dict[int, float]:
    """Okapi BM25 of ``query`` for each document, with the statistics of ``docs`` themselves: deterministic, and a
    word every candidate shares counts for almost nothing."""
    if not docs:
        return {}
    average = sum(len(d) for d in docs.values()) / len(docs) or 1.0
    counts = {doc_id: Counter(doc) for doc_id, doc in docs.items()}
    frequency = {w: n for w in query if (n := sum(1 for c in counts.values() if w in c))}
    idf = {w: math.log(1 + (len(docs) - n + 0.5) / (n + 0.5)) for w, n in frequency.items()}
    scores = {}
    for doc_id, doc_counts in counts.items():
        norm = _K1 * (1 - _B + _B * len(docs[doc_id]) / average)
        scores[doc_id] = sum(idf[w] * c * (_K1 + 1) / (c + norm) for w, c in doc_counts.items() if w in idf)
    return scores


def signal_score(shared: Iterable[tuple[str, str]]) -> float:
    return sum(WEIGHTS[kind] for kind, _ in shared)


def combined(shared: Iterable[tuple[str, str]], text_rank: float, best_text_rank: float) -> tuple[float, float]:
    """(score, text part). Text ranks are scaled to the best one of this recall: 1.0 for the closest wording."""
    text = TEXT_WEIGHT * (text_rank / best_text_rank) if best_text_rank > 0 else 0.0
    return round(signal_score(shared) + text, 3), round(text, 3)


def kept(scored: list[tuple[int, float]], limit: int = SHOWN) -> list[int]:
    """Ids at or above the threshold, best first (ties: the newer incident, the larger id, first)."""
    return [i for i, score in sorted(scored, key=lambda p: (-p[1], -p[0])) if score >= THRESHOLD][:limit]
