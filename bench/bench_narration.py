"""Offline narration speed: piper + lameenc on a fixed ~200-word summary. No network.

Run: .venv/bin/python bench/bench_narration.py
Prints the figures and writes bench/results/narration.json. The goal is ≥ 10× real time
(seconds of audio per second of wall time) on 2 cores; the voice load is timed apart
because the bot pays it once per process.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from bot.core.speech import piper_engine

RUNS = 3
GOAL_X_REALTIME = 10.0
RESULT = Path(__file__).parent / "results" / "narration.json"

SUMMARY = (
    "Postmortem summary for the checkout pricing incident. At nine forty on Tuesday the checkout "
    "service began showing wrong totals to customers paying in euros. A deploy ten minutes "
    "earlier changed the cache key for price lookups, and the new key left out the currency, so "
    "euro baskets were priced from dollar entries. The incident lasted forty minutes and touched "
    "about two thousand orders. Why did testing miss it? Our integration suite only built dollar "
    "baskets. The canary compared status codes, not totals, so it stayed green while prices were "
    "wrong. The unit tests for the cache mocked the key function, which hid the change entirely. "
    "What we will do. First, a contract test for the pricing cache that runs every supported "
    "currency through a real key. Second, a canary assertion that compares basket totals against "
    "the pricing service. Third, a property based test that the cache key changes whenever any "
    "pricing input changes. Fourth, a review of our other caches for keys that drop request "
    "fields. Owners and dates are in the action items below. Thanks to support for escalating "
    "quickly, and to the on call engineer for a clean rollback."
)


def main() -> None:
    path = piper_engine.model_path(None)
    started = time.perf_counter()
    voice = piper_engine.load_voice(path)
    load_s = time.perf_counter() - started

    runs = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        pcm, rate, channels = piper_engine.synthesize_pcm(voice, SUMMARY)
        t1 = time.perf_counter()
        mp3 = piper_engine.encode_mp3(pcm, rate, channels)
        t2 = time.perf_counter()
        audio_s = len(pcm) / (2 * channels * rate)
        runs.append({
            "audio_s": round(audio_s, 2),
            "synth_s": round(t1 - t0, 3),
            "encode_s": round(t2 - t1, 3),
            "x_realtime": round(audio_s / (t2 - t0), 1),
            "encode_share": round((t2 - t1) / (t2 - t0), 3),
            "mp3_bytes": len(mp3),
        })

    x_realtime = statistics.median(r["x_realtime"] for r in runs)
    result = {
        "voice": piper_engine.voice_name(path),
        "words": len(SUMMARY.split()),
        "cpus": os.cpu_count(),
        "load_s": round(load_s, 2),
        "median_x_realtime": x_realtime,
        "median_encode_share": statistics.median(r["encode_share"] for r in runs),
        "goal_x_realtime": GOAL_X_REALTIME,
        "meets_goal": x_realtime >= GOAL_X_REALTIME,
        "runs": runs,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"voice load: {load_s:.2f} s (once per process)")
    for i, r in enumerate(runs, 1):
        print(f"run {i}: {r['audio_s']:.1f} s audio in {r['synth_s'] + r['encode_s']:.2f} s "
              f"= {r['x_realtime']}x real time (MP3 encoding {r['encode_share']:.0%})")
    verdict = "meets" if result["meets_goal"] else "BELOW"
    print(f"median: {x_realtime}x real time, {verdict} the {GOAL_X_REALTIME:g}x goal "
          f"on {os.cpu_count()} CPUs; MP3 encoding share {result['median_encode_share']:.0%}")
    print(f"wrote {RESULT}")


if __name__ == "__main__":
    main()
