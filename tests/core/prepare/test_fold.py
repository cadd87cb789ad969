from __future__ import annotations

import random

import drain3
import pytest

from bot.core.prepare.fold import Folder, fold_log
from bot.core.prepare.traces import Chunk


def _timeouts(n: int, minute: int = 2) -> list[str]:
    rng = random.Random(3)
    return [
        f"2024-05-01T10:{minute + i // 60:02d}:{i % 60:02d}Z ERROR pool: connection {rng.randint(1, 99)} timeout after {rng.randint(28, 33)}s"
        for i in range(n)
    ]


def test_near_identical_lines_fold_with_count_and_first_last_timestamps() -> None:
    folded, templates = fold_log("\n".join(_timeouts(412)))
    assert templates == 1
    (entry,) = folded
    assert entry.count == 412
    # Connection ids become <*>; the timeout is a measurement, shown as the range seen.
    assert entry.line == "[×412, 2024-05-01T10:02:00Z … 10:08:51Z] ERROR pool: connection <*> timeout after 28–33s"


def test_singletons_stay_verbatim_and_in_order() -> None:
    singles = [
        "2024-05-01T10:00:00Z INFO deployer: deploy checkout v2.14.0 started",
        "2024-05-01T10:00:05Z WARN db: replica lag 12s",
        "2024-05-01T10:09:00Z INFO scheduler: nightly compaction skipped",
    ]
    lines = [singles[0], *_timeouts(10)[:5], singles[1], *_timeouts(10)[5:], singles[2]]
    folded, _ = fold_log("\n".join(lines))
    assert [f.line for f in folded if f.count == 1] == singles
    # Order of first appearance: deploy line, the folded template, then the rest.
    assert [f.count for f in folded] == [1, 10, 1, 1]


def test_constant_fields_are_shown_as_written() -> None:
    lines = [f"2024-05-01T10:00:0{i}Z ERROR api: upstream payments returned 503 for order {i}abc" for i in range(5)]
    (entry,) = fold_log("\n".join(lines))[0]
    assert entry.text == "ERROR api: upstream payments returned 503 for order <*>abc"


def test_varying_measurements_show_their_range_and_ids_do_not() -> None:
    lines = [
        "WARN monitor: p99=820ms cpu 71.5% tx 100 build v1.2.3",
        "WARN monitor: p99=4200ms cpu 97.0% tx 2000 build v1.2.4",
        "WARN monitor: p99=90ms cpu 9.5% tx 3 build v1.2.5",
    ]
    (entry,) = fold_log("\n".join(lines))[0]
    assert entry.text == "WARN monitor: p99=90–4200ms cpu 9.5–97.0% tx <*> build v<*>"


def test_two_repeats_are_not_worth_folding() -> None:
    lines = _timeouts(2)
    folded, templates = fold_log("\n".join(lines))
    assert templates == 0
    assert [f.line for f in folded] == lines


def test_distinct_errors_sharing_a_prefix_stay_apart() -> None:
    lines = [
        *(f"ERROR db: deadlock detected on table orders (tx {i})" for i in range(5)),
        *(f"ERROR db: replica {i} is read-only, writes rejected" for i in range(5)),
    ]
    folded, templates = fold_log("\n".join(lines))
    assert templates == 2
    assert {f.text for f in folded} == {
        "ERROR db: deadlock detected on table orders (tx <*>)",
        "ERROR db: replica <*> is read-only, writes rejected",
    }


def test_deploy_lines_fold_only_when_identical() -> None:
    lines = [f"INFO deployer: deploy checkout v2.14.{i} finished" for i in range(4)]
    folded, templates = fold_log("\n".join(lines))
    assert templates == 0 and [f.text for f in folded] == lines


def test_lines_without_timestamps_fold_without_a_span() -> None:
    (entry,) = fold_log("\n".join(f"conn {i} reset" for i in range(3)))[0]
    assert entry.line == "[×3] conn <*> reset"


def test_folding_uses_drain3(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = drain3.TemplateMiner.add_log_message

    def spy(self: drain3.TemplateMiner, message: str) -> dict:
        calls.append(message)
        return original(self, message)

    monkeypatch.setattr(drain3.TemplateMiner, "add_log_message", spy)
    fold_log("\n".join(_timeouts(5)))
    assert len(calls) == 5
    # Ids and numbers are masked and the timestamp removed before mining.
    assert calls[0] == "ERROR pool: connection <#> timeout after <#>s"


def test_folder_groups_keep_authors_apart() -> None:
    folder = Folder()
    for i in range(3):
        for author in ("alice", "bob"):
            folder.add(i, Chunk("looking", f"2024-05-01T10:00:0{i}Z", "looking"), group=author, exact_key="looking")
    assert folder.templates == 2
    assert [f.count for f in folder.result()] == [3, 3]
