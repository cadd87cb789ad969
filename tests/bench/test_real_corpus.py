"""The committed real-incident corpus is well formed without its texts: labels, sources manifest, thread fixtures."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from real_corpus import (
    LABELS,
    THREADS,
    CorpusError,
    known_classes,
    label_problems,
    load_label,
    load_labels,
    load_thread,
    load_threads,
    sources,
    text_path,
)

GOOD: dict[str, Any] = {
    "classes": ["config-drift", "bad-rollout"], "primary_class": "config-drift", "timezone": "UTC",
    "start": "2021-07-02 07:32", "resolved": "2021-07-02 07:42", "duration_minutes": 10, "resolution_stated": True,
    "times": [{"at": "2021-07-02 07:32", "what": "pipeline starts"}, {"at": "07:42", "what": "resolved"}],
    "action_items": [{"what": "canary the pipeline", "classes": ["bad-rollout"]}],
}


def test_every_committed_label_is_well_formed_and_there_are_at_least_40() -> None:
    labels = load_labels()  # raises CorpusError naming the file and every problem
    assert len(labels) >= 40
    assert sum(1 for lb in labels if lb.primary != "none") >= 40


def test_every_label_has_a_source_with_a_commit_and_licence_and_every_source_a_label() -> None:
    src = sources()
    assert {p.stem for p in LABELS.glob("*.toml")} == set(src)
    for row in src.values():
        assert re.fullmatch(r"[0-9a-f]{40}", row["commit"]) and row["repo"].count("/") == 1 and row["path"] and row["licence"]


def test_no_held_out_incident_is_in_the_corpus() -> None:
    """Issue 21 keeps these for acceptance: they must never be labelled or tuned on."""
    held = {"PM2019-009", "PM2019-010", "PM2019-011", "PM2020-001", "PM2020-002", "PM2020-004", "PM2020-005", "PM2020-008",
            "PM2020-009", "PM2021-004", "PM2021-005", "PM2021-008", "PM2022-001", "PM2022-009", "PM2023-001", "PM2024-001",
            "PM2024-002", "2021-05-26-website-outage", "2024-06-25-blockchain_mainnet-stall", "2025-02-25-block_production"}
    for row in sources().values():
        assert row["repo"] not in {"PostHog/post-mortems", "icco/postmortems"}
        assert not any(h in row["path"] for h in held), row


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["classes"].append("not-a-class"), "unknown class 'not-a-class'"),
    (lambda d: d.update(primary_class="timeout-chain"), "is not one of classes"),
    (lambda d: d.update(primary_class="none"), 'primary_class "none" means no class fits'),
    (lambda d: d["times"].append({"at": "yesterday 10", "what": "x"}), "times[2] needs at"),
    (lambda d: d["times"][0].update(what=" "), "times[0] needs at"),
    (lambda d: d["action_items"][0].pop("classes"), "action_items[0] needs what and classes"),
    (lambda d: d["action_items"][0]["classes"].append("nope"), "action_items[0]: unknown class 'nope'"),
    (lambda d: d.update(resolved=""), "resolution_stated is true but resolved is empty"),
    (lambda d: d.update(duration_minutes=-3), "duration_minutes must be a positive integer"),
    (lambda d: d.update(timezone="Mars"), "timezone must be one of"),
    (lambda d: d.update(start="10 past 7"), "start must be empty or a stamp"),
])
def test_a_broken_label_is_reported_with_what_is_wrong(change: Any, problem: str) -> None:
    known = set(known_classes())
    assert label_problems(GOOD, known) == []
    broken = copy.deepcopy(GOOD)
    change(broken)
    assert any(problem in p for p in label_problems(broken, known)), label_problems(broken, known)


def test_a_label_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.toml"
    bad.write_text('classes = ["config-drift"\n')
    with pytest.raises(CorpusError, match=r"x\.toml: not valid TOML"):
        load_label(bad, set(known_classes()))


def test_every_class_the_labels_use_is_a_class_of_the_digest_rules() -> None:
    known = known_classes()
    used = {c for lb in load_labels() for c in lb.classes}
    assert {"security-breach", "vulnerable-dependency"} <= used
    assert {c: known[c] for c in used if known[c] != "rules.toml"} == {}  # CLASSES.md's two are rules now too


def test_a_missing_text_says_which_repository_path_and_commit_to_fetch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REAL_INCIDENTS_DIR", str(tmp_path))
    with pytest.raises(CorpusError) as err:
        text_path("dfds-pm2021-007")
    row = sources()["dfds-pm2021-007"]
    assert row["repo"] in str(err.value) and row["commit"] in str(err.value) and row["path"] in str(err.value)
    (tmp_path / "dfds-pm2021-007.md").write_text("# text")
    assert text_path("dfds-pm2021-007") == tmp_path / "dfds-pm2021-007.md"


def test_ten_thread_fixtures_each_with_a_label_a_human_and_increasing_times() -> None:
    threads = load_threads()
    assert len(threads) >= 10
    labelled = {p.stem for p in LABELS.glob("*.toml")}
    for t in threads:
        assert t.id in labelled
        assert any(not u.get("bot") for u in t.users.values())
        assert 1_500_000_000 < float(t.messages[0].ts) < 1_800_000_000  # real epochs, 2017–2027


def test_a_thread_fixture_out_of_time_order_is_refused(tmp_path: Path) -> None:
    good = (THREADS / "dfds-pm2021-007.json").read_text()
    first, second = re.findall(r'"ts": "([\d.]+)"', good)[:2]
    swapped = tmp_path / "t.json"
    swapped.write_text(good.replace(first, "X").replace(second, first).replace("X", second))
    with pytest.raises(CorpusError, match="unique and increasing"):
        load_thread(swapped)
