"""The output folder under faults, through the real CLI: signals, a second run, stale files, blocked paths, a full disk.
Each asserts the exit code, the one-line message, what run.json says and that no file pretends to be whole."""

from __future__ import annotations

import asyncio
import resource
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.outputs import LOCK_NAME, OutputDir
from tests.e2e.cli_helpers import (
    SAMPLE,
    cli_llm,
    leftovers,
    llm_env,
    run_cli,
    run_record,
    start_cli,
)
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, text, unused_base_url


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with cli_llm() as fake:
        yield fake


NAMES = ("report.md", "report.incomplete.md", "summary.mp3", "run.json")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_signal_mid_stream_leaves_marked_partial_report(
    llm: FakeLLM, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    gate = asyncio.Event()
    llm.script(text(gate_passing_report(), gate=gate, gate_at="## Root Cause"))
    proc = await start_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=llm_env(llm.base_url))
    assert proc.stderr is not None
    # The CLI prints "[section] …" after report.md holds that section: the moment to interrupt.
    while b"[section]" not in (line := await proc.stderr.readline()):
        assert line, "the CLI ended before writing a section"
    proc.send_signal(sig)
    rest = (await proc.stderr.read()).decode()
    await proc.wait()
    gate.set()
    assert proc.returncode == code, rest
    last = rest.strip().splitlines()[-1]
    assert last.startswith("error: interrupted by " + sig.name) and "fix:" in last
    report = (tmp_path / "report.md").read_text()
    assert "## Incident Timeline" in report and "Root Cause" not in report
    assert report.rstrip().endswith(f"**Incomplete report:** the run stopped here (interrupted): interrupted by {sig.name}")
    run = run_record(tmp_path)
    assert run["status"] == "interrupted" and run["error"] == f"interrupted by {sig.name}"
    assert leftovers(tmp_path) == []


async def test_ctrl_c_while_waiting_for_stdin_exits_130_with_a_record(llm: FakeLLM, tmp_path: Path) -> None:
    proc = await start_cli("-", "--out", str(tmp_path), env=llm_env(llm.base_url))
    assert proc.stderr is not None
    assert b"reading the incident from stdin" in await proc.stderr.readline()
    proc.send_signal(signal.SIGINT)  # stdin stays open: the CLI is blocked in read()
    rest = (await proc.stderr.read()).decode()
    assert await proc.wait() == 130
    assert rest.strip().startswith("error: interrupted by SIGINT") and rest.count("\n") == 1
    assert run_record(tmp_path)["status"] == "interrupted"
    assert llm.requests == [] and not (tmp_path / "report.md").exists()


async def test_second_run_into_a_busy_folder_is_refused_before_the_model(llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("the other run's report")
    with OutputDir(tmp_path, ()):  # another run holds the folder
        out = await run_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=llm_env(llm.base_url))
    assert out.code == 2, out.stderr
    assert "another run is writing to" in out.last_line and "fix:" in out.last_line
    assert llm.requests == []
    assert (tmp_path / "report.md").read_text() == "the other run's report"  # its files are left alone
    assert not (tmp_path / "run.json").exists()


@pytest.mark.parametrize("blocked", ["report.md", "run.json", "summary.mp3"])
async def test_output_path_that_is_a_folder_is_refused_before_the_model(
    llm: FakeLLM, tmp_path: Path, blocked: str
) -> None:
    (tmp_path / blocked / "keep").mkdir(parents=True)
    (tmp_path / "run.json" if blocked != "run.json" else tmp_path / "report.md").write_text("earlier")
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), env=llm_env(llm.base_url))
    assert out.code == 2, out.stderr
    assert f"{blocked} is a folder" in out.last_line and "fix: remove or rename" in out.last_line
    assert llm.requests == []  # refused before the model was paid for
    assert (tmp_path / blocked / "keep").is_dir()
    # All checks come before any change: the earlier files are untouched.
    assert (tmp_path / ("run.json" if blocked != "run.json" else "report.md")).read_text() == "earlier"


async def test_input_that_is_an_output_is_refused_not_deleted(llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "report.md").write_text("incident notes: checkout failed after the deploy")
    out = await run_cli(str(tmp_path / "report.md"), "--out", str(tmp_path), env=llm_env(llm.base_url))
    assert out.code == 2 and "is one of this run's outputs" in out.last_line and "fix:" in out.last_line
    assert (tmp_path / "report.md").read_text() == "incident notes: checkout failed after the deploy"
    assert llm.requests == []


async def test_out_that_is_a_file_exits_2(llm: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path / "out"), env=llm_env(llm.base_url))
    assert out.code == 2 and "exists and is not a folder" in out.last_line and "fix:" in out.last_line
    assert llm.requests == []


async def test_degraded_run_replaces_stale_outputs_of_an_earlier_run(tmp_path: Path) -> None:
    for name, content in [("report.md", "# old report"), ("summary.mp3", "old audio"), ("run.json", '{"status": "done"}'),
                          (".report.md.x1.tmp", "killed run's temp")]:
        (tmp_path / name).write_text(content)
    out = await run_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=llm_env(unused_base_url()))
    assert out.code == 0
    # Only this run's files: its record and its report (the rule-based digest); no old audio.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != LOCK_NAME) == ["report.md", "run.json"]
    assert "# old report" not in (tmp_path / "report.md").read_text()
    run = run_record(tmp_path)
    assert run["status"] == "degraded" and "ollama serve" in run["cause"]


def _limit_file_size(limit: int) -> None:
    # In the child only: writes past `limit` bytes fail with EFBIG (Python ignores SIGXFSZ), like a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


async def test_disk_full_mid_report_fails_clearly_without_a_truncated_file(llm: FakeLLM, tmp_path: Path) -> None:
    # 6 KB: run.json (~1 KB) fits, and so do the report's header, the rule-based digest (~4.5 KB) and the first
    # section; report.md (~8 KB when whole) stops fitting part way through the stream.
    out = await run_cli(
        str(SAMPLE), "--out", str(tmp_path), "--no-audio",
        env=llm_env(llm.base_url), preexec_fn=lambda: _limit_file_size(6000),
    )
    assert out.code == 2, out.stderr
    assert "File too large" in out.last_line and "fix: free disk space" in out.last_line
    # The partial report could not take its closing note, so it carries a name that says what it is.
    assert not (tmp_path / "report.md").exists()
    partial = (tmp_path / "report.incomplete.md").read_text()
    assert "## Incident Timeline" in partial and "## Audio Summary" not in partial
    run = run_record(tmp_path)
    assert run["status"] == "failed" and "File too large" in run["error"]
    assert leftovers(tmp_path) == []
