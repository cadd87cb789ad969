"""`python -m bot analyze` writes the test plan: tests.json and tests/<type>/<skeleton> beside report.md, the plan
in run.json, the previous run's skeletons replaced; an incomplete suite costs exactly one JSON call."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import yaml

from bot.cli.outputs import FOLDER_MARK
from tests.e2e.cli_helpers import SAMPLE, cli_llm, llm_env, run_cli, run_record
from tests.fakes.fake_llm import json_reply
from tests.fakes.sample_reports import sample_report

SUITE = "### Canary on p99\n- Type: canary\n- Scope: checkout-api rollout\n\n### Pool exhaustion\n- Success criteria: zero pool timeouts\n"
ANSWER = {"tests": [
    {"name": "Canary on p99", "fault_injection": "a deploy that adds 1 s to gateway calls", "success_criteria": "p99 < 2000 ms"},
    {"name": "Pool exhaustion", "type": "chaos", "scope": "db client pool", "fault_injection": "the database is down"},
]}


async def test_cli_writes_tests_json_and_skeletons_and_records_the_plan(tmp_path: Path) -> None:
    report = sample_report().split("## Recommended Test Suite")[0] + "## Recommended Test Suite\n\n" + SUITE + "\n## Audio Summary" + \
        sample_report().split("## Audio Summary")[1]
    stale = tmp_path / "tests" / "load"
    stale.mkdir(parents=True)
    (tmp_path / "tests" / FOLDER_MARK).write_text("")
    (stale / "old_run.js").write_text("// the previous run's skeleton")
    async with cli_llm() as llm:
        # The answer; the quality gate's one repair call (which fixes nothing here); the one JSON call for the gaps.
        llm.script(report, "I cannot rewrite these sections.", json_reply(ANSWER))
        out = await run_cli(str(SAMPLE), "--out", str(tmp_path), "--no-audio", env=llm_env(llm.base_url))
        assert out.code == 0, out.stderr
        assert len(llm.json_requests) == 1 and len(llm.chat_requests) == 3
    plan = json.loads((tmp_path / "tests.json").read_text())
    assert plan["source"] == "structured" and plan["missing_fields"] == []
    assert [(t["name"], t["type"]) for t in plan["tests"]] == [("Canary on p99", "canary"), ("Pool exhaustion", "chaos")]
    assert run_record(tmp_path)["tests"] == plan["tests"]
    files = sorted(str(p.relative_to(tmp_path / "tests")) for p in (tmp_path / "tests").rglob("*") if p.is_file())
    assert files == [FOLDER_MARK, "canary/canary_on_p99.analysis-template.yaml", "chaos/test_pool_exhaustion.py"]
    canary = yaml.safe_load((tmp_path / "tests/canary/canary_on_p99.analysis-template.yaml").read_text())
    assert [m["successCondition"] for m in canary["spec"]["metrics"]] == ["result[0] < 2"]
    chaos = (tmp_path / "tests/chaos/test_pool_exhaustion.py").read_text()
    ast.parse(chaos)
    assert "'type': 'timeout'" in chaos and "assert measured['error_rate'] <= 0" in chaos
    assert "[tests] 2 test(s)" in out.stderr
