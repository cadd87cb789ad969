"""Speech helpers: markdown -> speakable prose, word counts, and the model-free summary."""

from __future__ import annotations

import pytest

from bot.core.sections import Section, SectionId
from bot.core.sections.parse import parse_sections
from bot.core.speech.text import (
    clean_for_speech,
    deterministic_summary,
    needs_summary_fallback,
    word_count,
)

RICH_REPORT = """## Root Cause
The connection pool was exhausted because client retries multiplied load. The pool held 10 connections for 40 workers. Nobody had load tested the retry path.
## Incident Timeline
- 14:02 UTC alerts fired on pool timeouts.
- 14:05 UTC checkout error rate reached 40 percent.
- 14:30 UTC the deploy was rolled back.
## Testing Gaps
Senior Engineer A: We never tested the pool under retry load. Senior Engineer B: The staging pool was twice as large as production. The canary only checked the health endpoint. Integration tests mocked the database entirely. Nobody owned the retry configuration.
## Prevention
Add a pool saturation alert at 80 percent. Gate deploys on a load test with retries enabled. Align staging pool sizes with production. Add a retry budget to the client. Review the canary checks quarterly.
## Recommended Test Suite
### Test 1: Pool saturation under retries
**Type:** load
### Test 2: Retry budget contract
**Type:** contract
```python
def test_pool_saturation(): ...
```
"""  # noqa: E501 - one line per paragraph on purpose: clean_for_speech turns a line break into a sentence break


def test_strips_markdown_into_sentences() -> None:
    md = "## 📋 Timeline\n- **14:02 UTC** alerts fire\n* _pool_ is *full*\n1. Roll back\n\n> Users saw errors\n\nSee ~~old~~ plan"
    assert clean_for_speech(md) == "Timeline. 14:02 UTC alerts fire. pool is full. Roll back. Users saw errors. See old plan."


def test_removes_urls_code_and_slack_markup() -> None:
    md = (
        "Check <https://status.example.com|the status page> and <https://x.example.com> with <@U123> :fire:.\n"
        "Dashboard: https://grafana.example.com/d/abc?x=1 and [runbook](https://wiki/x), ![img](a.png).\n"
        "Set `pool_size` higher.\n\n```python\n# Root Cause\nprint('hi')\n```\n~~~\nkubectl get pods\n~~~\nDone."
    )
    spoken = clean_for_speech(md)
    for leaked in ("http", "www", "<", ">", "`", "pool_size", "print", "kubectl", "Root Cause", ":fire:", "[", "("):
        assert leaked not in spoken
    assert "the status page" in spoken and "runbook" in spoken and spoken.endswith("Done.")
    assert "Set pool size higher." in spoken  # inline code keeps its words


def test_tables_and_rules() -> None:
    md = "| time | event |\n|---|:---:|\n| 14:02 | alert |\n\n---\n\nAfter."
    assert clean_for_speech(md) == "time, event. 14:02, alert. After."


def test_keeps_snake_case_times_and_crlf_paragraphs() -> None:
    assert clean_for_speech("At 10:30:00 the db_pool_size\r\nwas low") == "At 10:30:00 the db_pool_size was low."


def test_word_count() -> None:
    assert word_count("") == 0
    assert word_count("The pool's size — 10, not 40 — was wrong.") == 8
    assert word_count("re-run the p99 check") == 4


def test_needs_summary_fallback() -> None:
    short = Section(SectionId.AUDIO_SUMMARY, "Audio Summary", "**Pool** ran out. " * 5)
    long = Section(SectionId.AUDIO_SUMMARY, "Audio Summary", "The pool ran out. " * 20)
    assert needs_summary_fallback(None)
    assert needs_summary_fallback(short)  # 15 words
    assert not needs_summary_fallback(long)
    assert not needs_summary_fallback(short, min_words=15)


def test_deterministic_summary_lands_in_range_from_rich_sections() -> None:
    summary = deterministic_summary(parse_sections(RICH_REPORT))
    assert 150 <= word_count(summary) <= 200
    # Each topic contributes, in speaking order, with the test names from the suite.
    order = ["connection pool was exhausted", "14:02 UTC", "Senior Engineer A", "pool saturation alert",
             "Pool saturation under retries and Retry budget contract"]
    positions = [summary.index(s) for s in order]
    assert positions == sorted(positions)
    assert "#" not in summary and "**" not in summary and "`" not in summary


def test_deterministic_summary_trims_to_the_ceiling() -> None:
    long_body = " ".join(f"Fact number {i} about the pool is recorded here." for i in range(100))
    sections = [Section(sid, "x", long_body) for sid in (SectionId.ROOT_CAUSE, SectionId.TIMELINE, SectionId.GAPS)]
    assert 150 <= word_count(deterministic_summary(sections)) <= 200
    one_huge_sentence = [Section(SectionId.ROOT_CAUSE, "x", "The pool " + "and the retries " * 150 + "failed.")]
    assert 150 <= word_count(deterministic_summary(one_huge_sentence)) <= 200


@pytest.mark.parametrize("sections", [[], [Section(SectionId.TIMELINE, "Timeline", "")]])
def test_deterministic_summary_never_empty_and_never_invents(sections: list[Section]) -> None:
    summary = deterministic_summary(sections)
    assert summary and "The full written postmortem is in the thread." in summary
    assert word_count(summary) <= 200


def test_deterministic_summary_with_little_material_uses_only_it_and_the_template() -> None:
    summary = deterministic_summary([Section(SectionId.ROOT_CAUSE, "Root", "A retry storm drained the pool.")])
    assert "Root cause: A retry storm drained the pool." in summary
    assert word_count(summary) < 150  # not padded with made-up facts


def test_test_names_from_function_names_when_no_subheadings() -> None:
    body = "```python\ndef test_pool_saturation():\n    ...\n```\nAlso `test_retry_budget`."
    summary = deterministic_summary([Section(SectionId.TEST_SUITE, "Tests", body)])
    assert "Recommended tests: pool saturation and retry budget." in summary


def test_custom_target_range() -> None:
    summary = deterministic_summary(parse_sections(RICH_REPORT), target_words=(60, 80))
    assert 60 <= word_count(summary) <= 80


def test_template_padding_never_overshoots_the_ceiling() -> None:
    forty = "The pool " + "and the retries " * 12 + "failed."  # 41 words, so 56 with intro and closing
    summary = deterministic_summary([Section(SectionId.ROOT_CAUSE, "Root", forty)], target_words=(60, 65))
    assert 60 <= word_count(summary) <= 65


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("Raise `pool_size` to 40.", "Raise pool size to 40."),
        ("Run `kubectl rollout undo` first.", "Run kubectl rollout undo first."),
        ("Set ``max_conn_per_host`` lower", "Set max conn per host lower."),
        ("The token [REDACTED:slack-token] leaked.", "The token leaked."),
        ("Mail [REDACTED:email], key `[REDACTED:aws-access-token]`.", "Mail, key."),
        ("Done.<|im_end|>", "Done."),
        ("<|im_start|>assistant\nThe pool was full.<|im_end|>", "The pool was full."),
        ("The pool was full.<|eot_id|><|endoftext|>", "The pool was full."),
        ("<start_of_turn>model\nRetries doubled load.<end_of_turn>", "Retries doubled load."),
        ("Roll back.</s>", "Roll back."),
        ("<s>[INST] <<SYS>>Summarise.<</SYS>> [/INST] Pool exhausted.", "Summarise. Pool exhausted."),
        ("Pool exhausted.<｜end▁of▁sentence｜>", "Pool exhausted."),
        ("Pool <|reserved_special_token_3|>exhausted.", "Pool exhausted."),
        ("The user said so.", "The user said so."),  # role words are only dropped right after a template token
        ("if a <b and c> d", "if a <b and c> d."),  # angle brackets that are not template tokens stay
    ],
)
def test_placeholders_and_template_tokens_are_never_spoken_and_code_keeps_its_words(markdown: str, spoken: str) -> None:
    assert clean_for_speech(markdown) == spoken


@pytest.mark.parametrize(
    ("markdown", "spoken"),
    [
        ("***Pool** was _really_ full*", "Pool was really full."),  # nested emphasis
        ("__*both*__ and ~~**struck**~~", "both and struck."),
        ("See [the [old] runbook](https://wiki/x) now", "See the [old] runbook now."),  # brackets inside a link
        ("See [runbook](<https://wiki/a b>) and ![graph](g.png \"p99\")", "See runbook and."),
        ("<https://x.example.com> and <ops@example.com>", "and."),  # autolinks: nothing to say
        ("Check <https://status.example.com|the *status* page>", "Check the status page."),  # Slack link, marked up label
        ("Ask <@U123|alice> in <#C1|ops> <!here>", "Ask alice in ops."),  # a labelled mention says its name
        ("Stop :fire: :white_check_mark: now 🎉", "Stop now."),  # shortcodes and emoji are not read
        ("2 * 3 = 6 and a_b_c", "2 * 3 = 6 and a_b_c."),  # a lone star and inner underscores are text
        ("Intro\n\n```\n# not a heading\n```\n\n    indented words\n\nEnd", "Intro. indented words. End."),
        ("~~~\nunclosed fence\n## hidden", ""),  # an unclosed fence runs to the end
        ("| a | **b** |\n|---|---|\n| `x_y` | |\n| | |", "a, b. x y."),  # table rows, empty cells skipped
        ("1. First\n   - nested *item*\n2. Second", "First. nested item. Second."),
        ("> quoted\n> > deeper", "quoted. deeper."),
        ("Title\n=====\nbody &amp; more", "Title. body & more."),
        ("A \\*literal\\* star", "A *literal* star."),
    ],
)
def test_markdown_is_read_as_a_tree(markdown: str, spoken: str) -> None:
    assert clean_for_speech(markdown) == spoken
