"""The markdown-it-py parser both wiki exports read a report with, flattening nesting too deep to keep.

markdown-it stops parsing a block nested past its ``maxNesting`` (20 open tokens: about 10 list levels or 20
quotes) and silently skips the rest of the document. Before that happens, the lines still to come at the
deepest level we keep are read as one plain paragraph, a line break between lines, their list and quote markers
removed, so every
word reaches the page. Neither wiki documents a deeper limit of its own that this would break: Confluence's
storage format states none, and Notion takes two levels of children a request (notion_blocks lifts the rest)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

# Open tokens a nested block may sit under (a list level is two: the list and its item; a quote is one), kept
# below markdown-it's maxNesting so the paragraph, table and inline levels under it still fit.
MAX_LEVEL = 12
# List and quote markers leading a line: "> > - 1. text" reads "text".
_MARKERS = re.compile(r"[ \t]*(?:>[ \t]*|(?:[-+*]|\d{1,9}[.)])(?:[ \t]+|$))*")


def markdown_parser(**options: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, **options}).enable("table").enable("strikethrough")
    md.block.ruler.before("table", "flatten_deep", _flatten_deep)
    return md


def _flatten_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if silent or state.level < MAX_LEVEL:
        return False
    lines = [_MARKERS.sub("", line, count=1).strip() for line in state.getLines(start, end, state.blkIndent, False).split("\n")]
    # One paragraph, a hard break between lines: a tight list hides its paragraphs' tags, which would glue them.
    opening = state.push("paragraph_open", "p", 1)
    opening.map = [start, end]
    inline = state.push("inline", "", 0)
    inline.content, inline.map, inline.children = "  \n".join(line for line in lines if line), opening.map, []
    state.push("paragraph_close", "p", -1)
    state.line = end
    return True
