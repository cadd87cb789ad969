"""Waiting after the last token: from the model's last token to the MP3 in the thread, with the spoken summary
narrated while it streams (now) against narrated only once it is complete (before).

Run: .venv/bin/python bench/bench_narration_stream.py   → bench/results/narration_stream.json
The real bot on loopback; the fake LLM streams a report whose last section is a 170-word summary at 30 tokens/s
(the issue's reference case). "before" swaps the pipeline's SpeechStream for one that ignores every update until
the summary is complete: exactly the old behaviour, where narration began at the summary's last token.
Engines: piper for real (CPU-bound, the case that matters) and the edge-tts fake (answers at once, so it shows
only the round-trip cost). Per repeat the two modes run back to back, so machine noise hits both alike.
"""

from __future__ import annotations

import time
from typing import Any

from harness import BenchStack, incident_thread, median, run_main, running_stack, write_result

import bot.core.pipeline as pipeline_module
from bot.core.sections import SECTION_TITLES, SectionId
from bot.core.speech.streaming import SpeechStream
from tests.fakes.fake_llm import text
from tests.fakes.sample_reports import summary_prose

REPEATS = 3
TOKENS_PER_S = 30.0
SUMMARY_WORDS = 170


class AtTheEnd(SpeechStream):
    """The old behaviour: nothing is spoken until the summary section is complete."""

    def update(self, markdown: str, *, final: bool) -> None:
        if final:
            super().update(markdown, final=True)


def report() -> str:
    # Short sections before the summary: the summary's own streaming time is what narration can overlap.
    bodies = {sid: f"{SECTION_TITLES[sid]} for the bench incident." for sid in SECTION_TITLES}
    bodies[SectionId.AUDIO_SUMMARY] = summary_prose(SUMMARY_WORDS)
    return "\n\n".join(f"## {SECTION_TITLES[sid]}\n\n{bodies[sid]}" for sid in SECTION_TITLES) + "\n"


async def one_run(stack: BenchStack, n: int, stream: type[SpeechStream]) -> dict[str, Any]:
    pipeline_module.SpeechStream = stream  # type: ignore[misc]
    root, _ = incident_thread(stack, n)
    stack.slack.reaction_added(stack.users[1], stack.channel, root, "test_tube")
    await stack.wait_finished([root], timeout=180)
    assert stack.done(root), "run failed"
    last_token = stack.probe.spans[-1].end
    mp3 = next(c.time for c in stack.slack.calls
               if c.method == "files.completeUploadExternal" and c.args.get("thread_ts") == root and c.args.get("initial_comment"))
    assert last_token is not None
    info = stack.results[-1].facts
    return {"after_last_token_s": round(mp3 - last_token, 3), "narrate_s": info.timings.get("narrate"),
            "words": len((info.narrated_text or "").split())}


async def engine_rows(engine: str) -> list[dict[str, Any]]:
    rows = []
    async with running_stack(default_reply=text(report(), tokens_per_s=TOKENS_PER_S), users=3, tts_engine=engine) as stack:
        await stack.bot.pipeline.narrator.narrate("Warm up: piper loads its voice once per process.")
        for r in range(REPEATS):
            before = await one_run(stack, 2 * r, AtTheEnd)
            after = await one_run(stack, 2 * r + 1, SpeechStream)
            rows.append({"before": before, "after": after})
    pipeline_module.SpeechStream = SpeechStream  # type: ignore[misc]
    return rows


async def main() -> None:
    started = time.monotonic()
    result: dict[str, Any] = {"tokens_per_s": TOKENS_PER_S, "summary_words": SUMMARY_WORDS, "repeats": REPEATS,
                              "goal_s": 1.0, "engines": {}}
    for engine in ("piper", "edge"):
        rows = await engine_rows(engine)
        before = median([r["before"]["after_last_token_s"] for r in rows])
        after = median([r["after"]["after_last_token_s"] for r in rows])
        result["engines"][engine] = {"median_before_s": before, "median_after_s": after,
                                     "ratio_after_to_before": round(after / before, 3) if before else None, "runs": rows}
        print(f"{engine}: last token → MP3 in the thread: before {before:.2f} s, now {after:.2f} s "
              f"({after / before:.0%} of before; goal ≤ 1 s)" if before else f"{engine}: before {before} s, now {after} s")
    result["bench_wall_s"] = round(time.monotonic() - started, 1)
    print(f"wrote {write_result('narration_stream', result)}")


if __name__ == "__main__":
    run_main(main)
