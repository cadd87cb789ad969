"""First visible text: streaming each section as it is typed (chat.startStream) vs posting each section whole.

Run: .venv/bin/python bench/bench_first_text.py   → bench/results/first_text.json
Metric: (the first Slack call putting section text in the thread arrives − the chat request arrives at the LLM)
        / (stream's last byte − chat request arrives), for both modes in one run (the machine is noisy: the
        ratio between modes is what to compare). Also the Slack calls each mode makes per run.

The same ~1,500-token gate-passing report as bench_first_section.py, at 150 tokens/s (5× a local model; the ratio
does not depend on the speed, and a faster stream is the harsher case for the bot's fixed costs).
"""

from __future__ import annotations

import time
from typing import Any

from harness import heading_fractions, incident_thread, median, run_main, running_stack, scaled_report, section_posts, write_result

from bot.core.answer.model import Answer
from bot.core.answer.preview import Previewer, Show, Verdict
from bot.core.answer.stream import AnswerStream
from bot.core.events import ignore
from bot.core.run import RunFacts
from bot.core.sections import SectionId
from bot.core.sections.parse import StreamingSectionParser
from tests.fakes.fake_llm import text

TARGET_CHARS = 6_000
TOKENS_PER_S = 150.0
REPEATS = 3
STREAM_CALLS = ("chat.startStream", "chat.appendStream", "chat.stopStream", "chat.update", "chat.delete", "chat.postMessage")


def preview_floor(report: str) -> float:
    """Share of the stream sent when the first section's preview can first show text: its first unit is complete
    and the next one too (the preview's own rule; a stub of under six words waits, as the gate's check does)."""
    start = report.index("\n", report.index("## ")) + 1
    preview = Previewer(SectionId.TIMELINE, lambda sid, t: Verdict.CLEAN if len(t.split()) >= 6 else Verdict.STUB,
                             lambda line: line)
    for end in range(start + 1, len(report) + 1):
        if isinstance(preview.advance(report[start:end]), Show):
            return end / len(report)
    return 1.0


def preview_cpu_s(report: str, prompt: str) -> float:
    """CPU time of the previews over the whole report typed in 4-character chunks (one per token): each section
    previewed with the gate's real checks against a prompt, as AnswerStream does."""
    stream = AnswerStream(ignore, RunFacts("bench", "bench"), Answer(prompt_text=prompt, incident_text=prompt), None,
                          lambda speech: None, lambda delta: None)  # type: ignore[arg-type,return-value]
    parser, previews = StreamingSectionParser(), 0.0
    for end in range(4, len(report) + 4, 4):
        parser.feed(report[end - 4:end])
        current, so_far = parser.open_section
        if current is None:
            continue
        if stream.preview is None or stream.preview.id is not current:
            stream.preview = Previewer(current, stream.verdict, lambda line: line)
        started = time.process_time()
        stream.preview.advance(so_far)
        previews += time.process_time() - started
    return previews


def first_text(stack: Any, root: str) -> float:
    """When the first section text reached the thread: the first stream started with text, or the first post."""
    started = [c.time for c in stack.slack.calls
               if c.method == "chat.startStream" and c.args.get("thread_ts") == root and c.response.get("ok")]
    posts = section_posts(stack, root)
    return min([*started, *(t for _, t in posts[:1])])


async def measure(report: str, streaming: bool) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    async with running_stack(default_reply=text(report, tokens_per_s=TOKENS_PER_S), users=3,
                             slack_stream_sections=streaming) as stack:
        for n in range(REPEATS):
            root, _ = incident_thread(stack, n)
            before_spans, before_calls = len(stack.probe.spans), len(stack.slack.calls)
            stack.slack.reaction_added(stack.users[1], stack.channel, root, "test_tube")
            await stack.wait_finished([root], timeout=120)
            span = stack.probe.spans[before_spans]  # the streamed answer (a test-plan JSON call may follow)
            assert span.end is not None and stack.done(root), "run failed"
            stream_s = span.end - span.start
            calls = [c.method for c in stack.slack.calls[before_calls:] if c.method in STREAM_CALLS]
            runs.append({
                "stream_s": round(stream_s, 3),
                "first_text_s": round(first_text(stack, root) - span.start, 3),
                "ratio": round((first_text(stack, root) - span.start) / stream_s, 4),
                "calls": {m: calls.count(m) for m in STREAM_CALLS},
            })
    return {"median_ratio": median([r["ratio"] for r in runs]),
            "median_first_text_s": median([r["first_text_s"] for r in runs]),
            "median_stream_s": median([r["stream_s"] for r in runs]), "runs": runs}


async def main() -> None:
    report = scaled_report(TARGET_CHARS)
    per_section = await measure(report, streaming=False)
    streaming = await measure(report, streaming=True)
    prompt = "\n".join(f"[m{i}] 10:{i % 60:02d} alice: checkout-api p99 latency {i} ms, pool wait {i * 3} ms" for i in range(200))
    cpu = preview_cpu_s(report, prompt)
    stream_at_30 = len(report) / 4 / 30
    floors = {"streaming": round(preview_floor(report), 4), "per_section": round(next(iter(heading_fractions(report).values())), 4)}
    result = {
        "report_chars": len(report), "tokens_per_s": TOKENS_PER_S, "repeats": REPEATS,
        "per_section": per_section, "streaming": streaming, "floors": floors,
        "streaming_over_per_section": round(streaming["median_ratio"] / per_section["median_ratio"], 3),
        "preview_cpu_s": round(cpu, 3), "preview_cpu_share_at_30_tokens_per_s": round(cpu / stream_at_30, 4),
    }
    path = write_result("first_text", result)
    for mode in ("per_section", "streaming"):
        r = result[mode]
        print(f"{mode:12s}: first text {r['median_first_text_s']:.2f} s into a {r['median_stream_s']:.2f} s stream, "
              f"ratio {r['median_ratio']:.3f} (floor {floors[mode]:.3f}); calls/run {r['runs'][0]['calls']}")
    print(f"preview CPU over the whole report: {cpu:.3f} s = {100 * cpu / stream_at_30:.2f} % of a 30 tokens/s stream")
    print(f"streaming / per-section = {result['streaming_over_per_section']}; wrote {path}")


if __name__ == "__main__":
    run_main(main)
