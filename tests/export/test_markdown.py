"""Markdown nested deeper than markdown-it keeps (its maxNesting) reaches both wikis whole: flattened into plain
paragraphs past markdown.MAX_LEVEL, never skipped. Every shape of nesting, every word checked in both formats."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.export.notion_blocks import notion_blocks
from bot.export.storage import storage_xhtml

SHAPES = {
    "bullets": "\n".join("  " * i + f"- word{i}" for i in range(30)),
    "numbers": "\n".join("   " * i + f"1. word{i}" for i in range(30)),
    "quotes": "> " * 25 + "word0",
    "quotes without spaces": ">" * 3000 + "word0",
    "quoted lists": "> - " * 15 + "word0",
    "listed quotes": "\n".join("  " * i + "- > " * 1 + f"word{i}" for i in range(3)) + "\n" + "- > " * 14 + "word3",
    "lazy continuation lines": "\n".join("  " * i + f"- word{i}\ncarried{i}" for i in range(25)),
    "a fence deep in a list": "\n".join("  " * i + f"- word{i}" for i in range(15)) + "\n" + "  " * 15 + "```\n"
                              + "  " * 15 + "codeword\n" + "  " * 15 + "```",
    "a table in a deep quote": "> " * 22 + "| word0 | word1 |\n" + "> " * 22 + "|---|---|\n" + "> " * 22 + "| word2 | word3 |",
}


def notion_text(blocks: list[dict[str, Any]]) -> str:
    out = []
    for b in blocks:
        body = b[b["type"]]
        out.append("".join(t["text"]["content"] for t in body.get("rich_text", [])))
        out += ["".join(t["text"]["content"] for t in cell) for cell in body.get("cells", [])]
        out.append(notion_text(body.get("children", [])))
    return "\n".join(out)


def depth(blocks: list[dict[str, Any]]) -> int:
    return max((1 + depth(b[b["type"]].get("children", [])) for b in blocks), default=0)


@pytest.mark.parametrize("shape", SHAPES)
def test_deep_nesting_keeps_every_word_in_both_wikis(shape: str) -> None:
    markdown = "# Report\n\n" + SHAPES[shape] + "\n\nlastword after the nesting\n"
    words = set(re.findall(r"(?:word|carried|codeword)\d*|lastword", markdown))
    xhtml = storage_xhtml(markdown)
    blocks = notion_blocks(markdown)
    notion = notion_text(blocks)
    assert [w for w in words if not re.search(rf"\b{w}\b", xhtml)] == []
    assert [w for w in words if not re.search(rf"\b{w}\b", notion)] == []
    assert depth(blocks) <= 2  # Notion takes two levels of children a request


def test_nesting_within_the_limit_keeps_its_structure() -> None:
    xhtml = storage_xhtml("\n".join("  " * i + f"- word{i}" for i in range(5)))
    assert xhtml.count("<ul>") == 5 and "- word" not in xhtml


def test_a_quote_in_notion_keeps_its_lists_tables_and_paragraphs_apart() -> None:
    [quote] = notion_blocks("> first para\n>\n> - item\n>   - sub item\n>\n> | a | b |\n> |---|---|\n> | 1 | 2 |\n")
    assert "".join(t["text"]["content"] for t in quote["quote"]["rich_text"]) == "first para\nitem\nsub item\na | b\n1 | 2"
