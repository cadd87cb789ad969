"""Recall over 10,000 remembered postmortems, on SQLite and on PostgreSQL, and the store's growth per incident.

Run: .venv/bin/python bench/bench_memory_recall.py   → bench/results/memory_recall.json
For each backend: 10,000 synthetic postmortems (bench/memory_corpus.py: 20 failure classes, 75 services, ~4 KB
report each, 10 % from private channels) are remembered through MemoryIndex, as the bot does; then 200 recalls of
new incidents drawn from the same distribution time what the digest waits for: the weighted-overlap lookup, the
full-text rank, the top 3's rows, tickets and votes, and the recurrence counts (live ticket states are HTTP and are
bounded separately by their own 1 s timeout). The goal: p95 ≤ 50 ms. Growth: the SQLite file (after a checkpoint)
and PostgreSQL's memory tables with their indexes, divided by the incidents stored.

The machine is shared and noisy, so the recall this one replaced (``bot/memory/index.py`` and ``rank.py`` at
``BASELINE``, read from git) runs on the same store in the same process, each query timed with both, in turns; every
answer of the two must be the same (incidents, scores, shared signals, text part, recurrence counts).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from memory_corpus import entries, signals

from harness import ROOT, median, ms, percentile, run_main, write_result

from bot.core.memory import Signals
from bot.memory.index import MemoryIndex, Scope, both
from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.postgres import PostgresServer

STORED = 10_000
QUERIES = 200
BASELINE = "be61671"  # main before recall in one statement (2026-12-06)


def _from_git(path: str, name: str) -> types.ModuleType:
    source = subprocess.run(["git", "show", f"{BASELINE}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{BASELINE}:{path}", "exec"), module.__dict__)
    return module


def baseline_index() -> type[Any]:
    """The MemoryIndex of ``BASELINE``, ranking with that version's rank.py too."""
    rank = _from_git("bot/core/memory/rank.py", "rank_before")
    index = _from_git("bot/memory/index.py", "index_before")
    index.__dict__.update({name: getattr(rank, name) for name in ("TEXT_WEIGHT", "THRESHOLD", "WEIGHTS", "bm25", "combined", "kept", "tokens")})
    return index.MemoryIndex  # type: ignore[no-any-return]


class Counting:
    """The store, counting the statements a recall sends it (each one a trip to the database's thread or server)."""

    def __init__(self, store: SqlRunStore) -> None:
        self.store, self.statements = store, 0

    async def execute(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[dict[str, Any]], int]:
        self.statements += 1
        return await self.store.execute(sql, params)


async def recall(index: Any, counting: Counting, query: Signals, scope: Scope) -> tuple[float, float, int, Any]:
    """What the digest waits for (bot/memory/recall.py): the similar incidents and the recurrence counts; before,
    the counts were asked after the incidents, when something matched."""
    counting.statements = 0
    t0, c0 = time.perf_counter(), time.process_time()
    if isinstance(index, MemoryIndex):  # as bot/memory/recall.py asks
        matches, recurrences = await both(index.similar(query, scope), index.recurrences(query, scope))
        recurrences = recurrences if matches else []
    else:
        matches = await index.similar(query, scope)
        recurrences = await index.recurrences(query, scope) if matches else []
    return time.perf_counter() - t0, time.process_time() - c0, counting.statements, (matches, recurrences)


def figures(times: list[float], cpu: list[float], statements: list[int]) -> dict[str, Any]:
    return {"recall_p50_ms": ms(median(times)), "recall_p95_ms": ms(percentile(times, 95)), "recall_max_ms": ms(max(times)),
            "recall_cpu_p95_ms": ms(percentile(cpu, 95)), "statements_per_recall_max": max(statements)}


async def measure(store: SqlRunStore, growth: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    counting = Counting(store)
    now, before = MemoryIndex(store), baseline_index()(store)
    started = time.monotonic()
    for entry in entries(STORED):
        await now.remember(entry)
    stored_s = time.monotonic() - started
    now.store = before.store = counting  # type: ignore[assignment]
    rng = random.Random(99)
    timed: dict[str, tuple[list[float], list[float], list[int]]] = {"now": ([], [], []), "before": ([], [], [])}
    found = differ = 0
    for n in range(QUERIES):
        query = signals(rng)
        scope = Scope(f"C{n % 40 + 1:04d}")
        answers = {}
        for name in ("now", "before") if n % 2 else ("before", "now"):  # in turns: neither always goes first
            wall, cpu, statements, answers[name] = await recall(now if name == "now" else before, counting, query, scope)
            for series, value in zip(timed[name], (wall, cpu, statements), strict=True):
                series.append(value)  # type: ignore[arg-type]
        found += bool(answers["now"][0])
        differ += answers["now"] != answers["before"]
    now_figures, before_figures = figures(*timed["now"]), figures(*timed["before"])
    kb = await growth() / STORED / 1024
    return {"stored": STORED, "remember_ms_each": ms(stored_s / STORED), **now_figures, "queries": QUERIES,
            "queries_with_seen_before": found, "answers_differing_from_before": differ, "kb_per_incident": round(kb, 2),
            "before": before_figures,
            "ratio_p50": round(now_figures["recall_p50_ms"] / before_figures["recall_p50_ms"], 3),
            "ratio_p95": round(now_figures["recall_p95_ms"] / before_figures["recall_p95_ms"], 3),
            "load_average": [round(x, 1) for x in os.getloadavg()]}


async def main() -> None:
    result: dict[str, Any] = {"goal_p95_ms": 50}
    with tempfile.TemporaryDirectory() as folder:
        store = await SqliteRunStore.open(Path(folder) / "runs.db")
        empty = (Path(folder) / "runs.db").stat().st_size

        async def sqlite_growth() -> int:
            await store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return (Path(folder) / "runs.db").stat().st_size - empty
        result["sqlite"] = await measure(store, sqlite_growth)
        await store.close()
    print(f"SQLite: {result['sqlite']}")
    with PostgresServer() as pg:
        pg_store = await PostgresRunStore.open(pg.new_database(), load_settings())

        async def postgres_growth() -> int:
            rows, _ = await pg_store.execute("SELECT pg_total_relation_size('memory') + pg_total_relation_size('memory_signals')"
                                               " + pg_total_relation_size('memory_terms') AS n")
            return int(rows[0]["n"])
        result["postgres"] = await measure(pg_store, postgres_growth)
        await pg_store.close()
    print(f"PostgreSQL: {result['postgres']}")
    print(f"wrote {write_result('memory_recall', result)}")


if __name__ == "__main__":
    run_main(main)
