"""The ticket's words: a title, a Markdown body (GitHub) and an Atlassian Document Format body (Jira).

Everything in a ticket leaves the machine, so every string is redacted first (``redacted``). Nothing here
knows about Slack: the thread link is a plain URL.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.mentions import neutralise_mentions
from bot.core.plan import TestPlan, TestSpec
from bot.core.plan.skeletons import render_skeletons
from bot.core.redact import redact_text
from bot.tickets.model import Skeleton, TicketContent

# GitHub bodies stop at 65,536 characters and Jira descriptions at 32,767: a skeleton longer than this is cut.
MAX_SKELETON_CHARS = 20_000
MAX_TITLE_CHARS = 240  # Jira summaries stop at 255


_LANGUAGES = {".py": "python", ".js": "javascript", ".yaml": "yaml"}


def skeletons(tests: list[TestSpec]) -> list[Skeleton]:
    """Each test's skeleton file (the same files as the archive in the thread and the CLI's tests/ folder)."""
    files = render_skeletons(TestPlan(tests=tests))
    return [Skeleton(path, text, next((lang for ext, lang in _LANGUAGES.items() if path.endswith(ext)), ""))
            for path, text in files.items()]


def redacted(content: TicketContent) -> TicketContent:
    """A copy with every string passed through the redactor (the spec came from a model reading the thread)."""
    spec = content.spec.model_copy(update={
        name: redact_text(value) for name, value in content.spec.model_dump().items() if isinstance(value, str)})
    skeleton = None
    if content.skeleton is not None:
        text = redact_text(content.skeleton.text)
        if len(text) > MAX_SKELETON_CHARS:
            text = text[:MAX_SKELETON_CHARS] + "\n# … cut here: the whole file is in the postmortem's archive\n"
        skeleton = Skeleton(redact_text(content.skeleton.filename), text, content.skeleton.language)
    return TicketContent(spec, redact_text(content.run_id), content.thread_link, skeleton)


def title(content: TicketContent) -> str:
    spec = content.spec
    text = " ".join(f"Add {spec.type} test: {spec.name}".split())  # one line, however the name was written
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def fields(content: TicketContent) -> list[tuple[str, str]]:
    spec = content.spec
    rows = [("Type", spec.type), ("Priority", f"P{spec.priority}"), ("Scope", spec.scope),
            ("Fault injection", spec.fault_injection), ("Success criteria", spec.success_criteria),
            ("Would have caught", spec.catches)]
    return [(label, value) for label, value in rows if value.strip()]


def _origin(content: TicketContent) -> str:
    return f"From postmortem run {content.run_id} by postmortem-bot (AI-generated draft: verify before acting)."


_TILDES = re.compile(r"~{3,}")


def _md(text: str) -> str:
    """A model-written value as one inert Markdown line: no @mention that would notify a GitHub user or team, no
    HTML (a comment could hide text, or pose as the dedup marker), no line break that could start a new block."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return neutralise_mentions(text, handles=True)


def markdown_body(content: TicketContent, marker: str) -> str:
    """GitHub's body. ``marker`` is an HTML comment, invisible on GitHub, that the dedup search looks for."""
    lines = [f"**{_md(content.spec.name)}**", ""]
    lines += [f"- **{label}:** {_md(value)}" for label, value in fields(content)]
    if content.thread_link:
        lines += ["", f"Incident thread: {content.thread_link}"]
    if content.skeleton is not None:
        # Longer than any run of tildes in the file, so nothing in it can close the block (code never pings).
        fence = "~" * max([4, *(len(m) + 1 for m in _TILDES.findall(content.skeleton.text))])
        lines += ["", f"Skeleton `{content.skeleton.filename}`:", "",
                  f"{fence}{content.skeleton.language}", content.skeleton.text.rstrip("\n"), fence]
    lines += ["", f"_{_origin(content)}_", "", marker]
    return "\n".join(lines)


def _text(value: str, **mark: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if mark:
        node["marks"] = [{"type": "link", "attrs": mark}]
    return node


def _paragraph(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(nodes)}


def adf_body(content: TicketContent) -> dict[str, Any]:
    """Jira Cloud's v3 description: an ADF document (plain strings are refused by /rest/api/3)."""
    items = [{"type": "listItem", "content": [_paragraph(
        {"type": "text", "text": f"{label}: ", "marks": [{"type": "strong"}]}, _text(value))]}
        for label, value in fields(content)]
    nodes: list[dict[str, Any]] = [_paragraph({"type": "text", "text": content.spec.name, "marks": [{"type": "strong"}]}),
                                   {"type": "bulletList", "content": items}]
    if content.thread_link:
        nodes.append(_paragraph(_text("Incident thread: "), _text(content.thread_link, href=content.thread_link)))
    if content.skeleton is not None:
        nodes.append(_paragraph(_text(f"Skeleton {content.skeleton.filename}:")))
        code = content.skeleton.text
        block: dict[str, Any] = {"type": "codeBlock", "content": [_text(code)] if code else []}  # no empty text nodes
        if content.skeleton.language:
            block["attrs"] = {"language": content.skeleton.language}
        nodes.append(block)
    nodes.append(_paragraph({"type": "text", "text": _origin(content), "marks": [{"type": "em"}]}))
    return {"type": "doc", "version": 1, "content": nodes}
