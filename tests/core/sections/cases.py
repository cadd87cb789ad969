"""Drifting model outputs and the sections each must parse into."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.sections import SectionId

T, G, R, P, S, A = (
    SectionId.TIMELINE, SectionId.GAPS, SectionId.ROOT_CAUSE,
    SectionId.PREVENTION, SectionId.TEST_SUITE, SectionId.AUDIO_SUMMARY,
)

# Each body carries words no other body has, so exact equality also proves nothing leaked.
BODIES: dict[SectionId, str] = {
    T: "- 14:02 UTC pool-timeout alert fires\n- 14:05 UTC checkout returns 502 for 12% of users",
    G: "Senior Engineer A: the load test never enabled retries.\nSenior Engineer B: staging had 4x the pool.",
    R: "**Primary root cause:** a retry storm exhausted the connection pool.\n\n**Secondary causes (ranked):**\n1. No retry budget",
    P: "1. Add a pool saturation test\n2. Gate deploys on a retry-enabled load test",
    S: "### Test 1: Pool saturation\n**Type:** load\n**Success criteria:** p99 < 200 ms\n\n### Test 2: Retry budget\n**Type:** contract",
    A: "Checkout failed for twelve minutes because retries drained the database pool.",
}
ORDER = [T, G, R, P, S, A]


@dataclass
class Case:
    name: str
    text: str
    expected: list[tuple[SectionId | None, str]]
    preamble: str = ""
    missing: list[SectionId] = field(default_factory=list)


def styled(name: str, headings: list[str], ids: list[SectionId] = ORDER, *, preamble: str = "", sep: str = "\n\n") -> Case:
    """A document with the standard bodies under the given heading lines."""
    parts = [preamble] if preamble else []
    parts += [f"{h}\n{BODIES[sid]}" for h, sid in zip(headings, ids, strict=True)]
    missing = [sid for sid in ORDER if sid not in ids]
    return Case(name, sep.join(parts) + "\n", [(sid, BODIES[sid]) for sid in ids], preamble, missing)


def explicit(name: str, text: str, expected: list[tuple[SectionId | None, str]], **kw: object) -> Case:
    return Case(name, text, expected, **kw)  # type: ignore[arg-type]


def wrapped(opener: str, case: Case) -> Case:
    """The same answer wrapped whole in a fence, as models often send it."""
    return Case(case.name, f"{opener}\n{case.text}```\n", case.expected, case.preamble, case.missing)


CANON = ["Incident Timeline & Blast Radius", "Testing Gap Analysis", "Root Cause Determination",
         "Prevention & Validation Strategy", "Recommended Test Suite", "Audio Summary"]

_INSIDE = ("Summary\nEvery test above runs nightly.\n\n### Investigation\nReplay the pool trace.\n\n**Impact**\n"
           "None in staging.\n\nDiscussion:\nOwned by the platform team.")

CASES: list[Case] = [
    styled("h2-canonical", [f"## {t}" for t in CANON]),
    styled("h1", [f"# {t}" for t in CANON]),
    styled("h4-lowercase", [f"#### {t.lower()}" for t in CANON]),
    styled("h3-uppercase", [f"### {t.upper()}" for t in CANON]),
    styled("bold", [f"**{t}**" for t in CANON]),
    styled("bold-colon-inside", [f"**{t}:**" for t in CANON]),
    styled("bold-colon-outside", [f"**{t}**:" for t in CANON]),
    styled("underscore-bold", [f"__{t}__" for t in CANON]),
    styled("plain-colon", [f"{t}:" for t in CANON]),
    styled("numbered-dot", [f"{i}. {t}" for i, t in enumerate(CANON, 1)]),
    styled("numbered-paren", [f"{i}) {t}" for i, t in enumerate(CANON, 1)]),
    styled("hash-numbered", [f"### {i}. {t}" for i, t in enumerate(CANON, 1)]),
    styled("section-n", [f"Section {i}: {t}" for i, t in enumerate(CANON, 1)]),
    styled("bold-numbered", [f"**{i}. {t}**" for i, t in enumerate(CANON, 1)]),
    styled("emoji-trailing-colon", ["## 📋 Timeline:", "🔍 **Gap Analysis:** ✅", "## 🧨 Root Cause ✅",
                                    "✅ Prevention:", "### 🧪 Test Suite 🧪", "## 🔊 Audio Summary:"]),
    styled("synonyms-a", ["## Blast Radius", "## Gap Analysis", "## Primary Root Cause",
                          "## Action Items", "## Tests to Add", "## TL;DR"]),
    styled("synonyms-b", ["## Impact", "## Test Gap Analysis", "## Root Cause Analysis",
                          "## Validation Strategy", "## Test Suite", "## Voice Summary"]),
    styled("synonyms-c", ["**Incident Timeline**", "**Testing Gaps**", "**Root cause**",
                          "**Prevention Strategy**", "**Recommended Tests**", "**Spoken Summary**"]),
    styled("audio-executive", ["## Timeline", "## Executive Summary"], [T, A]),
    styled("audio-camel", ["## Timeline", "## AudioSummary"], [T, A]),
    styled("audio-bare-summary", ["Timeline:", "Summary:"], [T, A]),
    styled("extra-words", ["## 1. Incident Timeline (UTC) & Blast Radius", "## Testing Gaps: what we missed",
                           "## Root Cause: connection pool exhaustion", "## Prevention and Validation",
                           "## Recommended Test Suite (pytest)", "## Section 6 – Audio Summary (150–200 words)"]),
    styled("out-of-order", ["## Root Cause", "## Audio Summary", "## Timeline", "## Test Suite"], [R, A, T, S]),
    styled("preamble", [f"## {t}" for t in CANON], preamble="Sure! Here is the postmortem you asked for:"),
    styled("title-line-is-preamble", ["## Timeline", "## Root Cause"], [T, R],
           preamble="# Postmortem: checkout outage\n\n## Overview"),
    styled("missing-sections", ["## Timeline", "## Root Cause", "## Test Suite"], [T, R, S]),
    styled("duplicate-sections", ["## Timeline", "## Gaps", "## Timeline"], [T, G, T]),
    styled("crlf", [f"## {t}" for t in CANON], sep="\r\n\r\n"),
    styled("tight-no-blank-lines", [f"## {t}" for t in CANON], sep="\n"),
    styled("rules-between", [f"## {t}" for t in CANON], sep="\n\n---\n\n"),
    styled("mixed-drift", ["📋 **INCIDENT TIMELINE:**", "2) testing gaps", "### 3. Root Cause Analysis:",
                           "Section 4 - Action Items", "#### 5. tests to add ✅", "**6. TL;DR**"]),
    # The original tool's own headings: its "Investigation Discussion" is the engineers' review, our Testing Gap
    # Analysis, and its "Root Cause" the root cause; with and without the two sections it never asked for.
    styled("bold-other-names", ["**Incident Summary**", "**Investigation**", "**Root cause**",
                                "**Prevention Plan**", "**Recommended Tests**", "**Voice Summary**"]),
    styled("original-bold", ["**Incident Summary**", "**Investigation Discussion**", "**Root Cause**", "**Prevention Plan**",
                             "**Recommended Tests**", "**Audio Summary**"]),
    styled("original-only-four", ["## Incident Summary", "## Investigation Discussion", "## Root Cause", "## Prevention Plan"],
           [T, G, R, P]),
    styled("original-hash-numbered", ["## 1. Incident Summary", "## 2. Investigation Discussion", "## 3. Root Cause",
                                      "## 4. Prevention Plan", "## 5. Test Cases", "## 6. Audio Script"]),
    styled("original-caps-colon", ["INCIDENT SUMMARY:", "INVESTIGATION DISCUSSION:", "ROOT CAUSE:", "PREVENTION PLAN:"],
           [T, G, R, P]),
    styled("original-emoji", ["## 📝 Incident Summary", "## 🔍 Investigation Discussion", "## 🎯 Root Cause",
                              "## 🛡️ Prevention Plan", "## 🧪 Test Cases", "## 🔊 Audio Script"]),
    styled("original-bold-numbered-colon", ["**1. Incident Summary:**", "**2. Investigation Discussion:**", "**3. Root Cause:**",
                                            "**4. Prevention Plan:**"], [T, G, R, P]),
    styled("original-lower-h3", ["### incident summary", "### investigation discussion", "### root cause", "### prevention plan"],
           [T, G, R, P]),
    styled("original-ampersand-extras", ["## Incident Summary", "## Investigation & Discussion", "## Root Cause Analysis",
                                         "## Prevention Plan & Recommendations"], [T, G, R, P]),
    styled("original-bold-colon-outside", ["**Incident Summary**:", "**Investigation Discussion**:", "**Root Cause**:",
                                           "**Prevention Plan**:"], [T, G, R, P]),
    styled("original-section-n", ["Section 1: Incident Summary", "Section 2 - Investigation Discussion", "Section 3: Root Cause",
                                  "Section 4 – Prevention Plan"], [T, G, R, P]),
    styled("original-h1-underscore-bold", ["# Incident Summary", "__Investigation Discussion__", "# Root Cause",
                                           "__Prevention Plan__"], [T, G, R, P]),
    styled("h3-numbered-short-names", ["### 1. Timeline", "### 2. Testing Gaps", "### 3. Root Cause",
                                       "### 4. Prevention Plan", "### 5. Recommended Tests", "### 6. Spoken Summary"]),
    styled("colon-lines-short-names", ["Timeline:", "Testing gaps:", "Root cause:", "Prevention plan:",
                                       "Recommended tests:", "Voice summary:"]),
    styled("more-aliases", ["## What Happened", "## What Testing Missed", "## Contributing Factors",
                            "## Remediation", "## Test Plan", "## Narration"]),
    wrapped("```markdown", styled("fenced-markdown-canonical", [f"## {t}" for t in CANON])),
    wrapped("```md", styled("fenced-md-bold-aliases", ["**Incident Summary**", "**Testing Gaps**", "**Root Cause**",
                                                       "**Prevention Plan**", "**Recommended Tests**", "**Spoken Summary**"])),
    explicit(
        "incident-summary-then-timeline",
        "**Incident Summary**\nCheckout failed for 34 minutes.\n\n**Timeline**\n- 14:02 deploy\n\n**Root Cause**\nPool.\n",
        [(T, "Checkout failed for 34 minutes.\n\n**Timeline**\n- 14:02 deploy"), (R, "Pool.")],
        missing=[G, P, S, A],
    ),
    explicit(
        "wrapped-in-markdown-fence",
        "```markdown\n## Timeline\nAlert.\n## Root Cause\nPool.\n```\n",
        [(T, "Alert."), (R, "Pool.")],
        missing=[G, P, S, A],
    ),
    explicit(
        "wrapped-in-md-fence-after-preamble-with-inner-code",
        "Here is the postmortem:\n\n```md\n## Test Suite\n```python\n# Root Cause\nassert pool\n```\n"
        "## Audio Summary\nDone.\n```",
        [(S, "```python\n# Root Cause\nassert pool\n```"), (A, "Done.")],
        preamble="Here is the postmortem:",
        missing=[T, G, R, P],
    ),
    explicit(
        "wrapped-in-bare-fence",
        "```\n**Timeline**\nAlert.\n**Root cause:**\nPool.\n```\n",
        [(T, "Alert."), (R, "Pool.")],
        missing=[G, P, S, A],
    ),
    explicit(
        "wrapped-in-four-backticks-with-bare-inner-fence",
        "````markdown\n## Test Suite\n```\n# Timeline\n```\n## Audio Summary\nDone.\n````\n",
        [(S, "```\n# Timeline\n```"), (A, "Done.")],
        missing=[T, G, R, P],
    ),
    explicit(
        "bare-fence-after-text-is-code-not-a-wrapper",
        "Log excerpt:\n```\n## Timeline\n```\n## Root Cause\nPool.\n",
        [(R, "Pool.")],
        preamble="Log excerpt:\n```\n## Timeline\n```",
        missing=[T, G, P, S, A],
    ),
    explicit(
        "crlf-body",
        "## Timeline\r\n- a\r\n- b\r\n\r\n## Root Cause\r\nPool.\r\n",
        [(T, "- a\n- b"), (R, "Pool.")],
        missing=[G, P, S, A],
    ),
    explicit(
        "code-fence-hash-lines",
        "## Test Suite\n```python\n# Root Cause\n## Timeline\ndef test_pool():\n    pass\n```\n## Audio Summary\nDone.\n",
        [(S, "```python\n# Root Cause\n## Timeline\ndef test_pool():\n    pass\n```"), (A, "Done.")],
        missing=[T, G, R, P],
    ),
    explicit(
        "tilde-fence",
        "## Test Suite\n~~~yaml\n# Prevention\nkind: Job\n~~~\n## Prevention\nAlert.\n",
        [(S, "~~~yaml\n# Prevention\nkind: Job\n~~~"), (P, "Alert.")],
        missing=[T, G, R, A],
    ),
    explicit(
        "sub-headings-stay",
        "## Incident Timeline & Blast Radius\n### Timeline\n- 14:02 alert\n**Impact:**\n40% errors\n"
        "## Testing Gaps\n**Type:**\n### Test 1: Pool saturation\n**Root cause**: the pool was too small\n"
        "2. Recommended tests for the pool\n## Appendix\nnotes\n",
        [(T, "### Timeline\n- 14:02 alert\n**Impact:**\n40% errors"),
         (G, "**Type:**\n### Test 1: Pool saturation\n**Root cause**: the pool was too small\n"
             "2. Recommended tests for the pool\n## Appendix\nnotes")],
        missing=[R, P, S, A],
    ),
    explicit(
        "think-block",
        "<think>\nThe user wants a postmortem. ## Timeline first?\n## Root Cause\n</think>\n\n## Timeline\nAlert.\n"
        "## Root Cause\nPool.<think>hmm\n## Audio Summary\n</think>\n",
        [(T, "Alert."), (R, "Pool.")],
        missing=[G, P, S, A],
    ),
    explicit(
        "stray-think-close",
        "Okay, the pool ran out, so I will write the timeline.\n</think>\nSure:\n## Timeline\nAlert.\n",
        [(T, "Alert.")],
        preamble="Sure:",
        missing=[G, R, P, S, A],
    ),
    explicit(
        "no-headings-raw-fallback",
        "Sure! The pool was exhausted by retries.\n\nWe should add a load test.\n",
        [(None, "Sure! The pool was exhausted by retries.\n\nWe should add a load test.")],
        preamble="Sure! The pool was exhausted by retries.\n\nWe should add a load test.",
        missing=list(ORDER),
    ),
    explicit(
        "empty-sections-and-last-line-heading",
        "## Timeline\n## Root Cause\n\n---\n## Audio Summary",
        [(T, ""), (R, ""), (A, "")],
        missing=[G, P, S],
    ),
    # One-word synonyms ("Summary", "Investigation", "Impact") inside a section, written unlike the answer's own
    # section headings, are that section's text; written like them, they still open their section.
    explicit(
        "one-word-synonyms-inside-the-test-suite",
        "\n\n".join(f"## {t}\n{BODIES[sid]}" for t, sid in zip(CANON[:5], ORDER[:5], strict=True))
        + f"\n\n{_INSIDE}\n\n## Audio Summary\n{BODIES[A]}\n",
        [*[(sid, BODIES[sid]) for sid in ORDER[:4]], (S, f"{BODIES[S]}\n\n{_INSIDE}"), (A, BODIES[A])],
    ),
    explicit(
        "one-word-synonyms-in-a-mixed-style-answer-going-back",
        f"## {CANON[0]}\n{BODIES[T]}\n\n**{CANON[1]}**\n{BODIES[G]}\n\nImpact:\nstill the gap analysis\n\n"
        f"Prevention:\n{BODIES[P]}\n",
        [(T, BODIES[T]), (G, BODIES[G] + "\n\nImpact:\nstill the gap analysis"), (P, BODIES[P])],
        missing=[R, S, A],
    ),
    styled("one-word-synonyms-as-the-answers-own-headings", ["Timeline", "Investigation", "Root Cause", "Prevention",
                                                            "Test Suite", "Summary"]),
]

assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
