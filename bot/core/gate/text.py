"""Text helpers shared by the checks: normalisation, sentences, words, code fences."""

from __future__ import annotations

import re
import unicodedata

from bot.core import speech
from bot.core.incident import visible

_NON_WORD = re.compile(r"[^\w]+")
# A sentence ends at . ! ? (or the CJK full stop) followed by space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def normalise(text: str) -> str:
    """Lower case, markdown and punctuation gone, single spaces: "**Type:** Load" -> "type load"."""
    text = unicodedata.normalize("NFKC", visible(text)).lower().replace("_", " ")
    return _NON_WORD.sub(" ", text).strip()


def words(text: str) -> list[str]:
    return normalise(text).split()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def word_count(text: str) -> int:
    """Words as the narration counts them (so the gate and the 230-word speech cap agree); Chinese and Japanese,
    written without spaces, count two characters a word."""
    cjk = len(_CJK.findall(text))
    return speech.word_count(_CJK.sub(" ", text)) + (cjk + 1) // 2


def without_code(text: str) -> str:
    """``text`` with fenced code blocks removed (code is not prose and has its own repetition)."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        m = _FENCE_LINE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and m and m.group(1).startswith(fence[0]) and len(m.group(1)) >= len(fence):
            fence = None
        elif fence is None:
            out.append(line)
    return "\n".join(out)


def contains_phrase(haystack_norm: str, needle_norm: str) -> bool:
    """Whole-word containment of one normalised text in another."""
    return f" {needle_norm} " in f" {haystack_norm} "
