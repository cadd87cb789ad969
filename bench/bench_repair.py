"""The quality gate's repair: its extra model time as a share of a run.

Run: .venv/bin/python bench/bench_repair.py   → bench/results/repair.json
The core pipeline (real LLM client, real parser and gate, no narration) against the fake LLM streaming at a fixed
speed (TOKENS_PER_S, a small local model). Three answers to the bundled sample incident:
  - passing: every check passes → no repair call (the share must be 0);
  - one weak section: the root cause hedges → one repair call rewriting that section only;
  - two weak sections: root cause and test suite fail → one call rewriting both.
For each, the median over REPEATS of the whole run and of the repair step (``info.timings["repair"]``, the extra
call plus re-checking), and the share repair / run.
"""

from __future__ import annotations

from typing import Any

from harness import median, run_main, write_result

from bot.core.incident.load import load_incident
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.core.sections import SectionId
from bot.settings import load_settings
from tests.core.gate.reports import SAMPLE, as_markdown, good_sections, section
from tests.fakes.fake_llm import FakeLLM, Reply, text

TOKENS_PER_S = 400.0  # fast enough to keep the benchmark short; the share does not depend on the speed
REPEATS = 5
WEAK_CAUSE = "The pool, probably, or maybe the retries; hard to say which mattered more."
WEAK_SUITE = "- Add a load test for the pool.\n- Add a chaos test for the retries."


def scenarios() -> dict[str, tuple[list[Reply], int]]:
    """name → (the fake's replies in order, chat calls expected)."""
    fast = {"tokens_per_s": TOKENS_PER_S}
    return {
        "passing": ([text(as_markdown(good_sections()), **fast)], 1),
        "one weak section": ([text(as_markdown(good_sections(root_cause=WEAK_CAUSE)), **fast),
                              text(as_markdown([section(SectionId.ROOT_CAUSE)]), **fast)], 2),
        "two weak sections": ([text(as_markdown(good_sections(root_cause=WEAK_CAUSE, test_suite=WEAK_SUITE)), **fast),
                               text(as_markdown([section(SectionId.ROOT_CAUSE), section(SectionId.TEST_SUITE)]), **fast)], 2),
    }


async def one(llm: FakeLLM, replies: list[Reply], calls: int) -> tuple[float, float]:
    llm.script(*replies)
    before = len(llm.chat_requests)
    settings = load_settings(llm_base_url=llm.base_url, llm_model=llm.model, tts_engine="none")
    pipeline = Pipeline(settings, llm=LLMClient(settings))
    try:
        result = await pipeline.run(load_incident(str(SAMPLE)), narrate=False)
    finally:
        await pipeline.aclose()
    assert len(llm.chat_requests) - before == calls and result.facts.quality["passed"], result.facts.quality
    timings = result.facts.timings
    return sum(timings.values()), timings["repair"]


async def main() -> None:
    rows: dict[str, Any] = {}
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=16384) as llm:
        for name, (replies, calls) in scenarios().items():
            runs = [await one(llm, replies, calls) for _ in range(REPEATS)]
            total, repair = median([r[0] for r in runs]), median([r[1] for r in runs])
            rows[name] = {"run_s": round(total, 3), "repair_s": round(repair, 3), "repair_share": round(repair / total, 3),
                          "chat_calls": calls}
            print(f"{name:18} run {total:6.2f} s  repair {repair:5.2f} s  share {100 * repair / total:5.1f} %")
    write_result("repair", {"tokens_per_s": TOKENS_PER_S, "repeats": REPEATS, "scenarios": rows})


if __name__ == "__main__":
    run_main(main)
