"""Three real bot processes (`python -m bot`) share one real PostgreSQL and a pool of two LLM servers; the Slack
emulator spreads Socket Mode envelopes over their connections in turn. 50 triggers make 50 postmortems, none twice and none lost; one replica is
SIGKILLed while the model streams one of its runs and another replica finishes that run with each section once;
an envelope Slack delivers again lands on another replica and starts nothing; a second person's trigger for a thread
that another replica is running is refused as busy."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import psycopg

from tests.e2e.conftest import DIGEST_TITLE
from tests.e2e.test_restart import ALL_TITLES, section_titles
from tests.fakes.bot_process import BotProcess
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text
from tests.fakes.postgres import PostgresServer
from tests.fakes.slack_emulator import SlackEmulator

REPLICAS = 3
TRIGGERS = 50
LEASE_S = 3  # short, so the takeover after the kill is quick; long enough that a busy 2-core CI never loses one


def runs_in(db: psycopg.Connection[dict[str, object]]) -> list[dict[str, object]]:
    return db.execute("SELECT id, thread_ts, status, owner, attempts FROM runs ORDER BY id").fetchall()


def digests_in(slack: SlackEmulator, channel: str, root: str) -> int:
    return sum(1 for m in slack.thread(channel, root) for b in m.get("blocks", []) or []
               if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))


async def test_three_replicas_share_the_work_survive_a_kill_and_never_post_twice(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    # The test's own connection: the waits below read the runs table on every change in the emulator.
    db = psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row)
    fast = text(gate_passing_report(), chunk_chars=200)
    async with SlackEmulator(round_robin=True) as slack, FakeLLM(default=fast) as llm, FakeLLM(default=fast) as llm2:
        alice, bob = slack.add_user("alice"), slack.add_user("bob")
        channel = slack.add_channel("inc-fleet", members=[alice, bob])
        roots = []
        for n in range(TRIGGERS):
            roots.append(slack.post(channel, alice, f"incident-{n:02d}: checkout 500s after deploy"))
            slack.post(channel, alice, f"incident-{n:02d}: rolled back", thread_ts=roots[-1])
        gate = asyncio.Event()  # never set: the replica streaming this answer is killed (each replica asks llm first)
        llm.script(text(gate_passing_report(), chunk_chars=200, gate=gate, gate_at="## Root Cause"))
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token, "SLACK_APP_TOKEN": slack.app_token, "SLACK_API_URL": slack.api_url,
            "LLM_BASE_URL": f"{llm.base_url},{llm2.base_url}", "LLM_MODEL": "llama3.1:8b", "TTS_ENGINE": "none",
            "LLM_TIMEOUT_S": "30", "LLM_CONCURRENCY": "2", "DATABASE_URL": url, "RUN_LEASE_S": str(LEASE_S),
        }
        bots = [BotProcess({**env, "DATA_DIR": str(tmp_path / f"data{i}")}, tmp_path / f"bot{i}.log") for i in range(REPLICAS)]
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            await slack.wait_connected(REPLICAS, timeout=60)

            envelopes = []
            for n, root in enumerate(roots):
                if n % 3 == 0:
                    envelopes.append(slack.reaction_added(alice, channel, root, "test_tube"))
                elif n % 3 == 1:
                    envelopes.append(slack.app_mention(alice, channel, "<@bot> postmortem please", thread_ts=root))
                else:
                    envelopes.append(slack.message_shortcut(alice, channel, root, "testing_postmortem"))
            first = await slack.wait_ack(envelopes[0], timeout=30)
            slack.redeliver(envelopes[0])  # Slack retries; round robin hands it to the next replica
            retried = await slack.wait_for(lambda s: next((a for a in s.acks if a.envelope_id == envelopes[0] and a.retry_attempt), None))
            # Bob asks for thread 1 too; his mention reaches another replica than Alice's trigger did. Only once
            # Alice's trigger is recorded: under load her envelope may still be on its way, and Bob's would win the thread.
            await slack.wait_for(lambda s: any(r["thread_ts"] == roots[1] for r in runs_in(db)), timeout=60)
            second_ask = await slack.wait_ack(slack.app_mention(bob, channel, "<@bot> postmortem", thread_ts=roots[1]), timeout=30)
            refused = await slack.wait_for(lambda s: next((e["text"] for e in s.ephemerals if e.get("user") == bob), None), timeout=30)

            # Every trigger is recorded before the kill: an envelope a replica acked and then died on is Slack's loss, not ours.
            await slack.wait_for(lambda s: len(runs_in(db)) == TRIGGERS, timeout=60)
            await asyncio.wait_for(llm.at_gate.wait(), 60)
            gated = json.dumps(llm.chat_requests[0])
            victim_thread = next(r for n, r in enumerate(roots) if f"incident-{n:02d}:" in gated)
            victim_run = next(r for r in runs_in(db) if r["thread_ts"] == victim_thread)
            pid = int(str(victim_run["owner"]).split(":")[1])
            victim = next(b for b in bots if b.proc is not None and b.proc.pid == pid)
            await victim.kill()
            await slack.wait_for(lambda s: all("white_check_mark" in s.reactions_on(channel, r) for r in roots), timeout=90)
        finally:
            await asyncio.gather(*(bot.stop() for bot in bots))

        runs = runs_in(db)
        db.close()
        assert len(runs) == TRIGGERS and {r["status"] for r in runs} == {"done"}  # none lost
        assert Counter(r["thread_ts"] for r in runs) == Counter(roots)  # one run per thread
        for root in roots:  # none posted twice
            assert Counter(section_titles(slack, channel, root)) == Counter(ALL_TITLES), root
            assert digests_in(slack, channel, root) == 1, root
            closing = [m for m in slack.thread(channel, root) if "Postmortem done" in m.get("text", "")]
            assert len(closing) == 1, root
        reports = Counter(f["thread_ts"] for f in slack.uploaded_files if f["name"] == "postmortem-report.md")
        assert reports == Counter(roots)
        assert next(r["attempts"] for r in runs if r["thread_ts"] == victim_thread) == 2  # taken over once
        assert retried.connection != first.connection  # the redelivery reached another replica, which ignored it
        assert second_ask.connection != next(a.connection for a in slack.acks if a.envelope_id == envelopes[1])
        assert "already queued or running" in refused or "already has a testing postmortem" in refused  # still one run
        assert {a.connection for a in slack.acks} == set(range(1, REPLICAS + 1))  # every replica took triggers
        # One answer per run, plus one per run the killed replica was streaming (taken over, asked again): never more.
        retries = sum(int(str(r["attempts"])) - 1 for r in runs)
        assert TRIGGERS + 1 <= len(llm.chat_requests) + len(llm2.chat_requests) <= TRIGGERS + retries
        assert min(len(llm.chat_requests), len(llm2.chat_requests)) >= 5  # both servers of the pool did work
        in_thread = {m["ts"] for m in slack.thread(channel, victim_thread)}
        statuses = [c.args.get("text", "") for c in slack.calls_to("chat.update") if c.args.get("ts") in in_thread]
        assert any("Resuming" in t for t in statuses)  # the taker said so in the victim's thread
