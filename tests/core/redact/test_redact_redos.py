"""Hostile inputs redact in linear time: a regex blow-up would hold the GIL and freeze the bot's event loop.

Each input once took seconds (the first four as measured by a hostile tester, the rest aim at the name/value,
table and YAML rules). CPU time, not wall time, so a busy machine does not fail the test; the bound is generous
(linear runs take ~0.02 s) but far under the seconds a quadratic or exponential path takes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core.redact import gitleaks, redact, spanning

_B64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 2300
_BOUND_S = 0.5

HOSTILE = {
    "email-dotted-domain": "x@" + "a." * 20_000 + "!",
    "okta-keyword-run": "okta1" * 400,
    "sumo-keyword-run": "sumoa-" * 1_700,
    "cohere-base64-blob": "cohere: " + _B64[:80_000],
    "url-many-ats": "postgres://u:" + "p@" * 20_000 + "!",
    "url-long-password": "redis://:" + "a/" * 20_000,
    "table-many-pipes": "| password |" + " x |" * 10_000 + "\n|---|\n" + "| a |" * 5_000,
    "yaml-colon-lines": "password:\n" + " x:\n" * 10_000,
    "json-name-runs": '{"name": "API_TOKEN", ' * 3_000,
    "key-value-run": "password=" + "a&b" * 10_000,
    "private-key-escapes": "-----BEGIN PRIVATE KEY-----" + "\\n" * 20_000 + "!",
    "zero-width-run": "pass\u200dword=" + "\u200b" * 20_000 + "x1",
    # the spanning forms: many heredoc markers, an unended body, unclosed elements and braces, continued lines
    "cpp-shift-operators": "std::cout << x << y;\n" * 5_000,
    "heredoc-unended": "password = <<EOT\n" + "line\n" * 20_000,
    "heredoc-markers-run": "token = <<EOT " * 5_000,
    "xml-unclosed-values": "<name>db.password</name><value>" + "a " * 20_000,
    "xml-attribute-run": '<p name="password" ' + 'x="1" ' * 10_000,
    "connection-braces": ";Password={" + "}}" * 20_000,
    "connection-semicolons": "Password=" + "a b " * 10_000 + ";",
    "continued-lines": "mysql -u root \\\n" * 5_000 + "-pX",
    "nested-json-unclosed": '{"password": {' + '"a": "b", ' * 5_000,
    "nested-yaml-deep": "password:\n" + "  x: y\n" * 5_000,
}


@pytest.fixture(scope="module", autouse=True)
def _rules_loaded() -> None:
    gitleaks.load()  # built once per process; not part of the timing
    gitleaks.load(spanning.DATA_FILE)


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_input_redacts_in_linear_time(text: str) -> None:
    start = time.process_time()
    redact(text)
    assert time.process_time() - start < _BOUND_S


@pytest.mark.parametrize("table", [gitleaks.DATA_FILE, spanning.DATA_FILE], ids=["gitleaks", "spanning"])
def test_rules_run_on_re2(table: Path) -> None:
    """Every rule of both tables compiles on the linear-time engine; a fallback to `re` would bring the blow-ups back."""
    on_backtracking = [rule.id for rule in gitleaks.load(table).rules if rule.regex.__class__.__module__ == "re"]
    assert on_backtracking == []
