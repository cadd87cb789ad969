"""The issue's acceptance example, as a new user tries it: a seven-line chat transcript, given to `analyze` as a
file and pasted into a Slack thread, reads as seven timed events by three people and two bots, 18 minutes from
the deploy to the alert clearing, with FIRING and RESOLVED told apart."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.cli_helpers import cli_llm, llm_env, run_cli
from tests.e2e.conftest import DIGEST_TITLE, Stack
from tests.e2e.test_slack_triggers import wait_done
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text

TRANSCRIPT = """\
08:55 Deploybot: checkout-api v2.14.0 deployed to production
09:02 Alertmanager: [FIRING] checkout-api error rate > 5%
09:03 Anna: looking, errors started right after the deploy
09:05 Ben: p99 latency 300ms -> 2.3s on checkout-api
09:07 Anna: rolling back checkout-api to v2.13.2
09:11 Chris: rollback done, error rate dropping
09:13 Alertmanager: [RESOLVED] checkout-api error rate > 5%
"""
EVENT = re.compile(r"^\d+\. (?P<time>\S+) — \*\*(?P<label>[^*]+)\*\* `(?P<text>[^`]*)` \((?P<author>[^)]+)\)", re.MULTILINE)


def assert_acceptance(digest: str) -> None:
    """What the issue asks of this transcript, read off the digest as a person reads it."""
    events = [m.groupdict() for m in EVENT.finditer(digest)]
    rows = [line.split(" ", 2) for line in TRANSCRIPT.splitlines()]
    assert [(e["time"], e["author"], e["text"]) for e in events] == [(t, a.rstrip(":"), x) for t, a, x in rows]
    labels = [e["label"] for e in events]
    assert labels[0] == "deploy" and labels[1] == "alert fired" and labels[-1] == "alert resolved"
    assert "rollback" in labels[4:6]
    assert "**Duration:** 18 min, first signal 08:55 → resolution 09:13" in digest
    assert "**Participants:** Anna (2), Ben (1), Chris (1); bots: Deploybot (1), Alertmanager (2)" in digest


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with cli_llm() as fake:
        yield fake


async def test_cli_reads_a_pasted_transcript_as_timed_events(llm: FakeLLM, tmp_path: Path) -> None:
    incident = tmp_path / "incident.txt"
    incident.write_text(TRANSCRIPT)
    llm.script(text(gate_passing_report()))
    out = await run_cli(str(incident), "--out", str(tmp_path / "out"), "--no-audio", env=llm_env(llm.base_url))
    assert out.code == 0, out.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert_acceptance(report[report.index(DIGEST_TITLE):])
    # The model gets one message per line, each with its time and author, to cite by id.
    prompt = llm.chat_requests[0]["messages"][1]["content"]
    assert "[m2] [09:02] Alertmanager: [FIRING] checkout-api error rate > 5%" in prompt
    assert "[m7] [09:13] Alertmanager: [RESOLVED]" in prompt


async def test_slack_message_holding_a_pasted_transcript_reads_the_same(stack: Stack) -> None:
    s = stack.slack
    root = s.post(stack.channel, stack.alice, TRANSCRIPT)  # pasted from the war room's chat
    stack.llm.script(text(gate_passing_report()))
    s.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    digest = next(b["text"] for m in s.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert_acceptance(digest)
    # Each row cites the Slack message it was pasted in: its link leads there.
    link = f"/p{root.replace('.', '')})"
    assert sum(line.endswith(link) for line in digest.splitlines() if EVENT.match(line)) == 7


DOTTED_TABLE = """\
Timeline, all times UTC:
| Time | Event | Who |
|------|-------|-----|
| 05.11.2026 23:50 | checkout-api v2.14.0 deployed to production | Deploybot |
| 06.11.2026 00:07 | [FIRING] checkout-api error rate > 5% | Alertmanager |
| 06.11.2026 00:15 | rolled back | pool drained on replica seven | Ben |
| 06.11.2026 00:26 | [RESOLVED] checkout-api error rate > 5% | Alertmanager |
"""


async def test_a_pasted_table_reads_dotted_dates_day_first_and_keeps_a_malformed_rows_words(stack: Stack) -> None:
    """05.11.2026 23:50 to 06.11.2026 00:26 is 36 minutes across midnight (read month first, a month and 36
    minutes); the row with an extra cell reaches the model as a note instead of vanishing."""
    s = stack.slack
    root = s.post(stack.channel, stack.alice, DOTTED_TABLE)
    stack.llm.script(text(gate_passing_report()))
    s.reaction_added(stack.bob, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    digest = next(b["text"] for m in s.thread(stack.channel, root) for b in m.get("blocks", []) or []
                  if b.get("type") == "markdown" and b["text"].startswith(f"## {DIGEST_TITLE}"))
    assert "**Duration:** 36 min, first signal 05.11.2026 23:50 → resolution 06.11.2026 00:26" in digest
    prompt = stack.llm.chat_requests[0]["messages"][1]["content"]
    assert "rolled back | pool drained on replica seven | Ben" in prompt


CHAT_IN_A_LOG = """\
09:00 Anna: checkout is throwing 500s, looking at the api logs
2026-12-06T09:00:01Z ERROR api.db: connection pool exhausted (50/50)
2026-12-06T09:00:02Z ERROR api.db: connection pool exhausted (50/50)
2026-12-06T09:00:03Z WARN api.http: retrying upstream payment call
2026-12-06T09:00:04Z ERROR api.db: connection pool exhausted (50/50)
09:04 Ben: the pool was raised to 50 per pod in the 08:50 deploy
2026-12-06T09:05:00Z ERROR api.db: connection pool exhausted (50/50)
09:10 Anna: rolled back, errors gone
"""


async def test_cli_reads_people_talking_in_a_mostly_log_file_as_messages_beside_the_log(llm: FakeLLM, tmp_path: Path) -> None:
    incident = tmp_path / "incident.log"
    incident.write_text(CHAT_IN_A_LOG)
    llm.script(text(gate_passing_report()))
    out = await run_cli(str(incident), "--out", str(tmp_path / "out"), "--no-audio", env=llm_env(llm.base_url))
    assert out.code == 0, out.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "**Participants:** Anna (2), Ben (1)" in report
    assert "**Duration:** 10 min, first signal" in report
    prompt = llm.chat_requests[0]["messages"][1]["content"]
    assert "[m1] [2026-12-06T09:00:00Z] Anna: checkout is throwing 500s" in prompt
    assert "[m3] [2026-12-06T09:04:00Z] Ben: the pool was raised" in prompt
