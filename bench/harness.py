"""Shared helpers for the end-to-end benchmarks: the real BotApp over Socket Mode against the project's fakes
(Slack emulator, fake LLM, fake edge-tts), all on 127.0.0.1, plus probes, statistics and result files.

The stack comes from tests/fakes/bot_stack.py, shared with the end-to-end tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # scripts run as `python bench/bench_x.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bot.core.pipeline import PostmortemResult  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.slack.app import BotApp  # noqa: E402
from tests.fakes.bot_stack import bot_on_loopback  # noqa: E402
from tests.fakes.fake_edge_tts import FakeEdgeTTS  # noqa: E402
from tests.fakes.fake_llm import FakeLLM, gate_passing_report  # noqa: E402
from tests.fakes.slack_emulator import SlackEmulator  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_DATE = "2026-11-22"
DONE, FAILED = "white_check_mark", "x"
# Each benchmark thread's root carries this tag so the LLM request can be traced back to its thread.
MARK_RE = re.compile(r"\[bench-(\d+)\]")


# ---- probes -------------------------------------------------------------------------------------------

@dataclass
class ChatSpan:
    start: float  # monotonic: the chat request reached the fake (body read)
    end: float | None = None  # monotonic: the stream's last byte was written
    mark: int | None = None  # the [bench-N] tag found in the prompt, if any


@dataclass
class LLMProbe:
    """Wraps the fake's chat handler: arrival/end of every chat request and the peak number in flight."""

    spans: list[ChatSpan] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def install(self, llm: FakeLLM) -> None:
        # Must run before llm.__aenter__, which binds self._chat into the router.
        inner = llm._chat

        async def chat(request: Any) -> Any:
            body = llm.requests[-1].json  # the recording middleware appended it just before calling us
            found = MARK_RE.search(json.dumps(body)) if body else None
            span = ChatSpan(time.monotonic(), mark=int(found.group(1)) if found else None)
            self.spans.append(span)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await inner(request)
            finally:
                self.in_flight -= 1
                span.end = time.monotonic()

        llm._chat = chat  # type: ignore[method-assign]


@dataclass
class BenchStack:
    slack: SlackEmulator
    llm: FakeLLM
    edge: FakeEdgeTTS
    bot: BotApp
    settings: Settings
    probe: LLMProbe
    users: list[str]
    channel: str
    results: list[PostmortemResult] = field(default_factory=list)  # every pipeline result, in finish order
    run_starts: list[float] = field(default_factory=list)  # monotonic: each Pipeline.run() call

    def done(self, root: str) -> bool:
        return DONE in self.slack.reactions_on(self.channel, root)

    def finished(self, root: str) -> bool:
        reactions = self.slack.reactions_on(self.channel, root)
        return DONE in reactions or FAILED in reactions

    async def wait_finished(self, roots: Sequence[str], timeout: float) -> None:
        pending = set(roots)

        def check(_: SlackEmulator) -> bool:
            pending.difference_update([r for r in pending if self.finished(r)])
            return not pending

        await self.slack.wait_for(check, timeout=timeout)

    def done_time(self, root: str) -> float | None:
        """Arrival of the reactions.add that put ✅ on the root."""
        return next((c.time for c in self.slack.calls
                     if c.method == "reactions.add" and c.args.get("name") == DONE and c.args.get("timestamp") == root), None)


def section_posts(stack: BenchStack, root: str) -> list[tuple[str, float]]:
    """(section title, arrival time) of each chat.postMessage carrying a markdown section block."""
    out = []
    for c in stack.slack.calls:
        if c.method != "chat.postMessage" or c.args.get("thread_ts") != root:
            continue
        blocks = c.args.get("blocks") or []
        if isinstance(blocks, str):  # form-encoded calls send blocks as a JSON string
            blocks = json.loads(blocks)
        for b in blocks:
            if b.get("type") == "markdown" and b.get("text", "").startswith("## ") and "(rule-based)" not in b["text"].splitlines()[0]:
                out.append((b["text"].splitlines()[0][3:], c.time))
    return out


@asynccontextmanager
async def running_stack(default_reply: Any = None, users: int = 2, **overrides: object) -> AsyncIterator[BenchStack]:
    """The full bot on loopback. ``default_reply`` is the fake LLM's answer to every chat request."""
    probe = LLMProbe()
    llm = FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192, default=default_reply)
    probe.install(llm)
    settings = {"llm_timeout_s": 60, "tts_engine": "none", "tts_timeout_s": 30, **overrides}
    with tempfile.TemporaryDirectory(prefix="bench-data-") as data_dir:  # a fresh run store: nothing to resume
        async with bot_on_loopback(Path(data_dir), llm, **settings) as loop:
            names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
            ids = [loop.slack.add_user(f"{names[i % len(names)]}{i // len(names) or ''}", display_name=f"User {i}")
                   for i in range(users)]
            channel = loop.slack.add_channel("inc-bench", members=ids)
            stack = BenchStack(loop.slack, loop.llm, loop.edge, loop.bot, loop.settings, probe, ids, channel)
            _record_results(stack)
            yield stack


def _record_results(stack: BenchStack) -> None:
    """Keep each PostmortemResult (its info.timings) by wrapping the pipeline instance's run()."""
    pipeline = stack.bot.pipeline
    inner = pipeline.run

    async def run(*args: Any, **kwargs: Any) -> PostmortemResult:
        stack.run_starts.append(time.monotonic())
        result = await inner(*args, **kwargs)
        stack.results.append(result)
        return result

    pipeline.run = run  # type: ignore[method-assign]


def incident_thread(stack: BenchStack, n: int, replies: int = 3) -> tuple[str, list[str]]:
    """A tagged root and ``replies`` replies from rotating users; returns (root ts, reply ts list)."""
    s, users = stack.slack, stack.users
    root = s.post(stack.channel, users[0], f"[bench-{n}] checkout-api p99 latency > 2s, error rate 18%")
    out = []
    for i in range(replies):
        who = users[(i + 1) % len(users)]
        other = users[(i + 2) % len(users)]
        out.append(s.post(stack.channel, who, f"update {i}: <@{other}> pool timeouts on pod-{i % 12}, rolling back v2.31.{i % 7}", thread_ts=root))
    return root, out


# ---- report text -------------------------------------------------------------------------------------

def _copy(body: str, n: int) -> str:
    """The n-th copy of a section body, each sentence marked with n: the quality gate holds back a section that
    repeats whole sentences (a looping model), and these copies only stand in for a longer answer."""
    return body if n == 0 else re.sub(r"(^|(?<=[.!?:])\s+|\n[-*] |\n\d+\. )", lambda m: f"{m.group(0)}({n}) ", body)


def scaled_report(target_chars: int, words_in_summary: int = 170) -> str:
    """A gate-passing report with every section body copied until the whole is ≥ target_chars (proportions kept):
    one model call a run, as for a good answer (a failing one would add the gate's repair call)."""
    base = gate_passing_report(words_in_summary)
    parts = base.strip().split("\n\n## ")
    sections = [p.removeprefix("## ").split("\n\n", 1) for p in parts]
    for k in range(1, 50):
        text = "\n\n".join(f"## {title}\n\n" + "\n\n".join(_copy(body, n) for n in range(k)) for title, body in sections) + "\n"
        if len(text) >= target_chars:
            return text
    return text


def heading_fractions(report: str) -> dict[str, float]:
    """For each section title: the fraction of the stream sent when the parser can close it
    (the end of the next heading line, or the end of the stream for the last section)."""
    starts = [m.start() for m in re.finditer(r"^## ", report, flags=re.MULTILINE)]
    titles = [report[s + 3: report.index("\n", s)] for s in starts]
    out = {}
    for i, title in enumerate(titles):
        if i + 1 < len(starts):
            out[title] = (report.index("\n", starts[i + 1]) + 1) / len(report)
        else:
            out[title] = 1.0
    return out


# ---- statistics and output -----------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); with 50 samples p99 is the maximum."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "note": "shared, noisy machine: compare medians and ratios within one run"}


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "date": BENCH_DATE, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
               "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def run_main(main: Callable[[], Awaitable[None]]) -> None:
    """Quiet logging (the bot logs every run), then run the benchmark's coroutine."""
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main())
