"""The closing message's blocks and the Home tab's run lines: pure functions, tables of cases."""

from __future__ import annotations

import time

import pytest

from bot.core.pipeline import PostmortemResult
from bot.core.run import Run, RunFacts, RunState
from bot.runs import RunRecord
from bot.slack.blocks.closing import FEEDBACK_ACTION, closing_message, parse_vote
from bot.slack.blocks.wording import closing_line
from bot.slack.inbound.home import run_line
from tests.core.redact.secret_cases import POSITIVE


@pytest.mark.parametrize(("value", "parsed"), [
    ("up:12", ("up", 12)), ("down:3", ("down", 3)),
    ("sideways:3", None), ("up:", None), ("up:-1", None), ("12", None), ("", None), ("up:1:2", None),
])
def test_parse_vote(value: str, parsed: tuple[str, int] | None) -> None:
    assert parse_vote(value) == parsed


def test_closing_message_splits_long_text_names_the_model_and_needs_a_run_for_controls() -> None:
    run = Run(RunFacts(prompt_version="v1", model="qwen2.5:7b"))
    text = "\n\n".join(["x" * 2000] * 3) + " <!channel>"
    message = closing_message(text, 7, run)
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert "<!channel>" not in str(message.blocks) and "<!channel>" not in message.text  # nobody is pinged
    assert "qwen2.5:7b" in message.blocks[3]["elements"][0]["text"]
    feedback = message.blocks[4]["elements"][0]
    assert feedback["action_id"] == FEEDBACK_ACTION
    assert (feedback["positive_button"]["value"], feedback["negative_button"]["value"]) == ("up:7", "down:7")
    unrecorded = closing_message("done", None, run)
    assert [b["type"] for b in unrecorded.blocks] == ["section", "context"]
    run.degrade("the model is down")
    assert "Rule-based" in closing_message("done", 7, run).blocks[1]["elements"][0]["text"]


def record(status: RunState, mode: str = "full", **info: object) -> RunRecord:
    facts = RunFacts(prompt_version="v1", model="llama3.1:8b")
    for key, value in info.items():
        setattr(facts, key, value)
    return RunRecord(id=1, created_at=time.time(), trigger="reaction", channel="C1", thread_ts="1.2", invoker="U1",
                     status=status, facts=facts, mode=mode)


@pytest.mark.parametrize(("status", "info", "shows"), [
    (RunState.DONE, {"quality": {"passed": True}}, ["done", "quality checks passed", "llama3.1:8b"]),
    (RunState.DONE, {"quality": {"passed": False}}, ["done", "quality checks failed"]),
    (RunState.DONE, {}, ["quality not checked"]),
    (RunState.DEGRADED, {"mode": "degraded"}, ["degraded", "no model answer"]),
    (RunState.FAILED, {}, ["failed"]),
    (RunState.ANALYSING, {}, ["running"]),
    (RunState.INTERRUPTED, {}, ["interrupted"]),
])
def test_home_run_line(status: RunState, info: dict[str, object], shows: list[str]) -> None:
    line = run_line(record(status, **info), "inc-db", "https://acme.slack.com/archives/C1/p12")
    assert "*#inc-db*" in line and "<https://acme.slack.com/archives/C1/p12|thread>" in line
    for part in shows:
        assert part in line, (part, line)


def test_the_closing_line_never_shows_a_secret_quoted_in_a_warning_or_upload_error() -> None:
    token = next(case.secret for case in POSITIVE if case.secret.startswith("sk-proj-"))
    info = RunFacts(prompt_version="p", model="m")
    info.warnings.append(f"the repair call failed (401: Received API Key = {token})")
    line = closing_line(PostmortemResult([], "", None, Run(info), None), [f"the report could not be uploaded ({token})"])
    assert token not in line and line.count(":warning:") == 2
