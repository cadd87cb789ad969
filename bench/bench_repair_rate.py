"""The quality gate's repair-call rate: answers a reviewer accepts vs garbage answers (issue 21, part 5).

Run: .venv/bin/python bench/bench_repair_rate.py   → bench/results/repair_rate.json
The core pipeline (real OpenAI client against the OpenAI-compatible fake, real parser and gate, no narration) on
the ten reviewer-accepted answers of tests/fixtures/accepted_answers, each against its own incident account, and on
garbage: each accepted answer spoiled in one of the gate's failure ways (tests/core/gate/accepted.py SPOILERS: an
echo of the prompt, template tokens, a loop, a stub, no or a hedged primary cause, a missing root cause or test
suite, tests without success criteria, a summary in bullets, an invented time), every way on two answers. A
spoiled answer's repair call is answered with the accepted answer, as a model that fixes its text would.
Figures: the share of runs that made a repair call, and for garbage the share that passed after it; a garbage
answer that made no call and was not held back would be one the gate missed.
"""

from __future__ import annotations

from typing import Any

from harness import run_main, write_result

from bot.core.gate.repair import REPAIR_SYSTEM
from bot.core.incident.load import load_incident
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.core.sections import Section
from bot.core.sections.parse import parse_sections
from bot.settings import load_settings
from tests.core.gate.accepted import SPOILERS, Accepted, accepted
from tests.fakes.fake_llm import FakeLLM, Reply, text

SPOILED_PER_WAY = 2


def _markdown(sections: list[Section]) -> str:
    return "\n\n".join(s.markdown for s in sections) + "\n"


async def one(llm: FakeLLM, case: Accepted, first: Reply) -> dict[str, Any]:
    """One run: whether it asked for a repair, and how it ended. A repair call gets the accepted answer."""
    llm.script(first)
    llm.default = text(case.answer)
    before = len(llm.requests)
    settings = load_settings(llm_base_url=llm.base_url, llm_model=llm.model, tts_engine="none")
    pipeline = Pipeline(settings, llm=LLMClient(settings))
    try:
        result = await pipeline.run(load_incident(str(case.incident)), narrate=False)
    finally:
        await pipeline.aclose()
    calls = [r.json for r in llm.requests[before:] if r.path == "/v1/chat/completions"]
    repairs = sum(1 for r in calls if r["messages"][0]["content"] == REPAIR_SYSTEM)
    return {"repair_calls": repairs, "mode": result.run.mode, "passed": bool(result.facts.quality.get("passed")),
            "notes": result.facts.quality.get("notes", [])}


async def main() -> None:
    cases = accepted()
    rows: dict[str, Any] = {"accepted": {}, "garbage": {}}
    async with FakeLLM(model="qwen2.5-7b-instruct", ollama=False, context_length=16384) as llm:
        for case in cases:
            rows["accepted"][case.id] = await one(llm, case, text(case.answer))
        for n, (way, (spoil, _check, _section)) in enumerate(SPOILERS.items()):
            for case in (cases[(n + k) % len(cases)] for k in range(SPOILED_PER_WAY)):
                bad = _markdown(spoil(case, parse_sections(case.answer)))
                rows["garbage"][f"{way} / {case.id}"] = await one(llm, case, text(bad))
    good, bad = rows["accepted"].values(), rows["garbage"].values()
    summary = {
        "accepted_runs": len(good),
        "accepted_repair_rate": sum(r["repair_calls"] > 0 for r in good) / len(good),
        "accepted_with_notes": sum(bool(r["notes"]) for r in good),
        "garbage_runs": len(bad),
        "garbage_repair_rate": sum(r["repair_calls"] > 0 for r in bad) / len(bad),
        "garbage_missed": sum(r["repair_calls"] == 0 and r["passed"] for r in bad),
        "garbage_passed_after_repair": sum(r["passed"] for r in bad) / len(bad),
    }
    print(f"accepted: {summary['accepted_repair_rate']:.0%} of {len(good)} runs made a repair call "
          f"({summary['accepted_with_notes']} carry a note)")
    print(f"garbage:  {summary['garbage_repair_rate']:.0%} of {len(bad)} runs made a repair call, "
          f"{summary['garbage_missed']} missed, {summary['garbage_passed_after_repair']:.0%} passed after it")
    write_result("repair_rate", {"summary": summary, "runs": rows})


if __name__ == "__main__":
    run_main(main)
