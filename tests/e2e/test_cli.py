"""`python -m bot analyze` as a user runs it: a real subprocess against the fake LLM on 127.0.0.1, piper for real."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import mutagen.mp3
import pytest

from bot.core.prompt import PROMPT_VERSION
from tests.e2e.cli_helpers import SAMPLE, cli_llm, llm_env, run_cli, run_record
from tests.fakes.fake_llm import FakeLLM, empty, gate_passing_report, status, text, unused_base_url
from tests.fakes.sample_reports import summary_prose


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with cli_llm() as fake:
        yield fake


async def test_success_writes_report_mp3_and_run_json_with_piper(llm: FakeLLM, tmp_path: Path) -> None:
    # A 120-word summary (the shortest the quality gate passes): piper's CPU time grows with the words, and this test is
    # about what the CLI writes; the length rules are unit-tested (tests/core/speech/test_text.py).
    llm.script(text(gate_passing_report(words_in_summary=120)))
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), env=llm_env(llm.base_url, TTS_ENGINE="piper"))
    assert out.code == 0, out.stderr
    report = (tmp_path / "report.md").read_text()
    for title in ("Incident Timeline & Blast Radius", "Testing Gap Analysis", "Root Cause Determination",
                  "Prevention & Validation Strategy", "Recommended Test Suite", "Audio Summary"):
        assert f"## {title}" in report
    assert PROMPT_VERSION in report and "llama3.1:8b" in report
    # Sections reach report.md in stream order.
    assert report.index("Incident Timeline") < report.index("Root Cause Determination") < report.index("Audio Summary")
    mp3 = (tmp_path / "summary.mp3").read_bytes()
    assert mutagen.mp3.MP3(io.BytesIO(mp3)).info.length > 15  # 120 words at ~150 a minute: ~48 s
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["prompt_version"] == PROMPT_VERSION and run["tts_engine"] == "piper"
    assert run["status"] == "done" and run["error"] is None
    assert len(run["sections_found"]) == 6 and run["missing_sections"] == []
    assert run["redactions"].get("url-credentials", 0) + run["redactions"].get("password", 0) >= 1
    assert {"prepare", "analyse", "narrate"} <= set(run["timings"])
    # Exactly what the MP3 says is recorded, and it is the model's summary (piper's joined batches).
    assert run["narrated_text"].split() == summary_prose(120).split()
    # One progress line per stage on stderr.
    assert "[preparing]" in out.stderr and "[analysing]" in out.stderr and "[done]" in out.stderr
    # The planted password never reached the model.
    assert "hunter2" not in json.dumps(llm.chat_requests)
    # Evidence ids became the cited messages' times; the id of no message ([m99]) was dropped and counted.
    assert "completes [09:00:40]." in report and "pool [09:00:40] [09:01:35]." in report and not re.search(r"\[m\d+", report)
    assert run["citations"]["dangling_removed"] == 1 and run["citations"]["dangling"] == ["m99"]
    assert run["citations"]["cited"] == 7 and "Citations removed: 1" in report


async def test_stdin_and_no_audio(llm: FakeLLM, tmp_path: Path) -> None:
    text = b"2025-11-17T09:00:00Z ERROR checkout: pool timeout\n2025-11-17T09:01:00Z deploy v2 rolled back\n"
    out = await run_cli("-", "--out", str(tmp_path), "--no-audio", env=llm_env(llm.base_url), stdin=text)
    assert out.code == 0, out.stderr
    assert not (tmp_path / "summary.mp3").exists()
    assert (tmp_path / "report.md").exists()


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("missing", "no such incident file"),
        ("bad-json", "does not parse"),
        ("empty", "empty"),
        ("not-slack-json", "not Slack data"),
        ("bad-setting", "LLM_TEMPERATURE"),
    ],
)
async def test_bad_input_exits_2_with_cause_and_fix(llm: FakeLLM, tmp_path: Path, setup: str, needle: str) -> None:
    path = tmp_path / "incident.txt"
    env = llm_env(llm.base_url)
    if setup == "bad-json":
        path.write_text('{"messages": [')
    elif setup == "empty":
        path.write_text("   \n")
    elif setup == "not-slack-json":
        path.write_text('{"hello": 1}')
    elif setup == "bad-setting":
        path.write_text("an incident")
        env["LLM_TEMPERATURE"] = "warm"
    out = await run_cli(str(path), "--out", str(tmp_path / "out"), env=env)
    assert out.code == 2, out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and needle in last and "fix:" in last
    run = run_record(tmp_path / "out")
    assert run["status"] == "failed" and needle in run["error"]
    assert llm.chat_requests == []


async def test_unreachable_llm_writes_digest_report_and_mp3_and_exits_0_with_one_warning(tmp_path: Path) -> None:
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), env=llm_env(unused_base_url(), TTS_ENGINE="piper"))
    assert out.code == 0, out.stderr
    assert out.last_line.startswith("warning: rule-based digest only") and "ollama serve" in out.last_line
    assert sum(line.startswith("warning:") for line in out.stderr.splitlines()) == 1
    run = run_record(tmp_path)
    assert run["status"] == "degraded" and run["mode"] == "degraded" and "ollama serve" in run["cause"]
    assert run["error"] is None and run["tts_engine"] == "piper" and run["narrated_text"]
    # The rule-based digest and checklist are the report, marked as such; the MP3 reads the digest.
    report = (tmp_path / "report.md").read_text()
    assert "What the thread shows (rule-based)" in report and "Rule-based digest only" in report
    assert "Incomplete report" not in report and "ollama serve" in report
    assert (tmp_path / "summary.mp3").stat().st_size > 10_000


async def test_strict_exits_3_when_no_model_analysis_was_possible_and_still_writes_the_outputs(tmp_path: Path) -> None:
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", "--strict", env=llm_env(unused_base_url()))
    assert out.code == 3 and "ollama serve" in out.last_line
    assert run_record(tmp_path)["status"] == "degraded" and "Rule-based digest only" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(
    ("reply", "env", "needle"),
    [
        (None, {"LLM_MODEL": "qwen9:70b"}, "ollama pull qwen9:70b"),
        (empty(), {}, "answered with no text"),
        (status(500, "llama runner process has terminated"), {}, "llama runner process has terminated"),
    ],
    ids=["model-not-pulled", "empty-output", "server-error"],
)
async def test_model_side_failures_end_degraded_with_the_cause(llm: FakeLLM, tmp_path: Path, reply, env, needle) -> None:  # type: ignore[no-untyped-def]
    if reply is not None:
        llm.script(reply)
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=llm_env(llm.base_url, **env))
    assert out.code == 0 and out.last_line.startswith("warning:") and needle in out.last_line, out.stderr
    run = run_record(tmp_path)
    assert run["status"] == "degraded" and needle in run["cause"]
