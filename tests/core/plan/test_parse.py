"""Golden tests of the plan parser: the same three tests written in every shape a model uses, and the vocabulary."""

from __future__ import annotations

import pytest

from bot.core.plan.build import gaps
from bot.core.plan.parse import parse_suite
from bot.core.plan.vocab import kind_of, labelled, priority

# (name, type word as written, scope, fault injection, success criteria)
GOLDEN = [
    ("Connection-pool saturation", "load", "checkout-api at full replicas", "cap DB connections at 100", "p99 < 300 ms"),
    ("Retry storm", "chaos", "outbound client retries", "upstream returns 503 for 60 s", "error rate under 5%"),
    ("Timeout config", "contract", "gateway client config", "none; reads the configured value", "timeout >= 3x p95 (1860 ms)"),
]

SUB_HEADINGS = "\n\n".join(
    f"### Test {i}: {n}\n- **Type:** {t}\n- **Scope:** {s}\n- **Fault injection:** {f}\n- **Success criteria:** {c}"
    for i, (n, t, s, f, c) in enumerate(GOLDEN, 1))
HEADINGS_WITH_LINES = "\n\n".join(
    f"#### {n}\n**Type:** {t}  \n**Scope:** {s}  \n**Fault injection:** {f}  \n**Success criteria:** {c}" for n, t, s, f, c in GOLDEN)
BOLD_TITLES = "\n\n".join(
    f"**{n}**\nType: {t}\nScope: {s}\nFault injection: {f}\nSuccess criteria: {c}" for n, t, s, f, c in GOLDEN)
TABLE = "Tests to add:\n\n| Test | Type | Scope | Fault injection | Success criteria |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {n} | {t} | {s} | {f} | {c} |" for n, t, s, f, c in GOLDEN)
TABLE_NAME_COLUMN_LATER = "| Kind | Name | Scope | Fault | Pass criteria |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {t} | {n} | {s} | {f} | {c} |" for n, t, s, f, c in GOLDEN)
NUMBERED_NESTED = "\n".join(
    f"{i}. **{n}** ({t})\n   - Scope: {s}\n   - Fault injection: {f}\n   - Success criteria: {c}" for i, (n, t, s, f, c) in enumerate(GOLDEN, 1))
BULLETS_INLINE = "\n".join(
    f"- `{n}` — Type: {t}; Scope: {s}; Fault injection: {f}; Success criteria: {c}" for n, t, s, f, c in GOLDEN)
NUMBERED_INLINE_BOLD = "\n".join(
    f"{i}. **{n}** — **Type:** {t} **Scope:** {s} **Fault injection:** {f} **Success criteria:** {c}"
    for i, (n, t, s, f, c) in enumerate(GOLDEN, 1))
BULLET_FIELDS_UNDER_BOLD = "\n\n".join(
    f"**Test {i}. {n}**\n\n- Type: {t}\n- Scope: {s}\n- Fault injection: {f}\n- Success criteria: {c}\n\nWhy: it would have paged us."
    for i, (n, t, s, f, c) in enumerate(GOLDEN, 1))


@pytest.mark.parametrize("markdown", [SUB_HEADINGS, HEADINGS_WITH_LINES, BOLD_TITLES, TABLE, TABLE_NAME_COLUMN_LATER,
                                      NUMBERED_NESTED, BULLETS_INLINE, NUMBERED_INLINE_BOLD, BULLET_FIELDS_UNDER_BOLD],
                         ids=["sub-headings", "heading-lines", "bold-titles", "table", "table-name-later", "numbered-nested",
                              "bullets-inline", "numbered-inline-bold", "bullets-under-bold"])
def test_every_shape_gives_the_same_three_complete_tests(markdown: str) -> None:
    drafts = parse_suite(markdown)
    got = [(d.name, d.fields.get("type"), d.fields.get("scope"), d.fields.get("fault_injection"), d.fields.get("success_criteria"))
           for d in drafts]
    assert got == GOLDEN
    assert gaps(drafts) == []


def test_a_group_heading_gives_its_type_to_the_tests_listed_under_it() -> None:
    drafts = parse_suite("### Load tests\n- `test_pool` — cap the pool and replay 2x peak\n- `test_headroom` — 2x traffic for 30 min\n")
    assert [(d.name, d.default_type) for d in drafts] == [("test_pool", "Load tests"), ("test_headroom", "Load tests")]
    assert gaps(drafts) == [f"{n}: {f}" for n in ("test_pool", "test_headroom") for f in ("scope", "fault_injection", "success_criteria")]


def test_a_group_heading_over_sub_headings_is_not_a_test() -> None:
    body = ("## Load tests\n\n### Pool saturation\n- Scope: api\n\n### Headroom\n- Scope: pods\n\n"
            "## Other\n\n### Contract check\n- Type: contract\n")
    drafts = parse_suite(body)
    assert [(d.name, d.default_type) for d in drafts] == [("Pool saturation", "Load tests"), ("Headroom", "Load tests"),
                                                          ("Contract check", "Other")]
    assert [g for g in gaps(drafts) if g.endswith(": type")] == []


@pytest.mark.parametrize(("markdown", "names"), [
    ("1. **Integration test: slow gateway** — Inject 700 ms latency; expect p99 < 2 s.\n"
     "2. **Load Test – Connection Pool Saturation**: Simulate 2x traffic.",
     [("Integration test: slow gateway", "integration"), ("Load Test – Connection Pool Saturation", "load")]),
    ("- **Chaos test**: kill the primary DB, expect failover under 30 s", [("Chaos test", "chaos")]),
    ("1. Load test: replay 2x peak traffic against checkout with the pool capped at 100", [("Load test", "load")]),
    ("- `test_pool_timeout` — the pool raises after 2 s instead of hanging for the whole request", [("test_pool_timeout", None)]),
])
def test_free_form_items_give_their_names_and_named_types(markdown: str, names: list[tuple[str, str | None]]) -> None:
    assert [(d.name, kind_of(d.name) or kind_of(d.fields.get("type", ""))) for d in parse_suite(markdown)] == names


def test_code_functions_and_description_bullets_are_tests_without_fields() -> None:
    body = ("```python\ndef test_checkout_survives_slow_gateway(fake_gateway):\n    ...\n\nasync def test_timeout_meets_slo():\n"
            "    ...\n```\n- `test_canary_gates_on_p99` — a synthetic deploy with slow responses must be halted by the canary.")
    assert [d.name for d in parse_suite(body)] == ["test_checkout_survives_slow_gateway", "test_timeout_meets_slo", "test_canary_gates_on_p99"]


def test_example_code_and_prose_under_a_test_stay_with_it() -> None:
    body = ("### Pool saturation (load)\n- Scope: api\n- Fault injection: cap the pool\n- Success criteria: p99 < 300 ms\n\n"
            "Steps:\n\n- start a load run\n- watch the pool\n\n```python\ndef test_pool():\n    pass\n```\n")
    drafts = parse_suite(body)
    assert [(d.name, d.fields["type"]) for d in drafts] == [("Pool saturation", "load")]


def test_prose_without_tests_gives_nothing() -> None:
    assert parse_suite("We should test more, especially the gateway.\n\n### Notes\nNothing else.") == []


def test_incomplete_tests_name_each_missing_field() -> None:
    drafts = parse_suite("### Pool saturation\n- Type: load\n- Scope: api\n\n### Gateway check\n- Success criteria: 0 errors")
    assert gaps(drafts) == ["Pool saturation: fault_injection", "Pool saturation: success_criteria",
                            "Gateway check: type", "Gateway check: scope", "Gateway check: fault_injection"]


def test_a_value_continued_on_the_next_line_is_kept_whole() -> None:
    drafts = parse_suite("### Pool\n- Type: load\n- Success criteria: p99 < 300 ms\n  and no pool timeouts")
    assert drafts[0].fields["success_criteria"] == "p99 < 300 ms and no pool timeouts"


@pytest.mark.parametrize(("words", "expected"), [
    ("load", "load"), ("Load test", "load"), ("performance", "load"), ("stress / soak", "load"), ("k6", "load"),
    ("fault injection", "chaos"), ("resilience", "chaos"), ("Chaos engineering", "chaos"), ("failover drill", "chaos"),
    ("contract", "contract"), ("Pact consumer test", "contract"), ("schema check", "contract"),
    ("canary analysis", "canary"), ("progressive delivery gate", "canary"),
    ("end-to-end", "e2e"), ("E2E", "e2e"), ("synthetic monitoring", "e2e"), ("browser journey", "e2e"),
    ("integration", "integration"), ("component test", "integration"), ("unit", "unit"), ("property-based", "unit"),
    ("integration test of the load balancer", "integration"), ("regression", None), ("", None),
])
def test_free_type_words_map_to_the_seven_types(words: str, expected: str | None) -> None:
    assert kind_of(words) == expected


@pytest.mark.parametrize(("text", "expected"), [("P1", 1), ("high", 1), ("1", 1), ("P0 (critical)", 1), ("medium", 2),
                                                ("P2", 2), ("low", 3), ("3 - later", 3), ("9", 3), ("whenever", None)])
def test_priority_words(text: str, expected: int | None) -> None:
    assert priority(text) == expected


def test_labels_split_a_line_into_fields_and_a_lead() -> None:
    lead, fields = labelled("Pool check — Kind: load; Target: api, Inject: 2x peak; Passes when: p99 < 300 ms; Priority: P1")
    assert lead == "Pool check"
    assert fields == {"type": "load", "scope": "api", "fault_injection": "2x peak", "success_criteria": "p99 < 300 ms", "priority": "P1"}
