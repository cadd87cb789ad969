"""Golden recall on the real-incident corpus: `import`, then `similar` for each incident with a sibling.

Run: .venv/bin/python bench/bench_memory_golden.py   → bench/results/memory_golden.json
The real-incident corpus of bench/corpus/real (labels written before the bot ran: classes, primary_class; read by
bench/real_corpus.py) with its public texts in $REAL_INCIDENTS_DIR (never committed). Every labelled text is imported into a fresh SQLite
store, as `python -m bot import` does; then each incident whose primary class has a sibling (same primary class,
"none" excluded) asks for its similar incidents, itself excluded: a hit when a sibling is in the top 3. The labels
name no service, so siblings share the class only. Reported twice: as recall shows it (threshold applied) and as
ranking alone (threshold 0), which separates "not similar enough to show" from "ranked wrong". The held-out cases
of the corpus are never read. The committed, CI-run counterpart is tests/memory/test_golden.py.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from real_corpus import CorpusError, load_labels, text_path

from harness import run_main, write_result

import bot.core.memory.rank as rank
import bot.memory.index as index_module
from bot.errors import PostmortemError
from bot.memory.imports import entry_for_file
from bot.memory.index import MemoryIndex, Scope
from bot.runs.sqlite import SqliteRunStore

# Held out from every tuning and benchmark (the lead's list): never opened.
_HELD_OUT = re.compile(
    r"dfds-pm2019-0(09|10|11)|dfds-pm2020-00[124589]|dfds-pm2021-00[458]|dfds-pm2022-00[19]|dfds-pm2023-001|dfds-pm2024-00[12]"
    r"|posthog|icco|chia-2021-05-26|chia-2024-06-25-(?!gui)|chia-2025-02-25", re.IGNORECASE)


async def hits(index: MemoryIndex, entries: dict[str, Any], primary: dict[str, str]) -> tuple[int, int, list[str]]:
    asked = found = 0
    missed = []
    for name, entry in entries.items():
        siblings = {n for n, c in primary.items() if c == primary[name] and n != name and n in entries}
        if primary[name] == "none" or not siblings:
            continue
        asked += 1
        top = [Path(p.where).stem for p, *_ in await index.similar(entry.signals, Scope(None, exclude=entry.source))]
        if siblings & set(top):
            found += 1
        else:
            missed.append(f"{name} ({primary[name]}) → {top}")
    return asked, found, missed


async def main() -> None:
    primary, paths = {}, {}
    for label in load_labels():
        if _HELD_OUT.search(label.id):
            continue
        try:
            paths[label.id] = text_path(label.id)
        except CorpusError as exc:
            print(f"skipped {label.id}: {exc}")
            continue
        primary[label.id] = label.primary
    if not primary:
        print("no corpus text found: nothing to measure (set REAL_INCIDENTS_DIR to the folder of the texts)")
        return
    with tempfile.TemporaryDirectory() as folder:
        store = await SqliteRunStore.open(Path(folder) / "runs.db")
        index = MemoryIndex(store)
        entries: dict[str, Any] = {}
        for name in primary:
            try:
                entries[name] = entry_for_file(paths[name])
            except PostmortemError as exc:
                print(f"skipped {name}: {exc}")
                continue
            await index.remember(entries[name])
        asked, found, missed = await hits(index, entries, primary)
        rank.THRESHOLD = index_module.THRESHOLD = 0.0  # ranking alone: every incident sharing anything is a candidate
        index_module.TEXT_WEIGHT = 0.0
        _, ranked, _ = await hits(index, entries, primary)
        await store.close()
    classes = Counter(c for c in primary.values() if c != "none")
    result = {"incidents": len(entries), "with_sibling": asked, "top3_hits": found,
              "top3_rate": round(found / asked, 3) if asked else None, "top3_hits_ranking_alone": ranked,
              "top3_rate_ranking_alone": round(ranked / asked, 3) if asked else None, "primary_classes": dict(classes),
              "missed": missed, "goal_rate": 0.8}
    print(f"{found}/{asked} incidents with a sibling found it in the top 3 ({result['top3_rate']}); "
          f"ranking alone {ranked}/{asked} ({result['top3_rate_ranking_alone']})")
    print(f"wrote {write_result('memory_golden', result)}")


if __name__ == "__main__":
    run_main(main)
