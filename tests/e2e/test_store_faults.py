"""The run store on a real PostgreSQL behind a TCP proxy of our own (tests/fakes/pg_proxy.py) that adds latency and
stalls or cuts the link, as an operator's network does: Slack's acks never wait on the database (a burst at 20 ms each
way, the Home tab over 200 runs), a stall ends in an answer, a restart is survived by the next trigger, a replica whose
link stalls while it holds the queue lock holds nobody else up, and Regenerate on PostgreSQL posts one digest per
thread. Acks are held to Slack's 3 s deadline here; how fast they are is measured in bench/bench_store_faults.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from bot.runs.postgres import QUEUE_LOCK_KEY, connection_kwargs
from bot.settings import load_settings
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_failures_slack import told
from tests.e2e.test_slack_triggers import ALL_TITLES, incident_thread, wait_done
from tests.fakes.fake_llm import gate_passing_report, text
from tests.fakes.pg_proxy import PgProxy
from tests.fakes.postgres import PostgresServer

TIMEOUT_S = 1.0  # DATABASE_STATEMENT_TIMEOUT_S: short, so a stall's answer comes quickly


@pytest.fixture
async def proxied(postgres: PostgresServer, stack_factory: Any) -> AsyncIterator[tuple[Stack, PgProxy]]:
    """The bot on PostgreSQL through the proxy, 5 ms each way."""
    async with PgProxy(postgres.port, delay_s=0.005) as proxy:
        url = proxy.url_of(postgres.new_database())
        stack = await stack_factory(tts_engine="none", database_url=url, database_statement_timeout_s=TIMEOUT_S)
        yield stack, proxy


async def test_thirty_triggers_at_once_with_20_ms_each_way_are_all_acked_and_recorded(postgres: PostgresServer,
                                                                                        stack_factory: Any) -> None:
    async with PgProxy(postgres.port, delay_s=0.02) as proxy:
        stack = await stack_factory(tts_engine="none", database_url=proxy.url_of(postgres.new_database()))
        s = stack.slack
        threads = [incident_thread(stack) for _ in range(30)]
        fired = [s.slash_command(stack.alice, stack.channel, text=s.permalink(stack.channel, root)) if n % 2
                 else s.reaction_added(stack.bob, stack.channel, root, "test_tube") for n, (root, _) in enumerate(threads)]
        for eid in fired:
            assert (await s.wait_ack(eid, timeout=10)).latency < 3
        # Every trigger is answered: recorded and announced (👀), or, when a host so busy that the store cannot
        # answer within DATABASE_STATEMENT_TIMEOUT_S, refused with that reason. None is dropped.
        def refused() -> int:
            return sum("cannot record runs" in m["text"] for m in [*s.ephemerals, *s.responses])

        def recorded() -> int:
            return sum(bool({"eyes", "white_check_mark"} & s.reactions_on(stack.channel, root)) for root, _ in threads)

        def told() -> int:  # each command's invoker hears back through its response_url, after the 👀 or not
            return sum("On it" in r["text"] or "cannot record runs" in r["text"] for r in s.responses)

        await s.wait_for(lambda _: recorded() + refused() == 30 and told() == 15, timeout=30)
        assert len(await stack.bot.store.recent(50)) == recorded()  # type: ignore[union-attr]


async def test_the_home_tab_over_200_runs_does_not_hold_up_a_trigger(postgres: PostgresServer, stack_factory: Any) -> None:
    url = postgres.new_database()
    async with PgProxy(postgres.port, delay_s=0.02) as proxy:
        stack = await stack_factory(tts_engine="none", database_url=proxy.url_of(url))
        with psycopg.connect(url, autocommit=True) as db:  # 200 finished runs, written straight to the database
            db.execute("INSERT INTO runs (created_at, updated_at, trigger, channel, thread_ts, thread_key, invoker, status)"
                       " SELECT n, n, 'reaction', %s, n || '.0', n || '.0', %s, 'done' FROM generate_series(1, 200) AS n",
                       (stack.channel, stack.alice))
        published = len(stack.slack.calls_to("views.publish"))
        stack.slack.app_home_opened(stack.alice)
        root, _ = incident_thread(stack)
        eid = stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
        assert (await stack.slack.wait_ack(eid)).latency < 3
        await stack.slack.wait_for(lambda s: len(s.calls_to("views.publish")) > published, timeout=30)
        runs = [b for b in stack.slack.workspace.home_views[stack.alice]["blocks"] if b.get("block_id", "").startswith("runs.")]
        assert len(runs) == 20
        await wait_done(stack, root)


async def test_a_stall_mid_run_never_delays_an_ack_and_every_trigger_is_answered(proxied: tuple[Stack, PgProxy]) -> None:
    stack, proxy = proxied
    s = stack.slack
    root, _ = incident_thread(stack)
    other, _ = incident_thread(stack)
    gate = asyncio.Event()
    stack.llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"))
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await stack.llm.at_gate.wait()
    proxy.stall()  # the database stops answering (a failover), connections stay open
    command = s.slash_command(stack.bob, stack.channel, text=s.permalink(stack.channel, other))
    reaction = s.reaction_added(stack.alice, stack.channel, other, "test_tube")
    for eid in (command, reaction):
        assert (await s.wait_ack(eid)).latency < 3  # acked though the store cannot answer
    await proxy.held.wait()  # the triggers are waiting on the database now
    # Neither is dropped: each invoker hears why nothing started, within the store's timeout.
    assert "cannot record runs right now" in await told(stack, stack.bob, "cannot record runs")
    assert "no answer within" in await told(stack, stack.alice, "cannot record runs")
    proxy.resume()
    gate.set()
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES  # the run that was mid-way when it stalled still finished
    s.reaction_added(stack.bob, stack.channel, other, "test_tube")  # and a trigger after the stall works
    await wait_done(stack, other)
    assert stack.sections_in(other) == ALL_TITLES


async def test_the_first_trigger_after_a_database_restart_works(proxied: tuple[Stack, PgProxy]) -> None:
    stack, proxy = proxied
    first, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, first, "test_tube")
    await wait_done(stack, first)
    proxy.cut()  # every pooled connection dies, as in a restart; new ones are refused while it is down
    proxy.restore()
    root, _ = incident_thread(stack)
    stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert stack.sections_in(root) == ALL_TITLES
    assert not [e for e in stack.slack.ephemerals if "cannot record" in e["text"]]


async def test_a_replica_stalled_while_holding_the_queue_lock_holds_nobody_up(postgres: PostgresServer, stack_factory: Any) -> None:
    """Another replica's session takes the queue lock, then its link stalls. This replica acks at once, records the
    trigger, and runs it once the server ends the stalled session (idle in a transaction past the timeout)."""
    url = postgres.new_database()
    stack = await stack_factory(tts_engine="none", database_url=url, database_statement_timeout_s=TIMEOUT_S)
    settings = load_settings(database_url=url, database_statement_timeout_s=TIMEOUT_S)
    async with PgProxy(postgres.port) as link:
        stalled = await psycopg.AsyncConnection.connect(link.url_of(url), **{**connection_kwargs(settings), "autocommit": False})
        await stalled.execute(f"SELECT pg_advisory_xact_lock({QUEUE_LOCK_KEY})")
        holder = stalled.info.backend_pid
        link.stall()
        root, _ = incident_thread(stack)
        eid = stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
        assert (await stack.slack.wait_ack(eid)).latency < 3
        await wait_done(stack, root)
        assert stack.sections_in(root) == ALL_TITLES
        with psycopg.connect(url, autocommit=True) as db:  # the server ended the stalled session, and its lock with it
            assert db.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = %s", (holder,)).fetchone() == (0,)
        await stalled.close()


async def test_regenerate_on_postgresql_posts_one_digest_per_thread(postgres: PostgresServer, stack_factory: Any) -> None:
    stack = await stack_factory(tts_engine="none", database_url=postgres.new_database())
    s = stack.slack
    root, _ = incident_thread(stack)
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    await s.wait_ack(s.slash_command(stack.bob, stack.channel, text=f"{s.permalink(stack.channel, root)} again"))
    await s.wait_for(lambda _: stack.sections_in(root) == ALL_TITLES * 2
                     and sum("Postmortem done" in m.get("text", "") for m in s.thread(stack.channel, root)) == 2, timeout=30)
    assert sum(t.startswith(DIGEST_TITLE) for t in stack.replies_in(root)) == 1
