"""Trigger → rule-based digest with "Seen before", for a 200-message thread, memory holding 10,000 postmortems.

Run: .venv/bin/python bench/bench_seen_before.py   → bench/results/seen_before.json
The real bot on loopback (Slack emulator, fake LLM, GitHub emulator for the tickets' live states, no narration).
Memory holds the 10,000 synthetic postmortems of bench/memory_corpus.py plus three earlier incidents like this
thread, each with a GitHub ticket, so the digest shows three "Seen before" entries and reads three ticket states.
From the reaction event to the chat.postMessage carrying the digest; the same with memory off (retention 0) in the
same run, for the ratio. The issue's goal: still within 2 s for 200 messages.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bench_digest import trigger_to_digest
from gen_incident import chat_thread
from memory_corpus import entries

from harness import BenchStack, median, run_main, running_stack, write_result

from bot.core.digest import build_digest
from bot.core.memory import signals_of
from bot.memory.index import MemoryIndex
from tests.fakes.github_api import FakeGitHub

REPEATS = 3
SIZE = 200


async def fill(stack: BenchStack, gh: FakeGitHub) -> None:
    assert stack.bot.store is not None
    index = MemoryIndex(stack.bot.store)
    for entry in entries(10_000):
        await index.remember(entry)
    like = signals_of(build_digest(chat_thread(SIZE)), "chat-thread")
    for n in range(3):
        gh.issues["acme/shop"].append({"number": n + 1, "title": "t", "body": "", "state": "open", "state_reason": None,
                                       "labels": [], "html_url": f"https://github.com/acme/shop/issues/{n + 1}"})
        base = entries(1, seed=n)[0]
        await index.remember(replace(base, source=f"slack:C0001/{n}.1", signals=like, title=f"INC-{n} earlier {like.headline}",
                               private=False, tests=[{"name": "Error-rate canary", "type": "canary", "ticket_key": f"#{n + 1}",
                                                      "ticket_url": f"https://github.com/acme/shop/issues/{n + 1}"}]))


def shows_seen_before(stack: BenchStack) -> bool:
    return any("Seen before" in str(c.args.get("blocks") or "") for c in stack.slack.calls if c.method == "chat.postMessage")


async def main() -> None:
    result: dict[str, Any] = {"repeats": REPEATS, "messages": SIZE, "goal_s": 2.0}
    async with FakeGitHub(repos=["acme/shop"]) as gh:
        tickets = {"tickets": "github", "github_repo": "acme/shop", "github_token": gh.token, "github_api_url": gh.api_url}
        async with running_stack(users=3, **tickets) as stack:
            await fill(stack, gh)
            with_memory = await trigger_to_digest(stack, lambda: chat_thread(SIZE), REPEATS)
            assert shows_seen_before(stack), "the digest showed no Seen before"
        async with running_stack(users=3, memory_retention_days=0, **tickets) as stack:
            without = await trigger_to_digest(stack, lambda: chat_thread(SIZE), REPEATS)
            assert not shows_seen_before(stack)
    result["with_memory_s"] = {"median": median(with_memory), "runs": with_memory}
    result["without_memory_s"] = {"median": median(without), "runs": without}
    result["ratio"] = round(median(with_memory) / median(without), 2)
    print(f"trigger → digest, 200 messages: with Seen before (10,003 remembered) median {median(with_memory):.3f} s {with_memory}; "
          f"memory off {median(without):.3f} s {without}")
    print(f"wrote {write_result('seen_before', result)}")


if __name__ == "__main__":
    run_main(main)
