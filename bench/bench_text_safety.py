"""Text fit to speak and text that pings nobody: time against input size, for ordinary and hostile texts.

Run: .venv/bin/python bench/bench_text_safety.py   → bench/results/text_safety.json
In-process, CPU time. `clean_for_speech` (markdown-it-py's tree) and `neutralise_mentions` on 25, 50 and 100 KB of
a generated postmortem and of hostile repetitions (unclosed brackets and emphasis, unclosed escaped mentions). The
figure is the growth per doubling of the input, taken within this run: about 2× is linear, about 4× quadratic.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

from gen_incident import postmortem_document

from harness import median, write_result

from bot.core.mentions import neutralise_mentions
from bot.core.speech.text import clean_for_speech

REPEATS = 3
SIZES_KB = (25, 50, 100)
SPEECH_INPUTS: dict[str, Callable[[int], str]] = {
    "postmortem": postmortem_document,
    "unclosed-brackets": lambda n: "[" * n,
    "unclosed-images": lambda n: "![" * (n // 2),
    "stars": lambda n: "*a " * (n // 3),
    "code-ticks": lambda n: "`a" * (n // 2),
}
MENTION_INPUTS: dict[str, Callable[[int], str]] = {
    "postmortem": postmortem_document,
    "escaped-user-unclosed": lambda n: "&lt;@U1|a " * (n // 10),
    "escaped-leftover-unclosed": lambda n: "&lt;@a " * (n // 7),
    "canvas-unclosed": lambda n: "![](@" * (n // 5),
}


def cpu_seconds(work: Callable[[str], object], text: str) -> float:
    runs = []
    for _ in range(REPEATS):
        start = time.process_time()
        work(text)
        runs.append(time.process_time() - start)
    return median(runs)


def growth(name: str, make: Callable[[int], str], work: Callable[[str], object]) -> dict[str, Any]:
    times = {kb: cpu_seconds(work, make(kb * 1000)) for kb in SIZES_KB}
    ratios = [round(times[b] / times[a], 2) if times[a] else None for a, b in itertools.pairwise(SIZES_KB)]
    print(f"  {name}: " + ", ".join(f"{kb} KB {times[kb]:.3f} s" for kb in SIZES_KB) + f"; per doubling {ratios}")
    return {"cpu_s": {f"{kb} KB": round(times[kb], 4) for kb in SIZES_KB}, "per_doubling": ratios}


def main() -> None:
    clean_for_speech("warm-up: *parser* loaded")
    print("clean_for_speech")
    speech = {name: growth(name, make, clean_for_speech) for name, make in SPEECH_INPUTS.items()}
    print("neutralise_mentions (handles=True, the strictest)")
    mentions = {name: growth(name, make, lambda t: neutralise_mentions(t, handles=True))
                for name, make in MENTION_INPUTS.items()}
    path = write_result("text_safety", {"repeats": REPEATS, "speech": speech, "mentions": mentions})
    print(f"→ {path}")


if __name__ == "__main__":
    main()
