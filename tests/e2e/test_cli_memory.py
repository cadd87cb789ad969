"""Memory from the command line (one DATA_DIR): `import` a folder of reviews, `similar` on a new incident (best first,
with title and file), `analyze` (a real subprocess against the fake model) shows "Seen before" and is remembered,
`history` finds it, `forget` removes it; bad arguments get one line with the fix. The memory commands run through
the CLI's own entry point in this process: a subprocess each would cost seconds of start-up for nothing they test."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
from pathlib import Path

from bot.cli import main
from tests.e2e.cli_helpers import cli_llm, llm_env, run_cli
from tests.fakes.fake_llm import text
from tests.fakes.sample_reports import sample_report

GOLDEN = Path(__file__).parents[1] / "memory" / "golden"


async def bot(*args: str) -> tuple[int, str, str]:
    """The CLI's entry point on a thread of its own (it runs its own event loop, as from a shell)."""
    def call() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
        return code, out.getvalue(), err.getvalue()
    return await asyncio.to_thread(call)


async def test_import_similar_analyze_history_forget(tmp_path: Path) -> None:
    reviews = tmp_path / "reviews"
    reviews.mkdir()
    for name in ("pool-orders-2026-03.md", "cert-auth-2026-02.md", "dns-search-2026-03.md"):
        shutil.copy(GOLDEN / name, reviews / name)
    (reviews / "empty.md").write_text("\n")
    code, out, err = await bot("import", str(reviews))
    assert code == 0, err
    assert "3 imported, 1 skipped" in err and "skipped" in err and "empty.md" in err
    assert "INC-3101 orders-api stopped taking orders" in out

    incident = tmp_path / "new.log"
    incident.write_text("2026-12-01T10:00:00Z orders-api ERROR pool: timeout acquiring connection after 30000ms\n"
                        "2026-12-01T10:02:00Z orders-api FATAL: remaining connection slots are reserved\n")
    code, out, err = await bot("similar", str(incident))
    assert code == 0, err
    first = out.splitlines()[0]
    assert first.startswith("1. INC-3101 orders-api stopped taking orders") and "pool-orders-2026-03.md" in out
    assert "cert-auth" not in out and "shared: class connection-pool-exhaustion, service orders-api" in out

    async with cli_llm() as llm:
        llm.script(text(sample_report()))
        result = await run_cli(str(incident), "--out", str(tmp_path / "out"), "--no-audio", env=llm_env(llm.base_url))
    assert result.code == 0, result.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "### Seen before" in report and "pool-orders-2026-03.md" in report
    assert json.loads((tmp_path / "out" / "run.json").read_text())["seen_before"] == [str((reviews / "pool-orders-2026-03.md").resolve())]

    code, out, _ = await bot("history", "orders", "pool")
    assert code == 0 and str(incident.resolve()) in out and "pool-orders-2026-03.md" in out  # the analysed file is remembered
    assert out.index(str(incident.resolve())) < out.index("pool-orders-2026-03.md")  # newest first
    code, out, err = await bot("forget", str(incident))
    assert code == 0 and "forgot 1 postmortem" in out
    code, out, _ = await bot("history", "orders", "pool")
    assert str(incident.resolve()) not in out and "pool-orders-2026-03.md" in out

    code, _, err = await bot("forget", "https://acme.slack.com/archives/C1/p1700000000000100")
    assert code == 2 and "nothing is remembered for" in err and "fix:" in err
    code, _, err = await bot("forget", "not-a-link")
    assert code == 2 and "neither a Slack thread link nor an imported file" in err
    code, _, err = await bot("import", str(tmp_path / "missing"))
    assert code == 2 and "is not a folder" in err
