"""Benchmark incident preparation on a synthetic 10,000-line log dump and 10,000-message thread.

    .venv/bin/python bench/bench_prepare.py [--budget 2472] [--lines 10000] [--messages 10000]

Prints a summary and writes bench/results/prepare.json. No network.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: make `bench` and `bot` importable

from bench.gen_incident import (  # noqa: E402
    DEPLOY_LINES,
    ERROR_MARKERS,
    SECRETS,
    THREAD_DEPLOYS,
    TRACE_MARKERS,
    chat_thread,
    log_dump,
)
from bot.core.incident.model import Incident  # noqa: E402
from bot.core.prepare import PreparedIncident, prepare_incident  # noqa: E402

# 4096-token context − 1024 max output tokens − ~600 tokens of prompt around the incident.
DEFAULT_BUDGET = 4096 - 1024 - 600
_LEVEL = re.compile(r"\b(?:DEBUG|INFO|WARN|ERROR|CRITICAL|FATAL)\b")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
# The repeating bot messages of the thread, which must survive folded.
THREAD_ALERTS = ("] alertmanager: [FIRING:1] HighErrorRate", "] grafana: p99 latency on checkout-api")


def _timed(incident: Incident, budget: int, runs: int = 3) -> tuple[float, PreparedIncident]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = prepare_incident(incident, budget)
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def _peak_mib(incident: Incident, budget: int) -> float:
    """Peak Python allocation during one run (separate run: tracemalloc slows everything down)."""
    tracemalloc.start()
    try:
        prepare_incident(incident, budget)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _share(found: int, total: int) -> float:
    return round(found / total, 3) if total else 1.0


def _measure(
    name: str,
    incident: Incident,
    budget: int,
    key_markers: Sequence[str],
    deploys: Sequence[str],
    is_content_line: Callable[[str], bool],
) -> dict[str, Any]:
    seconds, prepared = _timed(incident, budget)
    lines = [line for line in prepared.text.splitlines() if is_content_line(line)]
    return {
        "name": name,
        "messages": prepared.message_count,
        "input_lines": sum(m.text.count("\n") + 1 for m in incident.messages),
        "input_mb": round(sum(len(m.text.encode()) for m in incident.messages) / 1e6, 2),
        "median_seconds": round(seconds, 4),
        "peak_mib": round(_peak_mib(incident, budget), 1),
        "original_chars": prepared.original_chars,
        "prepared_chars": len(prepared.text),
        "compression_ratio": round(prepared.original_chars / max(len(prepared.text), 1), 1),
        "key_templates_kept": _share(sum(m in prepared.text for m in key_markers), len(key_markers)),
        "deploy_lines_kept": _share(sum(d in prepared.text for d in deploys), len(deploys)),
        "kept_lines_with_timestamp": _share(sum(bool(_ISO.search(line)) for line in lines), len(lines)),
        "secrets_leaked": sum(s in prepared.text for s in SECRETS),
        "token_estimate": prepared.token_estimate,
        "budget_tokens": budget,
        "within_budget": prepared.token_estimate <= budget,
        "folded_templates": prepared.folded_templates,
        "redactions": prepared.redactions,
        "omitted": prepared.omitted,
    }


def _scaling(budget: int, sizes: Sequence[int]) -> dict[str, Any]:
    seconds = {n: _timed(log_dump(n), budget)[0] for n in sizes}
    ratios = {f"{b}/{a}": round(seconds[b] / seconds[a], 2) for a, b in itertools.pairwise(sizes)}
    return {"sizes": list(sizes), "median_seconds": {str(n): round(s, 4) for n, s in seconds.items()}, "time_ratios": ratios}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help=f"token budget (default {DEFAULT_BUDGET})")
    parser.add_argument("--lines", type=int, default=10_000, help="lines in the log dump")
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the thread")
    parser.add_argument("--big-lines", type=int, default=65_000, help="lines in the large log (65,000 ≈ 5 MB)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "prepare.json")
    args = parser.parse_args(argv)

    results = {
        "budget_tokens": args.budget,
        "log_dump": _measure(
            "log dump", log_dump(args.lines), args.budget, (*ERROR_MARKERS, *TRACE_MARKERS), DEPLOY_LINES,
            lambda line: bool(_LEVEL.search(line)),
        ),
        "thread": _measure(
            "thread", chat_thread(args.messages), args.budget, THREAD_ALERTS, THREAD_DEPLOYS, lambda line: not line[:1].isspace(),
        ),
        "log_5mb": _measure(
            "5 MB log", log_dump(args.big_lines), args.budget, (*ERROR_MARKERS, *TRACE_MARKERS), DEPLOY_LINES,
            lambda line: bool(_LEVEL.search(line)),
        ),
        "scaling": _scaling(args.budget, (2_500, 5_000, 10_000)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    for key in ("log_dump", "thread", "log_5mb"):
        r = results[key]
        print(
            f"{r['name']:>9}: {r['input_lines']:,} lines ({r['input_mb']} MB) in {r['messages']:,} messages → {r['median_seconds']:.3f}s median, "
            f"peak {r['peak_mib']} MiB, {r['original_chars']:,} → {r['prepared_chars']:,} chars ({r['compression_ratio']}×), "
            f"tokens {r['token_estimate']}/{r['budget_tokens']}"
        )
        print(
            f"{'':>11}key templates kept {r['key_templates_kept']:.0%}, deploy lines kept {r['deploy_lines_kept']:.0%}, "
            f"kept lines with timestamp {r['kept_lines_with_timestamp']:.0%}, secrets leaked {r['secrets_leaked']}, "
            f"folded templates {r['folded_templates']}"
        )
        for note in r["omitted"]:
            print(f"{'':>11}omitted: {note}")
    scaling = results["scaling"]
    print(f"  scaling: {scaling['median_seconds']} s, ratios {scaling['time_ratios']} (2.0 = linear)")
    print(f"  wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
