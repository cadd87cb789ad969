"""Trigger → rule-based digest in the thread: how long a user waits for the first useful reply.

Run: .venv/bin/python bench/bench_digest.py   → bench/results/digest.json
The real bot on loopback (Slack emulator, fake LLM, no narration). For a 200- and a 10,000-message thread (a
repeating alert bot, latency bot, chatter and deploys, from bench/gen_incident.py), time from the reaction event
to the chat.postMessage carrying "What the thread shows (rule-based)". The issue's goal: within 2 s for 200 messages.
The collection of the thread (conversations.replies pages, users.info) is part of the figure, as it is for a user.
A third thread of 200 messages has a 12-line transcript pasted in every 10th message (each read as timed rows).
In-process, without Slack: a 100 KB and a 200 KB postmortem (sections, a long timeline table and bullets, quoted
logs, action items) from text to rendered digest, as `analyze postmortem.md` does it; goal ≤ 1 s for 100 KB.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from gen_incident import chat_thread, pasted_thread, postmortem_document

from harness import BenchStack, median, run_main, running_stack, write_result

from bot.core.digest import build_digest, render_markdown
from bot.core.incident.load import incident_from_text
from bot.core.incident.model import Incident

REPEATS = 3
THREADS = {"200": lambda: chat_thread(200), "200 with pasted transcripts": lambda: pasted_thread(200),
           "10000": lambda: chat_thread(10_000)}
DOCUMENT_KB = (100, 200)


def thread_of(stack: BenchStack, incident: Incident) -> str:
    root = stack.slack.post(stack.channel, stack.users[0], incident.messages[0].text)
    for i, m in enumerate(incident.messages[1:]):
        stack.slack.post(stack.channel, stack.users[i % len(stack.users)], m.text, thread_ts=root)
    return root


def digest_time(stack: BenchStack, root: str) -> float | None:
    return next((c.time for c in stack.slack.calls if c.method == "chat.postMessage" and c.args.get("thread_ts") == root
                 and "(rule-based)" in str(c.args.get("blocks") or "")), None)


def document_times() -> dict[str, Any]:
    """Text → rendered digest for postmortems of DOCUMENT_KB kilobytes (CPU only: no Slack, no model)."""
    build_digest(incident_from_text("09:00 Anna: warm-up\n09:01 Ben: ok"))  # rules and date parser loaded once
    out: dict[str, Any] = {}
    for kb in DOCUMENT_KB:
        text = postmortem_document(kb * 1000)
        runs = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            render_markdown(build_digest(incident_from_text(text)))
            runs.append(round(time.perf_counter() - t0, 3))
        out[f"{kb} KB"] = {"median_s": median(runs), "runs_s": runs}
        print(f"{kb} KB postmortem: text → digest, median {median(runs):.2f} s ({runs})")
    return out


async def trigger_to_digest(stack: BenchStack, make: Callable[[], Incident], repeats: int = REPEATS) -> list[float]:
    """``repeats`` times: a fresh thread from ``make``, a reaction, and the seconds until the digest is in the thread."""
    runs = []
    for _ in range(repeats):
        root = thread_of(stack, make())
        t0 = time.monotonic()
        stack.slack.reaction_added(stack.users[1], stack.channel, root, "test_tube")
        await stack.slack.wait_for(lambda s, r=root: digest_time(stack, r) is not None, timeout=120)
        posted = digest_time(stack, root)
        assert posted is not None
        runs.append(round(posted - t0, 3))
        await stack.wait_finished([root], timeout=300)
    return runs


async def main() -> None:
    result: dict[str, Any] = {"repeats": REPEATS, "goal_200_messages_s": 2.0, "goal_100_kb_document_s": 1.0, "sizes": {},
                              "documents": document_times()}
    async with running_stack(users=3, postmortem_max_messages=20_000) as stack:
        for size, make in THREADS.items():
            runs = await trigger_to_digest(stack, make)
            result["sizes"][str(size)] = {"median_s": median(runs), "runs_s": runs}
            print(f"{size} messages: trigger → digest in the thread, median {median(runs):.2f} s ({runs})")
    print(f"wrote {write_result('digest', result)}")


if __name__ == "__main__":
    run_main(main)
