"""Checks for output that is not analysis at all: the prompt or the incident echoed back, chat-template tokens,
loops, stubs and placeholder text."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path

from bot.core.gate.text import contains_phrase, look_alike, normalise, sentences, without_code, words
from bot.core.prompt import FENCE_CLOSE, FENCE_OPEN
from bot.core.sections import SECTION_TITLES

# A prompt sentence shorter than this is a label ("Primary root cause:", "Type: load") that a good answer
# is asked to reuse; only longer sentences and lines count as an echo when they appear whole.
MIN_ECHO_WORDS = 4
# Lines of the user prompt that carry incident data rather than instructions, so a report may repeat them.
_DATA_LINE = re.compile(r"^(?:Incident: |Preparation notes \(not part of the data\): )")
# The fence markers' core words, so a mangled copy ("<<INCIDENT_DATA_BEGIN>>") is caught too.
_FENCE_WORDS = tuple(normalise(m) for m in (FENCE_OPEN, FENCE_CLOSE))

# Tokens of the common chat templates (ChatML, Llama 2/3, Gemma, Mistral, Phi, plain </s>).
TEMPLATE_TOKEN = re.compile(
    r"<\|[A-Za-z0-9_]{1,40}\|>|<｜[^｜<>\n]{1,64}｜>|</?(?:start_of_turn|end_of_turn|eos|bos)>|</s>|<s>|\[/?INST\]|<</?SYS>>",
)

# Loops: a sentence of at least this many words repeated REPEAT_TIMES times, or a section of at least
# NGRAM_MIN_WORDS words whose most frequent NGRAM-word phrase covers NGRAM_SHARE of it.
REPEAT_MIN_WORDS, REPEAT_TIMES = 6, 3
NGRAM, NGRAM_MIN_WORDS, NGRAM_SHARE = 4, 30, 0.5


_BLOCK_START = re.compile(r"^\s*(?:#|\d{1,2}[.)]\s|[-*+]\s)")


def _blocks(lines: list[str]) -> list[str]:
    """Logical lines: a wrapped sentence joined back together; a blank line, a heading, a list item or the end of
    a line ending in a colon starts anew."""
    blocks: list[list[str]] = [[]]
    for line in lines:
        if not line.strip() or _BLOCK_START.match(line):
            blocks.append([])
        if line.strip() and not line.lstrip().startswith("#"):  # headings are meant to be repeated
            blocks[-1].append(line.strip())
        if line.rstrip().endswith(":"):  # "… name the one that applies:" introduces a list: a unit of its own
            blocks.append([])
    return [" ".join(b) for b in blocks if b]


@lru_cache(maxsize=8)
def prompt_units(prompt_text: str) -> frozenset[str]:
    """Normalised instruction sentences of the prompt, incident data (inside the fence) left out.

    Sentences, not lines: the system prompt wraps its sentences, and a wrapped fragment ("evidence about the
    incident") is something a good answer may well say."""
    outside = re.sub(re.escape(FENCE_OPEN) + r".*?" + re.escape(FENCE_CLOSE), "\n", prompt_text, flags=re.DOTALL)
    lines = [line for line in outside.splitlines() if not _DATA_LINE.match(line)]
    units = {normalise(s) for block in _blocks(lines) for s in sentences(block)}
    return frozenset(u for u in units if len(u.split()) >= MIN_ECHO_WORDS)


def echo(body: str, prompt_text: str, incident_text: str = "") -> str | None:
    """What of the prompt the body repeats (its instructions, or the incident pasted back), or None."""
    fenced = "\n".join(re.findall(re.escape(FENCE_OPEN) + r"(.*?)" + re.escape(FENCE_CLOSE), prompt_text, flags=re.DOTALL))
    if (copied := incident_copy(body, f"{incident_text}\n{fenced}")) is not None:
        return copied
    norm = normalise(body)
    for marker in _FENCE_WORDS:
        if marker in norm:
            return "it contains the incident data-fence marker"
    hits = sorted((u for u in prompt_units(prompt_text) if contains_phrase(norm, u)), key=len, reverse=True)
    if hits:
        sample = hits[0] if len(hits[0]) <= 70 else hits[0][:67] + "…"
        return f'it copies {len(hits)} instruction line(s) of the prompt instead of analysing (e.g. "{sample}")'
    return None


# The incident pasted back: COPY_SHARE of a body's COPY_NGRAM-word runs found in the incident or the rest of the
# prompt's data fence (the digest's guide), code blocks aside,
# in a body of at least COPY_MIN_WORDS words. Reviewer-accepted timelines quote at most a fifth of theirs.
COPY_NGRAM, COPY_SHARE, COPY_MIN_WORDS = 6, 0.7, 30


@lru_cache(maxsize=8)
def _incident_grams(incident_text: str) -> frozenset[tuple[str, ...]]:
    tokens = words(incident_text)
    return frozenset(tuple(tokens[i : i + COPY_NGRAM]) for i in range(len(tokens) - COPY_NGRAM + 1))


def incident_copy(body: str, incident_text: str) -> str | None:
    tokens = words(without_code(body))
    if len(tokens) < COPY_MIN_WORDS:
        return None
    grams = [tuple(tokens[i : i + COPY_NGRAM]) for i in range(len(tokens) - COPY_NGRAM + 1)]
    share = sum(g in _incident_grams(incident_text) for g in grams) / len(grams)
    if share >= COPY_SHARE:
        return f"{round(100 * share)}% of it is the incident's own text pasted back instead of analysis"
    return None


# Fewer distinct words than this, the section headings' words aside, is a label or a stub ("Problems:", "TBD",
# the heading written again), not analysis of anything.
MIN_SECTION_WORDS = 6
_HEADING_WORDS = frozenset(w for title in SECTION_TITLES.values() for w in words(title))
# A "word" longer than this is a runaway token (a base64 blob, one letter a thousand times), not language.
MAX_WORD_CHARS = 60


def hollow(body: str) -> str | None:
    """A stub: a runaway token, too few distinct words, or placeholder text."""
    if (placeholder := filler(body)) is not None:
        return placeholder
    tokens = words(without_code(body))
    runaway = sum(len(t) for t in tokens if len(t) > MAX_WORD_CHARS)
    if runaway and runaway * 2 >= sum(map(len, tokens)):
        return f"it is mostly an unbroken run of {runaway} characters: not words"
    said = {t for t in tokens if t not in _HEADING_WORDS and len(t) <= MAX_WORD_CHARS}
    if len(said) < MIN_SECTION_WORDS:
        return f"it has only {len(said)} distinct word(s) besides the section headings: nothing is analysed"
    return None


def template_tokens(body: str) -> str | None:
    """Chat-template tokens, also spelt with look-alike characters ("＜|im_end|＞", a Cyrillic "і" in im_start)."""
    found = max(TEMPLATE_TOKEN.findall(body), TEMPLATE_TOKEN.findall(look_alike(body)), key=len)
    if not found:
        return None
    kinds = ", ".join(sorted(set(found))[:3])
    return f"it contains {len(found)} chat-template token(s) ({kinds})"


def repetition(body: str) -> str | None:
    """A loop: one sentence or line repeated, one line repeated with only its numbers changed ("Step 1: …",
    "Step 2: …"), or one short phrase filling most of the text."""
    prose = without_code(body)
    if (near := near_duplicate_lines(prose)) is not None:
        return near
    counts = Counter(norm for s in sentences(prose) if len((norm := normalise(s)).split()) >= REPEAT_MIN_WORDS)
    if counts:
        top, times = counts.most_common(1)[0]
        if times >= REPEAT_TIMES:
            shown = top if len(top) <= 60 else top[:57] + "…"
            return f'one sentence is repeated {times} times ("{shown}")'
    tokens = words(prose)
    if len(tokens) >= NGRAM_MIN_WORDS:
        grams = Counter(tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1))
        gram, times = grams.most_common(1)[0]
        if times * NGRAM / len(tokens) >= NGRAM_SHARE and times >= REPEAT_TIMES:
            return f'{min(100, round(100 * times * NGRAM / len(tokens)))}% of it is the phrase "{" ".join(gram)}" repeated'
    return None


# Lines that differ only in their numbers: NEAR_TIMES of them, making up at least half the lines (or NEAR_ALONE of
# them whatever else is there), are a counter ticking over one line, not a list of steps.
NEAR_TIMES, NEAR_ALONE = 5, 10
_DIGITS = re.compile(r"\d+")
# Clock times and dates are not counters: one event at six times is a timeline (a crash loop), so they stay distinct.
_WHEN = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}(?::\d{2})?")
_AS_LETTERS = str.maketrans("0123456789-:", "abcdefghijkl")


def near_duplicate_lines(prose: str) -> str | None:
    lines = [_DIGITS.sub("#", norm) for line in prose.splitlines()
             if (norm := normalise(_WHEN.sub(lambda m: f" t{m.group().translate(_AS_LETTERS)} ", line)))]
    if not lines:
        return None
    top, times = Counter(lines).most_common(1)[0]
    if times >= NEAR_ALONE or (times >= NEAR_TIMES and times * 2 >= len(lines)):
        shown = top if len(top) <= 60 else top[:57] + "…"
        return f'{times} of its {len(lines)} lines are one line with only its numbers changed ("{shown}")'
    return None


# Placeholder words (filler.toml): a body that is FILLER_SHARE of them is placeholder text.
_FILLER_WORDS = frozenset(tomllib.loads(Path(__file__).with_name("filler.toml").read_text(encoding="utf-8"))["words"])
FILLER_SHARE = 0.3


def filler(body: str) -> str | None:
    tokens = words(without_code(body))
    lorem = sum(1 for t in tokens if t in _FILLER_WORDS)
    if tokens and lorem >= MIN_SECTION_WORDS and lorem >= FILLER_SHARE * len(tokens):
        return f"{round(100 * lorem / len(tokens))}% of its words are placeholder text (lorem ipsum and the like)"
    return None
