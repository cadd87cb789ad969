"""Running as a service, through the real bot and the Slack emulator: /readyz follows the Socket Mode connection,
/metrics moves as runs finish, degrade and fail (read back over HTTP), and `python -m bot` with LOG_FORMAT=json
writes one JSON object a line, carrying the run's id and no secret."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from bot.slack.blocks.closing import FEEDBACK_ACTION
from tests.core.redact.secret_cases import POSITIVE
from tests.e2e.conftest import Stack, finished_short_thread
from tests.e2e.test_ai_conventions import click_and_hear, closings
from tests.e2e.test_restart import world  # noqa: F401  (the fixture: emulator, fake model, the process's env)
from tests.e2e.test_secrets import leaks
from tests.e2e.test_slack_triggers import incident_thread, wait_done
from tests.fakes.bot_process import BotProcess
from tests.fakes.fake_llm import FakeLLM, empty, gate_passing_report, text
from tests.fakes.ops_client import get_json, sample, scrape, total
from tests.fakes.slack_emulator import SlackEmulator


def port_of(stack: Stack) -> int:
    assert stack.bot.health is not None
    return stack.bot.health.port


async def test_readyz_turns_unready_when_slack_drops_the_connection_and_ready_on_reconnect(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(health_port=0, tts_engine="none")
    port = port_of(stack)
    status, body = await get_json(port, "/readyz")
    assert status == 200 and body["ready"] and body["slack"]["ok"] and body["store"]["ok"]

    await stack.slack.outage()
    await stack.slack.wait_for(lambda s: s.socket.waiting >= 1, timeout=30)  # slack_sdk is trying to reconnect
    status, body = await get_json(port, "/readyz")
    assert status == 503 and body["ready"] is False and body["slack"]["ok"] is False and body["store"]["ok"]
    assert (await get_json(port, "/healthz"))[0] == 200  # alive: a restart would not help
    assert sample(await scrape(port), "postmortem_socket_mode_connected") == 0

    stack.slack.restore_connections()
    note = stack.slack.post(stack.channel, stack.alice, "still here")
    await stack.slack.wait_ack(stack.slack.reaction_added(stack.bob, stack.channel, note, "eyes"), timeout=30)
    status, body = await get_json(port, "/readyz")
    assert status == 200 and body["ready"] is True


async def test_metrics_move_as_runs_finish_degrade_and_fail(stack_factory: Any) -> None:
    stack: Stack = await stack_factory(health_port=0, tts_engine="none")
    port, slack = port_of(stack), stack.slack
    before = await scrape(port)

    # Done, with a 429 on the way (waited out and retried) and a 👍.
    slack.fail_next("reactions.add", "ratelimited", retry_after=0)
    root = await finished_short_thread(stack)
    [closing] = closings(stack, root)
    run = await stack.bot.store.latest_for_thread(stack.channel, root)
    assert run is not None
    await click_and_hear(stack, stack.alice, closing["ts"], FEEDBACK_ACTION, f"up:{run.id}")
    done = await scrape(port)
    assert sample(done, "postmortem_runs_total", outcome="done") - sample(before, "postmortem_runs_total", outcome="done") == 1
    for stage in ("digest", "analyse", "repair"):
        grew = sample(done, "postmortem_stage_seconds_count", stage=stage) - sample(before, "postmortem_stage_seconds_count", stage=stage)
        assert grew >= 1, stage
    assert total(done, "postmortem_llm_tokens_per_second_count") > total(before, "postmortem_llm_tokens_per_second_count")
    assert sample(done, "postmortem_queue_wait_seconds_count") > sample(before, "postmortem_queue_wait_seconds_count")
    assert sample(done, "postmortem_slack_rate_limited_total", method="reactions.add") > sample(
        before, "postmortem_slack_rate_limited_total", method="reactions.add")
    assert sample(done, "postmortem_feedback_votes_total", vote="up") - sample(before, "postmortem_feedback_votes_total", vote="up") == 1

    # Degraded: the model answers with nothing, twice (the answer and the repair).
    stack.llm.script(empty(), empty())
    root, _ = incident_thread(stack)
    slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    degraded = await scrape(port)
    assert sample(degraded, "postmortem_runs_total", outcome="degraded") - sample(before, "postmortem_runs_total", outcome="degraded") == 1
    assert total(degraded, "postmortem_llm_errors_total", kind="empty_output") > total(before, "postmortem_llm_errors_total", kind="empty_output")

    # Failed: Slack refuses to read the thread.
    slack.fail_next("conversations.replies", "internal_error")
    root = slack.post(stack.channel, stack.alice, "payments down again")
    slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    failed = await scrape(port)
    assert sample(failed, "postmortem_runs_total", outcome="failed") - sample(before, "postmortem_runs_total", outcome="failed") == 1
    assert sample(failed, "postmortem_slack_api_errors_total", method="conversations.replies", error="internal_error") > sample(
        before, "postmortem_slack_api_errors_total", method="conversations.replies", error="internal_error")
    assert sample(failed, "postmortem_queue_depth") == 0 and sample(failed, "postmortem_ready") == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_bot_process_logs_json_lines_with_the_run_id_and_no_secret(
        world: tuple[SlackEmulator, FakeLLM, dict[str, str]], tmp_path: Path) -> None:  # noqa: F811
    slack, llm, env = world
    port = free_port()
    alice = slack.add_user("alice")
    channel = slack.add_channel("inc-db", members=[alice])
    root = slack.post(channel, alice, "db-primary at max connections, checkout failing")
    for case in POSITIVE:
        slack.post(channel, alice, f"found in the logs: {case.text}", thread_ts=root)
    # The model's answer quotes every secret too; the bot logs at DEBUG, where the most is written.
    llm.script(text(gate_passing_report() + "\nSeen: " + " ".join(case.text for case in POSITIVE)))
    bot = BotProcess({**env, "LOG_FORMAT": "json", "HEALTH_PORT": str(port)}, tmp_path / "bot.log")
    await bot.start()
    try:
        await slack.wait_connected(1, timeout=30)
        slack.reaction_added(alice, channel, root, "test_tube")
        await slack.wait_for(lambda s: {"white_check_mark", "warning", "x"} & s.reactions_on(channel, root), timeout=60)
        status, body = await get_json(port, "/readyz")
        assert status == 200 and body["ready"] is True
    finally:
        await bot.stop()
    written = (tmp_path / "bot.log").read_text()
    records = [json.loads(line) for line in written.splitlines()]  # every line is one JSON object
    assert any("health checks and metrics on" in r["message"] for r in records)
    of_run = [r for r in records if r.get("run_id") is not None]
    assert of_run and {(r["channel"], r["thread_ts"]) for r in of_run} == {(channel, root)}
    assert leaks(written) == []
