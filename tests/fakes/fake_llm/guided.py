"""A small model that trusts the digest's guide: it names the guide's first candidate failure class as the primary
root cause (citing the candidate's evidence id) and the others as secondary causes; with no candidate it says the
cause is unknown. The rest is ``gate_passing_report()``, so what differs between runs is only what the guide said."""

from __future__ import annotations

import re
from typing import Any

from bot.core.digest.render import CANDIDATE
from bot.core.sections import SECTION_TITLES, SectionId
from tests.fakes.fake_llm.gated_report import gate_passing_report
from tests.fakes.fake_llm.replies import Reply, user_prompt

# "- candidate failure class (…): Certificate expiry (evidence: …) [m4]"
_CANDIDATE = re.compile(rf"^- {re.escape(CANDIDATE)}: (?P<title>.+?) \(evidence: .*?\)(?: \[(?P<id>m\d+)\])?$", re.MULTILINE)
_ROOT = re.compile(rf"(## {re.escape(SECTION_TITLES[SectionId.ROOT_CAUSE])}\n\n).*?(?=\n## )", re.DOTALL)


def candidates(prompt: str) -> list[tuple[str, str | None]]:
    """(class title, evidence id) of each candidate line of the guide in ``prompt``, in the guide's order."""
    return [(m.group("title"), m.group("id")) for m in _CANDIDATE.finditer(prompt)]


def guided_root_cause(prompt: str) -> str:
    found = candidates(prompt)
    if not found:
        return ("**Primary root cause:** unknown: the messages do not say which failure started the incident [m1].\n\n"
                "**Secondary causes (ranked):**\n1. No alert named the failing component.\n2. No test covered the path that failed.")
    (title, cited), *rest = found
    secondary = [f"{n}. {t}{f' [{i}]' if i else ''}." for n, (t, i) in enumerate(rest[:3], start=1)] or ["1. No alert caught it earlier."]
    return f"**Primary root cause:** {title}{f' [{cited}]' if cited else ''}.\n\n**Secondary causes (ranked):**\n" + "\n".join(secondary)


def echo_guide(*, times: int = 1) -> Reply:
    """The reply of a model that takes the guide's candidates as its finding (see the module's doc)."""

    def render(body: Any) -> str:
        root = guided_root_cause(user_prompt(body))
        return _ROOT.sub(lambda m: m.group(1) + root + "\n", gate_passing_report(), count=1)

    return Reply("text", times=times, render=render)
