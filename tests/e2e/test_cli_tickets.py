"""`python -m bot analyze --tickets` as a user runs it: a subprocess against the fake model and the GitHub emulator."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.tickets import idempotency_key
from bot.tickets.github import marker
from tests.e2e.cli_helpers import SAMPLE, cli_llm, llm_env, start_cli
from tests.fakes.github_api import FakeGitHub


def test_tickets_without_a_backend_stop_before_the_model_is_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # In process: the check comes before any model call (LLM_BASE_URL points at a closed port anyway).
    code = main(["analyze", str(SAMPLE), "--out", str(tmp_path), "--tickets"])
    assert code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("error: --tickets needs a ticket backend, but TICKETS=none — fix: set TICKETS=github")


async def test_one_ticket_per_test_and_a_failure_exits_5(tmp_path: Path) -> None:
    async with cli_llm() as llm, FakeGitHub(repos=["acme/shop"]) as gh:
        env = llm_env(llm.base_url, TICKETS="github", GITHUB_REPO="acme/shop", GITHUB_TOKEN=gh.token,
                      GITHUB_API_URL=gh.api_url)
        gh.fail_next("create", 500)  # the first test's ticket fails; the other two are made
        proc = await start_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", "--tickets", env=env)
        stdout, stderr = await proc.communicate()
    out, err = stdout.decode(), stderr.decode()
    assert proc.returncode == 5, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 3 tickets were not created (github: GitHub answered HTTP 500") and "— fix: try again" in last
    assert "[tickets] Connection-pool saturation: not created" in err
    assert out.split() == [issue["html_url"] for issue in gh.all_issues()] and len(gh.all_issues()) == 2
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["status"] == "done" and len(run["tests"]) == 3
    assert [("url" in t, "error" in t) for t in run["tickets"]] == [(False, True), (True, False), (True, False)]
    assert "chaos/" not in gh.all_issues()[0]["body"] and "load/resource_headroom.js" in gh.all_issues()[0]["body"]


async def test_tickets_again_on_the_same_input_finds_them_even_made_by_an_older_version(tmp_path: Path) -> None:
    async with cli_llm() as llm, FakeGitHub(repos=["acme/shop"]) as gh:
        env = llm_env(llm.base_url, TICKETS="github", GITHUB_REPO="acme/shop", GITHUB_TOKEN=gh.token,
                      GITHUB_API_URL=gh.api_url)
        first = await start_cli(str(SAMPLE), "--out", str(tmp_path / "1"), "--no-audio", "--tickets", env=env)
        out1, err1 = await first.communicate()
        assert first.returncode == 0, err1.decode()
        assert len(gh.all_issues()) == 3
        # As an older version keyed them: by the test's position and name, not by the test alone.
        run = json.loads((tmp_path / "1" / "run.json").read_text())
        for index, issue in enumerate(gh.all_issues()):
            name = run["tests"][index]["name"]
            issue["body"] = re.sub(r"<!-- postmortem-bot:pmb-\w+ -->",
                                   marker(idempotency_key("cli", run["input_hash"], index, name)), issue["body"])
        again = await start_cli(str(SAMPLE), "--out", str(tmp_path / "2"), "--no-audio", "--tickets", env=env)
        out2, err2 = await again.communicate()
    assert again.returncode == 0, err2.decode()
    assert len(gh.all_issues()) == 3  # found, not made again
    assert out2.decode().split() == out1.decode().split()
