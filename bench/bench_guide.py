"""Does the digest's guide help the model or mislead it? (issue 21, part 4)

Run: .venv/bin/python bench/bench_guide.py [--verbose]   → bench/results/guide.json
Corpus: the real-incident labels and texts of bench/bench_real_incidents.py (bench/corpus/real, $REAL_INCIDENTS_DIR).

Each labelled document goes through the real pipeline (loading, digest, prompt, LLM client, parser, quality gate;
no narration) against the fake LLM answering with ``echo_guide()``: a small model that takes the guide's first
candidate failure class as its primary root cause, and says "unknown" when the guide has none. What that model
concludes is therefore exactly what the guide told it, so per incident the guide:
  - helps: its first candidate is the labelled root cause's class;
  - misleads: it names a first candidate that is not;
  - stays silent: it names none (the model has to read the messages; on a "none" incident that is right).
"Every match" is the same count for the guide the digest gave before issue 21: every class whose pattern matched
(here: the checklist plus the classes named without strong evidence), in the order of the rules file.
The quality gate's record of each run (run.json ``quality``) is summed: runs that passed without a repair, repair
calls made, and the checks that failed before repair.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from real_corpus import CorpusError, Label, load_labels, text_path

from harness import run_main, write_result

from bot.core.digest import build_digest, default_rules
from bot.core.incident.load import load_incident
from bot.core.incident.model import cleaned
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.core.sections import SectionId
from bot.settings import load_settings
from tests.fakes.fake_llm import FakeLLM, echo_guide

NONE = "none"
Outcome = str  # "helps" | "misleads" | "silent"


def outcome(first: str | None, label: Label) -> Outcome:
    if first is None:
        return "silent"
    return "helps" if first == label.primary else "misleads"


def primary_named(root_cause: str, titles: dict[str, str]) -> str | None:
    """The class id whose title the answer's primary root cause names (None: "unknown")."""
    line = next((ln for ln in root_cause.splitlines() if ln.startswith("**Primary root cause:**")), "")
    return next((cid for title, cid in titles.items() if title in line), None)


async def one(llm: FakeLLM, label: Label) -> dict[str, Any]:
    incident = cleaned(load_incident(str(text_path(label.id))))
    digest = build_digest(incident)
    order = {f.rule.id: i for i, f in enumerate(default_rules().failures)}
    every_match = sorted([f.id for f in digest.failures + digest.mentioned if f.hits], key=order.__getitem__)
    llm.script(echo_guide())
    before = len(llm.chat_requests)
    settings = load_settings(llm_base_url=llm.base_url, llm_model=llm.model, tts_engine="none")
    pipeline = Pipeline(settings, llm=LLMClient(settings))
    try:
        result = await pipeline.run(incident, narrate=False)
    finally:
        await pipeline.aclose()
    root = next((s.body for s in result.sections if s.id is SectionId.ROOT_CAUSE), "")
    titles = {f.rule.title: f.rule.id for f in default_rules().failures}
    named = primary_named(root, titles)
    quality = result.facts.quality
    return {
        "id": label.id, "primary": label.primary, "candidates": [f.id for f in digest.failures], "model_named": named,
        "guide": outcome(named, label), "every_match": outcome(every_match[0] if every_match else None, label),
        "passed_without_repair": bool(quality.get("passed")) and not quality.get("repaired"),
        "repair_calls": len(llm.chat_requests) - before - 1,
        "failed_checks": [c for c, v in quality.get("checks", {}).items() if v.get("before") is False],
    }


def tally(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    counts = Counter(r[key] for r in rows)
    scored = [r for r in rows if r["primary"] != NONE]
    silent_right = sum(1 for r in rows if r["primary"] == NONE and r[key] == "silent")
    return {
        "helps": counts["helps"], "misleads": counts["misleads"], "silent": counts["silent"],
        "helps_pct": round(100 * counts["helps"] / max(len(scored), 1), 1),
        "misleads_pct": round(100 * counts["misleads"] / max(len(rows), 1), 1),
        "silent_on_none_incidents": silent_right, "none_incidents": len(rows) - len(scored),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="one line per incident")
    args = parser.parse_args()
    try:
        labels = load_labels()
    except CorpusError as err:
        raise SystemExit(f"bench_guide: {err}") from None
    rows: list[dict[str, Any]] = []
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=16384) as llm:
        for label in labels:
            if not text_path(label.id).exists():
                print(f"skipped {label.id}: its text is missing (see bench/bench_real_incidents.py for how to fetch it)")
                continue
            rows.append(await one(llm, label))
            if args.verbose:
                r = rows[-1]
                print(f"{r['guide']:9} {r['id']}: primary {r['primary']}, candidates {r['candidates']}, model named {r['model_named']}")
    guide, every = tally(rows, "guide"), tally(rows, "every_match")
    quality = {
        "runs": len(rows), "passed_without_repair": sum(r["passed_without_repair"] for r in rows),
        "repair_calls": sum(r["repair_calls"] for r in rows),
        "failed_checks_before_repair": dict(Counter(c for r in rows for c in r["failed_checks"])),
    }
    print(f"{len(rows)} incidents        helps   misleads   silent (silent on the {guide['none_incidents']} 'none' incidents)")
    for name, t in (("guide (strong only)", guide), ("every match (before)", every)):
        print(f"{name:22} {t['helps']:3} ({t['helps_pct']:4.1f} %)  {t['misleads']:3} ({t['misleads_pct']:4.1f} %)  {t['silent']:3}"
              f" ({t['silent_on_none_incidents']})")
    print(f"quality gate: {quality['passed_without_repair']}/{quality['runs']} passed without repair, "
          f"{quality['repair_calls']} repair calls, failed before repair: {quality['failed_checks_before_repair']}")
    write_result("guide", {"guide": guide, "every_match": every, "quality": quality, "incidents": rows})


if __name__ == "__main__":
    run_main(main)
