"""Acks while the run store is slow, stalled or locked (issue 19): the real bot, the Slack emulator, a real PostgreSQL
behind the latency/stall proxy of tests/fakes/pg_proxy.py; the same burst on the embedded SQLite for comparison.

Run: .venv/bin/python bench/bench_store_faults.py   → bench/results/store_faults.json
1. Burst: 30 triggers at once (10 slash commands with a thread link, 10 reactions, 10 message shortcuts) with 0, 20
   and 50 ms added each way to PostgreSQL, and on SQLite: ack p50/p99/max, and the time until every thread shows 👀
   (the run recorded and announced). Goal: ack p99 ≤ 100 ms at 20 ms.
2. Stall: PostgreSQL stops answering for 10 s, then 30 s (connections stay open, as in a failover); a trigger every
   second meanwhile. Goal: every ack ≤ 1 s; every trigger answered (refused with the reason, within
   DATABASE_STATEMENT_TIMEOUT_S) and a trigger after the stall runs.
3. Lock: another replica's session takes the queue lock and its link stalls; 10 triggers on the healthy replica, one
   at a time. Goal: acks ≤ 100 ms, and the runs start once the server ends the stalled session.
The model never answers (a gate that stays shut): the figures are about the store, not the LLM.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from harness import median, ms, percentile, run_main, running_stack, write_result

from bot.runs.postgres import QUEUE_LOCK_KEY, connection_kwargs
from bot.settings import load_settings
from tests.fakes.fake_llm import gate_passing_report, text
from tests.fakes.pg_proxy import PgProxy
from tests.fakes.postgres import PostgresServer

BURST = 30
DELAYS_MS = (0, 20, 50)
STALLS_S = (10, 30)
GOAL_BURST_P99_MS = 100.0
GOAL_STALL_MAX_MS = 1000.0
GOAL_LOCK_MAX_MS = 100.0


def never() -> Any:
    return text(gate_passing_report(), gate=asyncio.Event(), gate_at="## Root Cause")


def thread(stack: Any, n: int) -> tuple[str, str]:
    s = stack.slack
    root = s.post(stack.channel, stack.users[0], f"[bench-{n}] checkout-api 5xx after deploy")
    return root, s.post(stack.channel, stack.users[1], "pool timeouts, rolling back", thread_ts=root)


def fire(stack: Any, n: int, root: str, reply: str) -> str:
    s, user = stack.slack, stack.users[n % len(stack.users)]
    if n % 3 == 0:
        return str(s.slash_command(user, stack.channel, text=s.permalink(stack.channel, reply, thread_ts=root)))
    if n % 3 == 1:
        return str(s.reaction_added(user, stack.channel, reply, "test_tube"))
    return str(s.message_shortcut(user, stack.channel, reply, "testing_postmortem"))


def announced(stack: Any, roots: list[str]) -> bool:
    return all("eyes" in stack.slack.reactions_on(stack.channel, r) for r in roots)


def stats(latencies: list[float]) -> dict[str, float]:
    return {"p50": ms(percentile(latencies, 50)), "p99": ms(percentile(latencies, 99)), "max": ms(max(latencies)), "n": len(latencies)}


async def burst(**settings: Any) -> dict[str, Any]:
    async with running_stack(default_reply=never(), users=4, llm_concurrency=2, **settings) as stack:
        threads = [thread(stack, n) for n in range(BURST)]
        started = time.monotonic()
        fired = [fire(stack, n, root, reply) for n, (root, reply) in enumerate(threads)]
        acks = [await stack.slack.wait_ack(eid, timeout=30) for eid in fired]
        await stack.slack.wait_for(lambda _: announced(stack, [r for r, _ in threads]), timeout=120)
        return {"ack_ms": stats([a.latency for a in acks]), "all_announced_s": round(time.monotonic() - started, 2)}


async def stall(pg: PostgresServer, seconds: int) -> dict[str, Any]:
    async with PgProxy(pg.port) as proxy, running_stack(default_reply=never(), users=4, database_url=proxy.url_of(pg.new_database())) as stack:
        proxy.stall()
        began = time.monotonic()
        acks, roots = [], []
        while time.monotonic() - began < seconds:
            root, reply = thread(stack, len(roots))
            roots.append(root)
            acks.append(await stack.slack.wait_ack(fire(stack, len(roots) - 1, root, reply), timeout=30))
            await asyncio.sleep(1.0)  # the benchmark's trigger rate: one a second, for the length of the stall
        proxy.resume()

        # Every trigger is answered: refused with the reason (its store call outlived the timeout) or, when the
        # database came back within the timeout, recorded late and announced (👀).
        def refusals() -> int:
            return sum("cannot record runs" in m["text"] for m in [*stack.slack.ephemerals, *stack.slack.responses])

        def late() -> int:
            return sum(announced(stack, [r]) for r in roots)

        await stack.slack.wait_for(lambda _: refusals() + late() >= len(roots), timeout=60)
        root, reply = thread(stack, 999)
        after = time.monotonic()
        stack.slack.reaction_added(stack.users[0], stack.channel, root, "test_tube")
        await stack.slack.wait_for(lambda _: announced(stack, [root]), timeout=60)
        return {"stall_s": seconds, "ack_ms": stats([a.latency for a in acks]), "triggers": len(roots),
                "refused_with_reason": refusals(), "recorded_late": late(),
                "next_trigger_announced_s": round(time.monotonic() - after, 3)}


async def lock_held(pg: PostgresServer) -> dict[str, Any]:
    url = pg.new_database()
    async with running_stack(default_reply=never(), users=4, database_url=url, llm_concurrency=16) as stack, PgProxy(pg.port) as link:
        kwargs = {**connection_kwargs(load_settings()), "autocommit": False}
        holder = await psycopg.AsyncConnection.connect(link.url_of(url), **kwargs)
        await holder.execute(f"SELECT pg_advisory_xact_lock({QUEUE_LOCK_KEY})")
        link.stall()
        held_at = time.monotonic()
        acks, roots = [], []
        for n in range(10):
            root, reply = thread(stack, n)
            roots.append(root)
            acks.append(await stack.slack.wait_ack(stack.slack.reaction_added(stack.users[0], stack.channel, reply, "test_tube")))
        # Every run reached the model (the warm-up request at start-up carries no [bench-N] mark).
        await stack.slack.wait_for(lambda _: sum(s.mark is not None for s in stack.probe.spans) >= 10, timeout=60)
        started_after = min(s.start for s in stack.probe.spans if s.mark is not None) - held_at
        await holder.close()
        return {"ack_ms": stats([a.latency for a in acks]), "first_run_started_after_lock_s": round(started_after, 2)}


async def main() -> None:
    result: dict[str, Any] = {"burst": {}, "stall": [], "lock": None}
    with PostgresServer() as pg:
        result["burst"]["sqlite"] = await burst()
        for delay in DELAYS_MS:
            async with PgProxy(pg.port, delay_s=delay / 1000) as proxy:
                result["burst"][f"postgres_{delay}ms"] = await burst(database_url=proxy.url_of(pg.new_database()))
        for seconds in STALLS_S:
            result["stall"].append(await stall(pg, seconds))
        result["lock"] = await lock_held(pg)
    p99_20 = result["burst"]["postgres_20ms"]["ack_ms"]["p99"]
    stall_max = max(s["ack_ms"]["max"] for s in result["stall"])
    result["goals"] = {
        "burst_p99_at_20ms": {"figure": p99_20, "goal": GOAL_BURST_P99_MS, "met": p99_20 <= GOAL_BURST_P99_MS},
        "stall_max_ack": {"figure": stall_max, "goal": GOAL_STALL_MAX_MS, "met": stall_max <= GOAL_STALL_MAX_MS},
        "lock_max_ack": {"figure": result["lock"]["ack_ms"]["max"], "goal": GOAL_LOCK_MAX_MS,
                         "met": result["lock"]["ack_ms"]["max"] <= GOAL_LOCK_MAX_MS},
    }
    path = write_result("store_faults", result)
    for name, b in result["burst"].items():
        print(f"burst {name}: ack p50 {b['ack_ms']['p50']} ms, p99 {b['ack_ms']['p99']} ms, max {b['ack_ms']['max']} ms; "
              f"all {BURST} announced after {b['all_announced_s']} s")
    for s in result["stall"]:
        print(f"stall {s['stall_s']} s: {s['triggers']} triggers ({s['refused_with_reason']} refused with the reason, "
              f"{s['recorded_late']} recorded late), ack p50 {s['ack_ms']['p50']} ms, max {s['ack_ms']['max']} ms; "
              f"next trigger after it announced in {s['next_trigger_announced_s']} s")
    lock = result["lock"]
    print(f"lock held by a stalled replica: ack p50 {lock['ack_ms']['p50']} ms, max {lock['ack_ms']['max']} ms; "
          f"first run started {lock['first_run_started_after_lock_s']} s after the lock was taken")
    print(f"goals: {result['goals']}; median of medians {median([b['ack_ms']['p50'] for b in result['burst'].values()])} ms; wrote {path}")


if __name__ == "__main__":
    run_main(main)
