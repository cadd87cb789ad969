"""The Recommended Test Suite (markdown) → drafts of tests, with markdown-it-py's syntax tree rather than line regexes.

Shapes understood: a table with a header row; one sub-heading (or a bold line, or "Test 1: …") per test followed
by labelled fields as bullets or lines; a list (numbered or not) with one test per item and its fields nested,
inline ("Type: load; Scope: api") or on following lines; ``def test_…`` functions in a code block. A heading
followed by a list of tests is a group ("### Load tests"): its type word becomes the default type of its items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot.core.plan.vocab import clean_value, field_of, kind_of, labelled

_TEST_LINE = re.compile(r"^\s*test\s*#?\d{1,3}\s*[:.)—–-]\s*", re.IGNORECASE)
_CODE_TEST = re.compile(r"^\s*(?:async\s+)?def\s+(test_\w+)", re.MULTILINE)
# "`test_pool` — what it does": the name is what precedes a dash or colon when a description follows.
_DASH_SPLIT = re.compile(r"\s+[—–-]\s+")
_COLON_SPLIT = re.compile(r":\s+")


@dataclass
class Draft:
    """A test as parsed: its name and the fields found, by plan field name (type, scope, fault_injection…)."""

    name: str
    fields: dict[str, str] = field(default_factory=dict)
    default_type: str = ""  # the type word of a group heading, used when the test names none

    def add(self, fields: dict[str, str]) -> None:
        for key, value in fields.items():
            if value and not self.fields.get(key):
                self.fields[key] = value


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").enable("table")


def plain(node: SyntaxTreeNode) -> str:
    """The text of an inline node, markup removed ("**Type:** `load`" → "Type: load"), line breaks kept."""
    if node.type in ("text", "code_inline"):
        return node.content
    if node.type in ("softbreak", "hardbreak"):
        return "\n"
    return "".join(plain(child) for child in node.children)


def _inline_text(node: SyntaxTreeNode) -> str:
    return "".join(plain(child) for child in node.children if child.type == "inline")


def _is_title(paragraph: SyntaxTreeNode) -> bool:
    """A paragraph that is only bold text ("**Pool saturation**") or starts "Test 3: …" titles a test."""
    inline = next((c for c in paragraph.children if c.type == "inline"), None)
    if inline is None:
        return False
    text = plain(inline)
    if "\n" in text.strip():
        return False
    parts = [c for c in inline.children if not (c.type == "text" and not c.content.strip(" :"))]
    return (len(parts) == 1 and parts[0].type == "strong") or bool(_TEST_LINE.match(text))


def _starts_bold(paragraph: SyntaxTreeNode) -> bool:
    inline = next((c for c in paragraph.children if c.type == "inline"), None)
    kids = [c for c in inline.children if not (c.type == "text" and not c.content.strip())] if inline else []
    return bool(kids) and kids[0].type == "strong"


_BRACKET = re.compile(r"[\s*_`]*([(\[][^()\[\]]{1,40}[)\]])")
_TYPE_SUFFIX = re.compile(r"\s*[(\[]([^()\[\]]{1,40})[)\]]\s*$")


def named(title: str) -> Draft | None:
    """A draft from a title; a type in brackets at its end becomes the type field ("Pool (load)")."""
    name = clean_name(title)
    if not name:
        return None
    draft = Draft(name)
    if (m := _TYPE_SUFFIX.search(name)) and kind_of(m.group(1)):
        draft.name, draft.fields["type"] = name[: m.start()].strip() or name, m.group(1)
    return draft


def clean_name(text: str) -> str:
    """A title as a name: "Test 1: Pool saturation" → "Pool saturation"; "`test_x` — does y" → "test_x"."""
    text = clean_value(_TEST_LINE.sub("", " ".join(text.split())))
    # A short name, then a sentence describing it: a dash separates them before a colon does.
    for split in (_DASH_SPLIT, _COLON_SPLIT):
        head = split.split(text, maxsplit=1)
        if len(head) == 2 and len(head[1].split()) >= 6 and len(head[1]) > len(head[0]):
            text = clean_value(head[0])
            break
    return text.strip("`*_ ")[:200]


def _lines_fields(text: str) -> tuple[str, dict[str, str]]:
    """Labelled fields over several lines; a line with no label continues the previous field's value."""
    lead_parts: list[str] = []
    fields: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        lead, found = labelled(line)
        if found:
            for key, value in found.items():
                fields.setdefault(key, value)
                last = key
            if lead and not fields.get("name"):
                lead_parts.append(lead)
        elif last is not None and line.strip():
            fields[last] = f"{fields[last]} {clean_value(line)}".strip()
        elif line.strip():
            lead_parts.append(line.strip())
    return " ".join(lead_parts), fields


class _Walker:
    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.current: Draft | None = None
        self.titled = False  # the current draft came from a heading or title line (a group, until it gets fields)
        self.level = 0  # the heading level of the current draft (0: not a heading)
        self.group: tuple[int, str] | None = None  # an enclosing group heading: (level, its text)

    def start(self, name: str, *, titled: bool, level: int = 0) -> Draft:
        self.current = named(name) or Draft(f"Test {len(self.drafts) + 1}")
        self.current.default_type = self.group[1] if self.group else ""
        self.drafts.append(self.current)
        self.titled, self.level = titled, level
        return self.current

    def heading(self, node: SyntaxTreeNode) -> None:
        level = int(node.tag[1:])
        if self.group is not None and level <= self.group[0]:
            self.group = None
        current = self.current
        if current is not None and self.level and self.level < level and not current.fields:
            # "### Load tests" over "#### Pool saturation": a group heading, not a test
            self.drafts.remove(current)
            self.group = (self.level, current.name)
        self.start(_inline_text(node), titled=True, level=level)

    def paragraph(self, node: SyntaxTreeNode) -> None:
        if _is_title(node):
            self.start(_inline_text(node), titled=True)
            return
        text = _inline_text(node)
        lead, fields = _lines_fields(text)
        if not fields:
            return  # prose: a description, not a field
        first = text.split("\n", 1)[0]
        if lead and not labelled(first)[1] and (_TEST_LINE.match(first) or _starts_bold(node)):
            self.start(first, titled=True)  # "**Pool saturation**" with its fields on the next lines
        elif self.current is None:
            self.start(fields.pop("name", "") or lead, titled=False)
        assert self.current is not None
        self.current.add(fields)

    def code(self, node: SyntaxTreeNode) -> None:
        if self.titled:  # example code under a test's heading belongs to that test
            return
        for name in _CODE_TEST.findall(node.content):
            self.start(name, titled=False)

    def bullets(self, node: SyntaxTreeNode) -> None:
        items = [item for item in node.children if item.type == "list_item"]
        firsts = [_item_first(item) for item in items]
        field_lines = [bool(fields) and not lead for lead, fields in firsts]
        # Fields of the current test; under a test that already has fields, other bullets are its description.
        if self.current is not None and (all(field_lines) or (self.titled and self.current.fields)):
            for (_, fields), item, is_field in zip(firsts, items, field_lines, strict=True):
                if is_field:
                    self.current.add(fields)
                    self.current.add(_item_rest(item))
            return
        group = self.current if self.titled and self.current is not None and not self.current.fields else None
        if group is not None:  # "### Load tests" over a list of tests: a group heading, not a test
            self.drafts.remove(group)
        for (lead, fields), item, is_field in zip(firsts, items, field_lines, strict=True):
            if is_field and self.current is not None and self.current is not group:
                self.current.add(fields)  # a field line after a test item belongs to that item
            else:
                draft = self.start(fields.pop("name", "") or lead, titled=False)
                draft.add(fields)
                draft.default_type = group.name if group is not None else ""
            assert self.current is not None
            self.current.add(_item_rest(item))

    def table(self, node: SyntaxTreeNode) -> list[Draft]:
        rows = [[_inline_text(cell) for cell in tr.children] for tr in _descendants(node, "tr")]
        if len(rows) < 2:
            return []
        header = [field_of(cell, header=True) for cell in rows[0]]
        if not any(h and h != "name" for h in header):
            return []
        name_col = header.index("name") if "name" in header else 0
        drafts: list[Draft] = []
        for row in rows[1:]:
            cells = dict(zip(header, row, strict=False))
            draft = (named(row[name_col]) if name_col < len(row) else None) or Draft("")
            draft.add({k: clean_value(v) for k, v in cells.items() if k and k != "name"})
            if draft.name or draft.fields:
                draft.name = draft.name or f"Test {len(drafts) + 1}"
                drafts.append(draft)
        return drafts


def _descendants(node: SyntaxTreeNode, kind: str) -> list[SyntaxTreeNode]:
    found = [node] if node.type == kind else []
    for child in node.children:
        found += _descendants(child, kind)
    return found


def _item_first(item: SyntaxTreeNode) -> tuple[str, dict[str, str]]:
    """The first paragraph of a list item: (its name, its labelled fields). A bold or code opening is the name
    ("**Load test: pool saturation** — simulate…"); else the text before the first label."""
    first = next((c for c in item.children if c.type == "paragraph"), None)
    if first is None:
        return "", {}
    lead, fields = _lines_fields(_inline_text(first))
    inline = next((c for c in first.children if c.type == "inline"), None)
    kids = [c for c in inline.children if not (c.type == "text" and not c.content.strip())] if inline else []
    if lead and kids and kids[0].type in ("strong", "code_inline"):
        opening = clean_value(plain(kids[0]))
        if opening and not labelled(opening)[1]:
            # "**Pool saturation** (load)": the bracketed type after the name stays with it
            after = lead[lead.find(opening) + len(opening):]
            bracket = _BRACKET.match(after)
            return (f"{opening} {bracket.group(1)}" if bracket else opening), fields
    return lead, fields


def _item_rest(item: SyntaxTreeNode) -> dict[str, str]:
    """Fields in a list item after its first paragraph: nested bullets and further paragraphs."""
    fields: dict[str, str] = {}
    paragraphs = [c for c in item.children if c.type == "paragraph"][1:]
    nested = [p for lst in item.children if lst.type in ("bullet_list", "ordered_list") for p in _descendants(lst, "paragraph")]
    for paragraph in [*paragraphs, *nested]:
        for key, value in _lines_fields(_inline_text(paragraph))[1].items():
            fields.setdefault(key, value)
    return fields


def parse_suite(markdown: str) -> list[Draft]:
    """The tests of a Recommended Test Suite body, in order. A table with field columns wins over other shapes."""
    root = SyntaxTreeNode(_markdown().parse(markdown))
    walker = _Walker()
    tables: list[Draft] = []
    for node in root.children:
        if node.type == "heading":
            walker.heading(node)
        elif node.type == "paragraph":
            walker.paragraph(node)
        elif node.type in ("bullet_list", "ordered_list"):
            walker.bullets(node)
        elif node.type in ("fence", "code_block"):
            walker.code(node)
        elif node.type == "table":
            tables += walker.table(node)
    if tables:
        return tables
    # A title with nothing under it and no type in its name is a heading of prose, not a test.
    return [d for d in walker.drafts if d.fields or d.default_type or kind_of(d.name) or d.name.startswith("test_")]
