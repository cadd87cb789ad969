"""Markdown → Notion block objects, from markdown-it-py's syntax tree.

Notion's limits shape the output: a rich-text item holds at most 2,000 characters and a block at most 100 of them;
a request nests children at most two levels deep (deeper list items are lifted to the second level; markdown nested
deeper than markdown.MAX_LEVEL arrives as plain paragraphs); only http(s)
links are accepted; a code block's language must be one Notion knows."""

from __future__ import annotations

from typing import Any

from markdown_it.tree import SyntaxTreeNode

from bot.export.markdown import markdown_parser

Block = dict[str, Any]
RichText = list[dict[str, Any]]

_MD = markdown_parser()
MAX_TEXT = 2000
MAX_ITEMS = 100
MAX_DEPTH = 2
_LANGUAGES = {"bash", "c", "c++", "c#", "css", "diff", "docker", "go", "graphql", "html", "java", "javascript", "json",
              "kotlin", "makefile", "markdown", "python", "ruby", "rust", "shell", "sql", "swift", "typescript", "xml",
              "yaml"}
_ALIASES = {"sh": "shell", "console": "shell", "py": "python", "js": "javascript", "ts": "typescript", "yml": "yaml",
            "dockerfile": "docker", "hcl": "plain text", "text": "plain text", "": "plain text"}
_MARKS = {"strong": "bold", "em": "italic", "s": "strikethrough"}


def notion_blocks(markdown: str) -> list[Block]:
    return _blocks(SyntaxTreeNode(_MD.parse(markdown)).children, depth=1)


def _blocks(nodes: list[SyntaxTreeNode], depth: int) -> list[Block]:
    out: list[Block] = []
    for node in nodes:
        out.extend(_block(node, depth))
    return out


def _block(node: SyntaxTreeNode, depth: int) -> list[Block]:
    kind = node.type
    if kind == "heading":
        level = min(int(node.tag[1]), 3)
        return _text_blocks(f"heading_{level}", _inline(node))
    if kind == "paragraph":
        return _text_blocks("paragraph", _inline(node))
    if kind in ("bullet_list", "ordered_list"):
        item_type = "bulleted_list_item" if kind == "bullet_list" else "numbered_list_item"
        return [b for item in node.children for b in _list_item(item, item_type, depth)]
    if kind in ("fence", "code_block"):
        return [_code(node.content.rstrip("\n"), node.info.strip().split(" ")[0].lower() if kind == "fence" else "")]
    if kind == "blockquote":  # one quote block: its paragraphs, lists and quotes as lines of its text
        lines = [_texts_of(b) for b in _blocks(node.children, depth)]
        return _text_blocks("quote", [t for i, line in enumerate(lines) for t in (_plain("\n") if i else []) + line])
    if kind == "hr":
        return [{"object": "block", "type": "divider", "divider": {}}]
    if kind == "table":
        return [_table(node)]
    return _text_blocks("paragraph", _plain(node.content)) if node.content.strip() else []


def _list_item(item: SyntaxTreeNode, item_type: str, depth: int) -> list[Block]:
    leads = bool(item.children) and item.children[0].type == "paragraph"
    text = _inline(item.children[0]) if leads else []
    others = item.children[1:] if leads else item.children
    block, *more = _text_blocks(item_type, text)
    nested = more + _blocks(others, depth + 1)
    if depth < MAX_DEPTH:
        if nested:
            block[item_type]["children"] = nested
        return [block]
    return [block, *nested]  # Notion refuses a third level in one request: lift it


def _code(text: str, language: str) -> Block:
    language = _ALIASES.get(language, language)
    language = language if language in _LANGUAGES else "plain text"
    return {"object": "block", "type": "code", "code": {"rich_text": _plain(text), "language": language}}


def _table(node: SyntaxTreeNode) -> Block:
    rows = [tr for part in node.children for tr in part.children]
    width = max((len(tr.children) for tr in rows), default=1)
    children = []
    for tr in rows:
        cells = [_inline(cell) for cell in tr.children]
        cells += [[] for _ in range(width - len(cells))]  # Notion wants every row as wide as the table
        children.append({"object": "block", "type": "table_row", "table_row": {"cells": cells}})
    has_header = bool(node.children) and node.children[0].type == "thead"
    return {"object": "block", "type": "table",
            "table": {"table_width": width, "has_column_header": has_header, "has_row_header": False,
                      "children": children}}


def _text_blocks(kind: str, text: RichText) -> list[Block]:
    """The block, and paragraphs carrying on its text past the 100 rich-text items a block may hold."""
    chunks = [text[i:i + MAX_ITEMS] for i in range(0, len(text), MAX_ITEMS)] or [[]]
    return [{"object": "block", "type": kind if i == 0 else "paragraph", (kind if i == 0 else "paragraph"): {"rich_text": chunk}}
            for i, chunk in enumerate(chunks)]


def _texts_of(block: Block) -> RichText:
    """A block's text and its children's, each child on a line of its own."""
    body = block[block["type"]]
    text = list(body.get("rich_text") or [])
    for i, cell in enumerate(body.get("cells") or []):  # a table row
        text += (_plain(" | ") if i else []) + cell
    for child in body.get("children") or []:
        text += (_plain("\n") if text else []) + _texts_of(child)
    return text


def _plain(text: str) -> RichText:
    return _runs(text, {}, None)


def _inline(node: SyntaxTreeNode) -> RichText:
    """The inline children of a paragraph, heading or table cell as rich text."""
    inline = node.children[0] if node.children and node.children[0].type == "inline" else node
    out: RichText = []
    _walk(inline.children, {}, None, out)
    return out


def _walk(nodes: list[SyntaxTreeNode], marks: dict[str, bool], link: str | None, out: RichText) -> None:
    for node in nodes:
        if node.type == "text":
            out.extend(_runs(node.content, marks, link))
        elif node.type == "code_inline":
            out.extend(_runs(node.content, {**marks, "code": True}, link))
        elif node.type in ("softbreak", "hardbreak"):
            out.extend(_runs("\n" if node.type == "hardbreak" else " ", marks, link))
        elif node.type in _MARKS:
            _walk(node.children, {**marks, _MARKS[node.type]: True}, link, out)
        elif node.type == "link":
            href = str(node.attrs.get("href", ""))
            _walk(node.children, marks, href if href.startswith(("http://", "https://")) else link, out)
        else:  # images and anything else: their text only
            _walk(node.children, marks, link, out)


def _runs(text: str, marks: dict[str, bool], link: str | None) -> RichText:
    """One rich-text item per 2,000 characters, annotated and linked alike."""
    runs: RichText = []
    for start in range(0, len(text), MAX_TEXT):
        item: dict[str, Any] = {"type": "text", "text": {"content": text[start:start + MAX_TEXT]}}
        if link:
            item["text"]["link"] = {"url": link}
        if marks:
            item["annotations"] = dict(marks)
        runs.append(item)
    return runs
