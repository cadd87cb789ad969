"""Markdown → Confluence storage format (XHTML) with markdown-it-py.

Raw HTML in a model's answer is escaped, never passed through: storage format is XML, so an unbalanced tag would
make Confluence refuse the whole page, and a ``<ac:…>`` macro must not be injectable. Characters XML forbids
(control characters other than tab and newlines, lone surrogates from a JSON "\\ud800") are dropped for the same reason."""

from __future__ import annotations

import re

from bot.export.markdown import markdown_parser

_MD = markdown_parser(xhtmlOut=True)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def storage_xhtml(markdown: str) -> str:
    return str(_MD.render(_NOT_XML.sub("", markdown)))
