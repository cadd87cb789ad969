"""Importing a team's own postmortems: title, primary cause from a root-cause section, follow-ups from an action
items list, Slack export files, and files that are not postmortems skipped with their reason."""

from __future__ import annotations

import json
from pathlib import Path

from bot.memory.imports import entry_for_file, read_folder


def test_a_markdown_review(tmp_path: Path) -> None:
    path = tmp_path / "2026-01-review.md"
    path.write_text("# INC-12 orders-api down\n\nERROR pool: timeout acquiring connection\n\n## Root Cause\n"
                    "The pool was sized for last year's traffic. More text.\n\n## Action items\n- [ ] Load test the pool\n"
                    "1. Alert on waits\n\n## Timeline\n- 10:00 paged\n")
    entry = entry_for_file(path)
    assert entry.title == "INC-12 orders-api down" and entry.source == f"file:{path.resolve()}"
    assert entry.primary_cause == "The pool was sized for last year's traffic."
    assert [t["name"] for t in entry.tests] == ["Load test the pool", "Alert on waits"]
    assert entry.signals.classes == ("connection-pool-exhaustion",) and "orders-api" in entry.signals.services


def test_a_folder_with_a_slack_export_and_files_that_are_not_postmortems(tmp_path: Path) -> None:
    (tmp_path / "inc-payments").mkdir()
    messages = [{"type": "message", "user": "U1", "ts": "1762074000.000100", "text": "INC-9 payments-api: too many connections"},
                {"type": "message", "user": "U2", "ts": "1762074060.000200", "text": "restarted payments-api, resolved"}]
    (tmp_path / "inc-payments" / "2025-11-02.json").write_text(json.dumps(messages))
    (tmp_path / "empty.md").write_text("   \n")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # not a postmortem suffix: not even looked at
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("# secret draft")
    results = list(read_folder(tmp_path))
    assert [r.path.name for r, _ in results] == ["empty.md", "2025-11-02.json"]
    (empty, none), (_, entry) = results
    assert none is None and empty.error and "empty" in empty.error
    assert entry is not None and entry.title.startswith("INC-9") and "connection-pool-exhaustion" in entry.signals.classes


def test_a_linked_folder_loop_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "review.md").write_text("# INC-1 disk full\nNo space left on device on metrics-db\n")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    assert [r.path.name for r, _ in read_folder(tmp_path)] == ["review.md"]
