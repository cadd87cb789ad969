"""A section's preview while it is typed shows only what the redaction and the gate cannot take back later."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.core.answer.preview import PREVIEW_LIMIT, Previewer, Retract, Show, Verdict
from bot.core.sections import SectionId
from tests.core.redact.secret_cases import POSITIVE

BEFORE = "The deploy at 10:42 broke checkout for every user in the EU region.\n"
AFTER = "\nAfter that the rollback fixed it within four minutes.\nEnd of the section here.\n"


def clean(section_id: SectionId, text: str) -> Verdict:
    return Verdict.CLEAN


def typed(text: str, judge: Callable[[SectionId, str], Verdict] = clean,
          cite: Callable[[str], str] = lambda line: line) -> tuple[list[str], int]:
    """Every preview body shown while ``text`` is typed one character at a time, and the retractions."""
    preview = Previewer(SectionId.TIMELINE, judge, cite)
    shown: list[str] = []
    retracts = 0
    for end in range(1, len(text) + 1):
        step = preview.advance(text[:end])
        if isinstance(step, Show):
            assert step.body.startswith(shown[-1] if shown else ""), "a preview only ever grows"
            shown.append(step.body)
        elif isinstance(step, Retract):
            retracts += 1
    return shown, retracts


def test_whole_lines_only_and_the_last_one_waits_for_the_next() -> None:
    shown, _ = typed("line one of the timeline\nline two of it\nline thr")
    assert shown == ["line one of the timeline"]
    shown, _ = typed("line one of the timeline\nline two of it\nline three\n")
    assert shown == ["line one of the timeline", "line one of the timeline\nline two of it"]
    assert typed("password:\n  hunter2-is-secret\nnext line\n")[0] == ["password:", "password:\n  [REDACTED:password]"]


@pytest.mark.parametrize("case", POSITIVE, ids=[c.id for c in POSITIVE])
@pytest.mark.parametrize("where", ["first", "middle"])
def test_no_secret_form_is_ever_shown_while_typed(case: object, where: str) -> None:
    """Every secret form the redaction knows, one- and multi-line (YAML value on the next line, key blocks, k8s
    Secrets whose kind comes last), typed a character at a time: never in any preview body."""
    text, secret = case.text, case.secret  # type: ignore[attr-defined]
    shown, _ = typed(("" if where == "first" else BEFORE) + text + AFTER)
    assert not [body for body in shown if secret in body]


def test_a_private_key_block_is_shown_as_its_placeholder_never_line_by_line() -> None:
    body = "MIIEowIBAAKCAQEAx7Zq9c3T4s8Xw1b2C3d4E5f6G7h8I9j0"
    key = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join([body] * 4) + "\n-----END RSA PRIVATE KEY-----\n"
    shown, _ = typed(BEFORE + key + AFTER)
    assert not [b for b in shown if body[:8] in b or "BEGIN" in b]
    assert shown[-1].startswith(BEFORE + "[REDACTED:private-key]") and "After that the rollback" in shown[-1]


def test_a_paragraph_is_shown_sentence_by_sentence() -> None:
    shown, _ = typed("The pool ran dry at 10:42. Retries tripled the load! Was it tested? No test covered it. And")
    assert shown == ["The pool ran dry at 10:42.", "The pool ran dry at 10:42. Retries tripled the load!",
                     "The pool ran dry at 10:42. Retries tripled the load! Was it tested?"]


def test_a_later_line_that_changes_a_shown_one_retracts_the_preview() -> None:
    """JSON fields without their object's braces, broken by a blank line, name the secret lines after the value: the
    value line was shown (its run of key/value lines had ended, no object was open), then turns out to be secret.
    (Whole objects, fenced or not, and a Secret's data never show: tests/core/answer/test_preview_hostile.py.)"""
    ssm = ' "Value": "s3cr3t-Value-42",\n\n "Type": "SecureString",\n "Version": 3,\n "Name": "/prod/db/password"\n'
    shown, retracts = typed(ssm + AFTER)
    assert shown and retracts == 1
    assert typed("apiVersion: v1\n" + AFTER)[1] == 0


def test_garbage_retracts_and_a_stub_waits() -> None:
    def judge(section_id: SectionId, text: str) -> Verdict:
        if "loop" in text:
            return Verdict.GARBAGE
        return Verdict.STUB if len(text.split()) < 6 else Verdict.CLEAN

    shown, retracts = typed("Problems:\nthe pool ran dry at 10:42 on db-primary\nloop\nloop\nmore\n", judge)
    assert shown == ["Problems:\nthe pool ran dry at 10:42 on db-primary"] and retracts == 1
    # Garbage before anything was shown: nothing to take back.
    assert typed("loop\nloop\nloop\n", judge) == ([], 0)


def test_citations_are_cleaned_per_line_and_the_preview_stops_at_its_limit() -> None:
    shown, _ = typed("Deploy [m1] then [m99]\nnext line\n", cite=lambda line: line.replace(" [m99]", ""))
    assert shown == ["Deploy [m1] then"]
    long_line = "x" * 1000
    shown, _ = typed("\n".join([long_line] * (PREVIEW_LIMIT // 1000 + 3)) + "\n")
    assert len(shown[-1]) <= PREVIEW_LIMIT and len(shown) == PREVIEW_LIMIT // 1001
