"""Hostile answers designed to slip past the gate (issue 13 review): stubs that repeat a heading, runaway tokens,
invisible characters, other templates' tokens, and repairs that keep what was right or say it twice."""

from __future__ import annotations

import pytest

from bot.core.answer.model import Answer
from bot.core.gate import CheckId, build_repair_prompt, check_section
from bot.core.incident.model import visible
from bot.core.sections import CUT_NOTE, SECTION_TITLES, Section, SectionId
from tests.core.gate.reports import GOOD, SUMMARY, A, G, P, R, S, T, good_sections, incident_text, prompt_text, section

ZW = "\u200b"
FIRST_LINE = GOOD[R].splitlines()[0]
HEDGED = "**Primary root cause:** probably the pool, maybe the retries."


def failed(sid: SectionId, body: str) -> set[CheckId]:
    found = check_section(Section(sid, SECTION_TITLES[sid], body), prompt_text=prompt_text(), incident_text=incident_text())
    return {f.check for f in found}


LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore "
         "magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo "
         "consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur.")


# Not analysis, whatever the section: each must be refused as garbage (held back, never shown or spoken).
GARBAGE: dict[str, tuple[SectionId, str, CheckId]] = {
    "own heading twice": (T, "Incident Timeline & Blast Radius. Incident Timeline & Blast Radius.", CheckId.SUBSTANCE),
    "headings as lines": (G, "Testing Gaps Analysis\n" * 4, CheckId.SUBSTANCE),
    "every heading once": (P, "\n".join(SECTION_TITLES.values()), CheckId.SUBSTANCE),
    "one runaway token": (T, "Timeline: " + "a" * 5000 + " happened at the service today", CheckId.SUBSTANCE),
    "base64 blob": (P, "The fix is " + "QUJD" * 800 + " as shown in the logs.", CheckId.SUBSTANCE),
    "deepseek end token": (T, GOOD[T] + "\n<｜end▁of▁sentence｜>", CheckId.TEMPLATE_TOKENS),
    "zero-width token": (T, visible(GOOD[T] + f"\n<|im{ZW}_end|>"), CheckId.TEMPLATE_TOKENS),
    "zero-width loop": (T, visible(" ".join(f"The database connection pool was exhausted by the release{ZW * i}." for i in range(6))),
                        CheckId.REPETITION),
    # Found by the hostile review after issue 21: a counter ticking over one line, the incident pasted back, placeholder
    # text around one cause phrase, template tokens spelt with look-alike characters.
    "steps 1 to 12": (P, "\n".join(f"Step {i}: Check the service." for i in range(1, 13)), CheckId.REPETITION),
    "numbered copies under a good section": (P, GOOD[P] + "\n" + "\n".join(f"{i}. Retry {i * 3} times." for i in range(1, 11)),
                                             CheckId.REPETITION),
    "counter with spacing": (G, "\n".join(f"-   Test   {i}:   run  it  again  ({i * 10} s)" for i in range(1, 7)), CheckId.REPETITION),
    "the incident pasted back": (T, incident_text(), CheckId.ECHO),
    "the incident pasted back under a sentence": (G, "Here is what happened.\n\n" + incident_text(), CheckId.ECHO),
    "lorem ipsum and a cause": (R, "**Primary root cause:** the connection pool was exhausted.\n\n" + LOREM, CheckId.SUBSTANCE),
    "keyboard filler": (G, "Senior Engineer A: " + "asdf qwerty blah " * 8 + "the pool.", CheckId.SUBSTANCE),
    "fullwidth im_end": (T, GOOD[T] + "\n＜|im_end|＞", CheckId.TEMPLATE_TOKENS),
    "cyrillic i in im_start": (T, GOOD[T] + "\n<|іm_start|>assistant", CheckId.TEMPLATE_TOKENS),
    "cyrillic o in eot_id": (T, GOOD[T] + "\n<|eоt_id|>", CheckId.TEMPLATE_TOKENS),
    "look-alike bars": (T, GOOD[T] + "\n<∣im_end∣> <ǀendoftextǀ>", CheckId.TEMPLATE_TOKENS),
    "cyrillic capital I in INST": (T, GOOD[T] + "\n[/ІNST]", CheckId.TEMPLATE_TOKENS),
    "mathematical monospace letters": (T, GOOD[T] + "\n<|𝚒𝚖_𝚎𝚗𝚍|>", CheckId.TEMPLATE_TOKENS),
}


@pytest.mark.parametrize("name", list(GARBAGE))
def test_hostile_garbage_is_refused(name: str) -> None:
    sid, body, check = GARBAGE[name]
    assert check in failed(sid, body)


@pytest.mark.parametrize("sid", list(GOOD))
def test_the_good_report_still_passes_every_check(sid: SectionId) -> None:
    assert failed(sid, GOOD[sid]) == set()


def test_invisible_characters_are_removed_from_model_output_but_emoji_joins_stay() -> None:
    assert visible(f"pool{ZW}\u2060\u202e\ufeff\u00ad size") == "pool size"
    assert visible("👩\u200d💻 on call") == "👩\u200d💻 on call"  # ZWJ inside an emoji sequence is not hidden text


def test_a_summary_cut_at_the_token_limit_fails_its_check() -> None:
    assert CheckId.SUMMARY in failed(A, SUMMARY + CUT_NOTE)


def test_a_repair_may_keep_the_sentences_that_were_right() -> None:
    """The repair prompt quotes the failing text; a rewrite that keeps its good lines is not an echo of the prompt."""
    a = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    weak = GOOD[R].replace(FIRST_LINE, HEDGED)
    for s in good_sections(root_cause=weak):
        a.admit(s)
    result = a.evaluate()
    repair = build_repair_prompt(result, a.sections, incident_text=incident_text())
    assert repair is not None and "multiplying load on the exhausted pool" in repair[1]
    [(fixed, was_shown)] = a.apply_repair([section(R)], result.repair_targets(), "\n".join(repair))
    assert was_shown and fixed.body == GOOD[R] and a.evaluate().passed


def test_a_repair_that_answers_a_section_twice_is_read_once() -> None:
    """Each section once, in the repair as in the answer: a second copy (here garbage) never replaces the first."""
    a = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    for s in good_sections(root_cause=HEDGED + "\n" + GOOD[R].split("\n", 1)[1]):
        a.admit(s)
    loop = " ".join(["The pool was exhausted by the release today."] * 12)
    [(fixed, _)] = a.apply_repair([section(R), section(S, GOOD[S]), section(R, HEDGED + " " + loop)], [R], "")
    assert fixed.body == GOOD[R]


def test_a_repair_of_one_section_answered_without_its_heading_is_taken_for_that_section() -> None:
    a = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    for s in good_sections(root_cause=HEDGED + "\n" + GOOD[R].split("\n", 1)[1]):
        a.admit(s)
    [(fixed, was_shown)] = a.apply_repair([Section(None, "Postmortem (unstructured model output)", GOOD[R])], [R], "")
    assert was_shown and fixed.id is R and fixed.body == GOOD[R] and a.evaluate().passed
    # With two sections asked for, text without headings cannot be placed: nothing is guessed.
    assert a.apply_repair([Section(None, "Postmortem", GOOD[S])], [R, S], "") == []
    # A refusal has no heading either: text that cannot be placed is taken only when it passes every check.
    b = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    for s in good_sections():
        if s.id is not S:
            b.admit(s)
    assert b.apply_repair([Section(None, "Postmortem", "I cannot write tests for this incident, sorry.")], [S], "") == []
    [(placed, was_shown)] = b.apply_repair([Section(None, "Postmortem", GOOD[S])], [S], "")
    assert placed.id is S and not was_shown and b.evaluate().passed


def test_an_answer_without_root_cause_or_tests_is_not_a_postmortem() -> None:
    """Fluent text is not enough: a preamble, or a timeline alone, leaves the digest to stand in."""
    preamble = Section(None, "Postmortem (unstructured model output)",
                       "Sure! Here is my detailed analysis of the checkout incident you shared with me today.")
    for shown in ([preamble], [section(T), section(G)]):
        a = Answer(prompt_text=prompt_text(), incident_text=incident_text())
        for s in shown:
            assert a.admit(s) == []
        assert a.shown == shown and not a.usable
    a = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    for s in good_sections()[:3]:  # cut after the root cause: the tests are missing, the analysis is there
        a.admit(s)
    assert a.usable


@pytest.mark.parametrize("body", [
    "\n".join(f"- {t} UTC: replica {i} restarted after the OOM kill" for i, t in enumerate(["08:52", "08:55", "09:01"])),
    "Use `sed -i` on the config; the integer overflow in the counter is the cause, not the pool.",
    "Привет: сервис оплаты упал после релиза, пул соединений был исчерпан за пять минут.",
    # A crash loop as a timeline shows it: the same event at six different times is six events, not a counter.
    "\n".join(f"- 2025-11-17 09:{m:02d} UTC: payments-api pod restarted (OOMKilled)" for m in (1, 3, 6, 10, 15, 21)),
    "\n".join(f"| 09:{m:02d}:{m:02d} | pod restarted |" for m in range(10, 22)),
])
def test_near_misses_of_the_new_garbage_classes_pass(body: str) -> None:
    """Three numbered lines, "sed" and "integer", Cyrillic prose, one event repeated at different times: none is
    garbage."""
    assert failed(P, body) & {CheckId.REPETITION, CheckId.SUBSTANCE, CheckId.TEMPLATE_TOKENS, CheckId.ECHO} == set()
