"""The spoken summary: prose of a speakable length, in the incident's language.

Language heuristic (cheap, no model): first the dominant script of the letters (Latin, Cyrillic, Greek, Arabic,
Hebrew, CJK, Hangul, Devanagari, Thai …, from the Unicode character names). Two different scripts are two
languages. Within Latin script, the language whose stopword list matches the most words wins, but only when it
has at least ``MIN_STOPWORDS`` hits and twice the runner-up's; otherwise the language counts as unknown and the
check passes (a short or code-heavy incident must not fail a good summary). The incident's chat lines are what
is measured: log lines are English in every team, so they would drown a German thread.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from bot.core.gate.text import normalise, word_count
from bot.core.sections import CUT_NOTE
from bot.core.speech.text import MAX_SPOKEN_WORDS

MIN_WORDS, MAX_WORDS = 120, MAX_SPOKEN_WORDS  # the prompt asks for 150–200
MIN_STOPWORDS = 5

# The commonest function words of the Latin-script languages teams write incidents in. Extend freely.
STOPWORDS: dict[str, frozenset[str]] = {
    lang: frozenset(text.split())
    for lang, text in {
        "en": "the and of to is was in that it for on with as are be this have from at by not but were which we our",
        "de": "der die das und ist nicht ein eine zu den mit auf für von im dem sich auch wir es war wurde haben nach",
        "fr": "le la les et est une des du que pas pour dans sur qui nous avec été sont au ce il elle ont aux",
        "es": "el la los las y es que una del por con para se al como pero fue está son lo hemos nos",
        "pt": "o a os as e é que um uma do da dos das para com não por foi em no na são ao",
        "it": "il lo la gli le e è che un una del della per con non sono stato nel alla anche ma",
        "nl": "de het een en is van dat niet op te voor met zijn was wij er ook maar door naar",
    }.items()
}

_MARKUP = re.compile(r"^\s*(?:#{1,6}\s|[-*+•]\s|\d{1,2}[.)]\s|\||>|```|~~~)")
# A chat line of the prepared incident: "[2025-…Z] author: text". Lines without that head are logs or pastes.
_CHAT_LINE = re.compile(r"^\[\d{4}-\d\d-\d\dT[\d:]+Z\] [^:\n]{1,80}: (.+)$", re.MULTILINE)


def script_of(text: str) -> str | None:
    """The script most letters of ``text`` are written in ("LATIN", "CYRILLIC", "CJK" …), or None without letters."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            first = name.split(" ", 1)[0]
            counts["CJK" if first in ("CJK", "HIRAGANA", "KATAKANA") else first] += 1
    return counts.most_common(1)[0][0] if counts else None


def latin_language(text: str) -> str | None:
    tokens = normalise(text).split()
    hits = sorted(((sum(t in words for t in tokens), lang) for lang, words in STOPWORDS.items()), reverse=True)
    (best, lang), (second, _) = hits[0], hits[1]
    return lang if best >= MIN_STOPWORDS and best >= 2 * second else None


LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "pt": "Portuguese", "it": "Italian",
                  "nl": "Dutch"}


def _measured(incident_text: str) -> str:
    chat = "\n".join(_CHAT_LINE.findall(incident_text))
    return chat if len(chat.split()) >= 20 else incident_text


def language_mismatch(body: str, incident_text: str) -> str | None:
    """"written in X, the incident in Y" when script or (Latin) stopwords clearly differ, else None."""
    source = _measured(incident_text)
    want, got = script_of(source), script_of(body)
    if want and got and want != got:
        return f"it is written in {got.title()} script, the incident in {want.title()}"
    if want == got == "LATIN":
        want_lang, got_lang = latin_language(source), latin_language(body)
        if want_lang and got_lang and want_lang != got_lang:
            return f"it is written in {LANGUAGE_NAMES[got_lang]}, the incident in {LANGUAGE_NAMES[want_lang]}"
    return None


def spoken_summary(body: str, incident_text: str) -> str | None:
    """120–230 words of prose (no headings, lists, tables or code) in the incident's language."""
    if body.endswith(CUT_NOTE):
        return "it was cut off mid-sentence at LLM_MAX_TOKENS"
    markup = [line for line in body.splitlines() if _MARKUP.match(line)]
    if markup:
        return f"it is not plain prose ({len(markup)} heading/list/table line(s), e.g. \"{markup[0].strip()[:40]}\")"
    n = word_count(body)
    if not MIN_WORDS <= n <= MAX_WORDS:
        return f"it has {n} words; a spoken summary needs {MIN_WORDS}–{MAX_WORDS}"
    return language_mismatch(body, incident_text)
