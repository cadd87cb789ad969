"""`python -m bot analyze` with EXPORT set, as a user runs it: a subprocess against the fake model and the
Confluence emulator. The page's URL on stdout; the same input again updates the same page; a refusal is one
warning line with its fix, exit 6, and the postmortem files are all written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cli_helpers import SAMPLE, cli_llm, llm_env, start_cli
from tests.fakes.confluence_api import FakeConfluence


async def test_the_report_goes_to_confluence_and_a_second_run_updates_it(tmp_path: Path) -> None:
    async with cli_llm() as llm, FakeConfluence() as wiki:
        env = llm_env(llm.base_url, EXPORT="confluence", CONFLUENCE_URL=wiki.url, CONFLUENCE_SPACE="OPS",
                      CONFLUENCE_EMAIL=wiki.email, CONFLUENCE_API_TOKEN=wiki.api_token)
        outputs = []
        for attempt in range(2):
            proc = await start_cli(str(SAMPLE), "--out", str(tmp_path / str(attempt)), "--no-audio", env=env)
            stdout, stderr = await proc.communicate()
            assert proc.returncode == 0, stderr.decode()
            outputs.append(stdout.decode().split())
        [page] = wiki.pages.values()
    assert outputs[0] == outputs[1] == [f"{wiki.url}/spaces/OPS/pages/{page['id']}"]
    assert page["version"]["number"] == 2 and "Root Cause Determination" in page["body"]
    run = json.loads((tmp_path / "1" / "run.json").read_text())
    assert run["export"] == {"service": "Confluence", "url": outputs[1][0]}


async def test_a_refusal_is_one_warning_with_its_fix_and_exit_6(tmp_path: Path) -> None:
    async with cli_llm() as llm, FakeConfluence() as wiki:
        env = llm_env(llm.base_url, EXPORT="confluence", CONFLUENCE_URL=wiki.url, CONFLUENCE_SPACE="OPS",
                      CONFLUENCE_EMAIL=wiki.email, CONFLUENCE_API_TOKEN="revoked")
        proc = await start_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=env)
        stdout, stderr = await proc.communicate()
    assert proc.returncode == 6 and stdout.decode() == "" and wiki.pages == {}
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith("warning: the report was not exported to Confluence: Confluence refused the credentials")
    assert "fix: check CONFLUENCE_EMAIL and CONFLUENCE_API_TOKEN" in last
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["status"] == "done" and "refused the credentials" in run["export"]["error"]
    assert (tmp_path / "report.md").read_text().startswith("# ")
