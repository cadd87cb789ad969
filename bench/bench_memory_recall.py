"""Recall over 10,000 remembered postmortems, on SQLite and on PostgreSQL, and the store's growth per incident.

Run: .venv/bin/python bench/bench_memory_recall.py   → bench/results/memory_recall.json
For each backend: 10,000 synthetic postmortems (bench/memory_corpus.py: 20 failure classes, 75 services, ~4 KB
report each, 10 % from private channels) are remembered through MemoryIndex, as the bot does; then 200 recalls of
new incidents drawn from the same distribution time what the digest waits for: the weighted-overlap lookup, the
full-text rank, the top 3's rows, tickets and votes, and the recurrence counts (live ticket states are HTTP and are
bounded separately by their own 1 s timeout). The goal: p95 ≤ 50 ms. Growth: the SQLite file (after a checkpoint)
and PostgreSQL's memory tables with their indexes, divided by the incidents stored.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from memory_corpus import entries, signals

from harness import median, ms, percentile, run_main, write_result

from bot.memory.index import MemoryIndex, Scope
from bot.runs.postgres import PostgresRunStore
from bot.runs.sql import SqlRunStore
from bot.runs.sqlite import SqliteRunStore
from bot.settings import load_settings
from tests.fakes.postgres import PostgresServer

STORED = 10_000
QUERIES = 200


async def measure(store: SqlRunStore, growth: Callable[[], Awaitable[int]]) -> dict[str, Any]:
    index = MemoryIndex(store)
    started = time.monotonic()
    for entry in entries(STORED):
        await index.remember(entry)
    stored_s = time.monotonic() - started
    rng = random.Random(99)
    times, cpu, found = [], [], 0
    for n in range(QUERIES):
        query = signals(rng)
        scope = Scope(f"C{n % 40 + 1:04d}")
        t0, c0 = time.perf_counter(), time.process_time()
        matches = await index.similar(query, scope)
        if matches:
            await index.recurrences(query, scope)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        found += bool(matches)
    kb = await growth() / STORED / 1024
    return {"stored": STORED, "remember_ms_each": ms(stored_s / STORED), "recall_p50_ms": ms(median(times)),
            "recall_p95_ms": ms(percentile(times, 95)), "recall_max_ms": ms(max(times)), "queries": QUERIES,
            "queries_with_seen_before": found, "kb_per_incident": round(kb, 2),
            # This process's CPU per recall (every thread: SQLite runs on the store's own; PostgreSQL's server is another process).
            "recall_cpu_p95_ms": ms(percentile(cpu, 95)), "load_average": [round(x, 1) for x in os.getloadavg()]}


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
            rows, _ = await pg_store.execute("SELECT pg_total_relation_size('memory') + pg_total_relation_size('memory_signals') AS n")
            return int(rows[0]["n"])
        result["postgres"] = await measure(pg_store, postgres_growth)
        await pg_store.close()
    print(f"PostgreSQL: {result['postgres']}")
    print(f"wrote {write_result('memory_recall', result)}")


if __name__ == "__main__":
    run_main(main)
