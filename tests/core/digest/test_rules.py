"""The rules file: a broken entry is named in one line; a new class needs no code; every bundled class detects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.digest import RulesError, build_digest, default_rules, load_rules, render_markdown
from bot.core.digest.rules import RULES_PATH
from bot.core.incident.model import Incident, Message
from bot.errors import ConfigError

_TEST = """[failure.test]
type = "load test"
scope = "svc"
fault_injection = "x"
success_criteria = "p99 below 500 ms"
"""


def _entry(id: str = "pool", patterns: str = "['exhausted']", examples: str = "['pool exhausted']", test: str = _TEST) -> str:
    return f'[[failure]]\nid = "{id}"\ntitle = "T"\npatterns = {patterns}\nexamples = {examples}\n{test}'


BROKEN: list[tuple[str, str, str]] = [
    # (case, file text, what the one-line error must say)
    (
        "bad regex",
        _entry("pool") + _entry("dns", "['ok', '(unclosed']", "['ok']"),
        r'\[\[failure\]\] #2 \("dns"\), field patterns: patterns\[1\] .* not a valid regex',
    ),
    (
        "criterion without number",
        _entry(test=_TEST.replace("p99 below 500 ms", "fast enough")),
        r'#1 \("pool"\), field test\.success_criteria: needs a number',
    ),
    ("test missing", _entry(test=""), r'#1 \("pool"\), field test: Field required'),
    ("empty patterns", _entry(patterns="[]"), r'#1 \("pool"\), field patterns: .*at least 1'),
    ("bad id", _entry(id="Pool Exhaustion"), r'#1 \("Pool Exhaustion"\), field id'),
    ("unknown key", _entry() + 'severity = "high"\n', r'#1 \("pool"\), field test\.severity: Extra inputs'),
    ("example not matched", _entry(examples="['pool is fine']"), r"""#1 \("pool"\): example 'pool is fine' is matched by none"""),
    ("example negated", _entry(examples="['no pool exhausted here']"),
     r"""#1 \("pool"\): example 'no pool exhausted here' is judged not evidence"""),
    ("counter-example taken", _entry(examples="['pool exhausted']\ncounter_examples = ['the pool exhausted twice']"),
     r"""#1 \("pool"\): counter-example 'the pool exhausted twice' is taken as evidence"""),
    ("duplicate id", _entry() + _entry(), r'failure id "pool" appears twice'),
    ("bad event kind", '[[event]]\nkind = "party"\npatterns = ["x"]\n' + _entry(), r'\[\[event\]\] #1 \("party"\), field kind'),
    ("no failures", 'components = ["redis"]\n', r"rules\.toml: failure: Field required"),
    ("not toml", "[[failure]\nid = ", r"not valid TOML"),
]


@pytest.mark.parametrize(("case", "text", "message"), BROKEN, ids=[c for c, _, _ in BROKEN])
def test_broken_rules_file_gives_one_clear_line(case: str, text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    line = str(err.value)
    assert "\n" not in line and re.search(message, line), line
    assert isinstance(err.value, ConfigError) and err.value.fix and str(path) in err.value.fix


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the digest rules"):
        load_rules(tmp_path / "absent.toml")


def test_a_new_class_needs_only_the_data_file(tmp_path: Path) -> None:
    extra = """
[[failure]]
id = "leap-second"
title = "Leap second"
patterns = ['leap second (?:smear|insertion|bug)']
examples = ['the leap second smear stalled the scheduler']
counter_examples = ['no leap second this year']
[failure.test]
type = "clock fault test"
scope = "time-dependent jobs"
fault_injection = "insert a leap second on a staging node"
success_criteria = "0 stalled jobs and clock skew below 100 ms"
"""
    path = tmp_path / "rules.toml"
    path.write_text(RULES_PATH.read_text(encoding="utf-8") + extra, encoding="utf-8")
    incident = Incident([Message("ana", "the leap second smear stalled the scheduler at 00:00")])
    assert "leap-second" not in {f.id for f in build_digest(incident).failures}
    digest = build_digest(incident, rules=load_rules(path))
    assert [f.id for f in digest.failures] == ["leap-second"]
    assert "Leap second" in render_markdown(digest)


_BUNDLED = default_rules().failures


@pytest.mark.parametrize("failure", _BUNDLED, ids=[f.rule.id for f in _BUNDLED])
def test_every_bundled_class_is_detected_from_its_examples(failure: object) -> None:
    rule = failure.rule  # type: ignore[attr-defined]
    for example in rule.examples:
        digest = build_digest(Incident([Message("oncall", example)]))
        found = {f.id: f for f in digest.failures}
        assert rule.id in found, example
        assert found[rule.id].evidence == example
        test = found[rule.id].test
        assert all((test.type, test.scope, test.fault_injection)) and re.search(r"\d", test.success_criteria)


def test_bundled_rules_cover_the_required_classes() -> None:
    ids = {f.rule.id for f in _BUNDLED}
    assert len(ids) >= 18
    required = {"connection-pool-exhaustion", "retry-storm", "cache-stampede", "oomkilled", "crashloopbackoff", "probe-failure",
                "config-drift", "bad-rollout", "flaky-test", "timeout-chain", "certificate-expiry", "disk-full", "dns-failure",
                "rate-limiting", "lock-contention", "queue-backlog", "dependency-outage", "schema-migration"}
    assert required <= ids


def test_a_replacement_file_without_scope_uses_the_bundled_cues(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(_entry(), encoding="utf-8")
    rules = load_rules(path)
    assert [f.rule.id for f in rules.failures] == ["pool"]
    assert [h.failure.rule.id for h in rules.hits("the pool exhausted twice")] == ["pool"]
    assert list(rules.hits("the pool looked fine, not exhausted")) == []  # the bundled negation cues
