"""Text helpers shared by the checks: normalisation, sentences, words, code fences."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data

from bot.core.incident.model import visible
from bot.core.speech import text as speech

_NON_WORD = re.compile(r"[^\w]+")
# A sentence ends at . ! ? (or the CJK full stop) followed by space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")
_FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def _ascii_twin(char: str, twins: list[dict[str, str]]) -> str | None:
    """The ASCII character Unicode's confusables list for ``char``; a capital keeps its case ("І" is "I", not "l")."""
    twin = next((t["c"] for t in twins if len(t["c"]) == 1 and t["c"].isascii() and t["c"].isprintable()), None)
    return "I" if twin == "l" and char.isupper() else twin


def _look_alikes() -> dict[str, str]:
    table = {ch: twin for ch, twins in confusables_data.items()
             if len(ch) == 1 and not ch.isascii() and (twin := _ascii_twin(ch, twins))}
    # Unicode folds "|" itself into "l"; a token's delimiters ("<∣im_end∣>", "<ǀim_endǀ>") must stay bars to be seen.
    for ch in {c for key, twins in confusables_data.items() for c in (key, *(t["c"] for t in twins)) if len(c) == 1}:
        if not ch.isascii() and ("VERTICAL" in unicodedata.name(ch, "") or unicodedata.name(ch, "") in _BARS):
            table[ch] = "|"
    return table


_BARS = frozenset({"DIVIDES", "LATIN LETTER DENTAL CLICK", "CYRILLIC LETTER PALOCHKA"})


@cache
def _look_alike_table() -> dict[int, str]:
    return str.maketrans(_look_alikes())


def look_alike(text: str) -> str:
    """``text`` as the ASCII it imitates, where it imitates some: fullwidth forms folded by NFKC ("＜|" is "<|"),
    other scripts' look-alike letters by Unicode's confusables ("іm_start" with a Cyrillic і is "im_start").
    For matching shapes such as chat-template tokens only: it turns Russian or Greek words into nonsense."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", visible(text)).translate(_look_alike_table())


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
