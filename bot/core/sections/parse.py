"""Incremental parser: a streamed LLM answer -> postmortem Sections, tolerant of heading drift.

Weak local models rarely reproduce the requested headings exactly, so a heading is recognised by its
normalised words (synonyms, any case, emoji, numbering, bold instead of ``#`` ...) rather than by text.
Sections are emitted as soon as the next heading line is complete, so Slack can post them while the
model is still writing.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.core.sections import SECTION_TITLES, Section, SectionId

RAW_TITLE = "Postmortem (unstructured model output)"

# The names models give the sections, by meaning: data a reader can extend (bot/core/sections/headings.toml), checked below.
HEADINGS_FILE = Path(__file__).with_name("headings.toml")


def read_headings(text: str, where: str = HEADINGS_FILE.name) -> dict[SectionId, tuple[str, ...]]:
    """The synonym table from TOML text: ``[section_id] phrases = [...]`` for each of the six sections."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML ({exc}); fix the syntax") from exc
    want = [sid.value for sid in SECTION_TITLES]
    if sorted(data) != sorted(want):
        raise ValueError(f"{where}: sections {sorted(data)} should be exactly {want}")
    table: dict[SectionId, tuple[str, ...]] = {}
    for sid in SECTION_TITLES:
        phrases = data[sid.value].get("phrases") if isinstance(data[sid.value], dict) else None
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ValueError(f'{where}: [{sid.value}] needs phrases = ["…", …] (a list of strings)')
        table[sid] = tuple(phrases)
    return table


# Words that may decorate a heading without counting as "extra": canonical titles use some of them
# ("Root Cause Determination"), and models add others ("Section 6", "Incident Timeline").
_FILLER = frozenset(
    {
        "a", "an", "and", "the", "of", "for", "to", "in", "on", "our", "with",
        "incident", "section", "part", "word", "analysis", "determination", "detail",
    }
)

# How many unexplained words each heading form may carry. A markdown heading is unambiguous, so it may
# say "## Root Cause: pool exhaustion"; a bare line must be nothing but the title, because "1. Add a
# gap test" style list items are body text.
_BUDGET_HASH, _BUDGET_BOLD, _BUDGET_COLON, _BUDGET_PLAIN = 4, 3, 1, 0
_MAX_HEADING_WORDS = 14

_HASH_RE = re.compile(r"#{1,6}\s+(.*?)[\s#]*")
_NUMBER_RE = re.compile(r"^(?:\d+\s*[.):]|section\s+\d+\s*[:.)\-–—]?)\s*", re.IGNORECASE)
_BOLD_RE = re.compile(r"(\*{1,3}|_{1,3})(.+?)\1\s*:?")
_PARENS_RE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_FENCE_RE = re.compile(r"(`{3,}|~{3,})")
# Info strings of a fence wrapped around the whole answer ("```markdown ... ```"): its content is the document.
_WRAPPER_LANGS = frozenset({"markdown", "md"})
_RULE_RE = re.compile(r"(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,}|={3,}")
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_ORDER = list(SECTION_TITLES)


def _stem(word: str) -> str:
    # Enough morphology for headings ("Gaps" = "Gap"); phrases get the same treatment, so "radiu" is fine.
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


_STEMMED_FILLER = frozenset(_stem(w) for w in _FILLER)  # compared with stemmed words: "analysis" is "analysi"


def _words(text: str) -> list[str]:
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)  # "AudioSummary" -> "Audio Summary"
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


def phrase_table(aliases: dict[SectionId, tuple[str, ...]], where: str = HEADINGS_FILE.name) -> dict[SectionId, list[tuple[str, ...]]]:
    """Each section's phrases as words, the canonical title first. Refuses a table whose phrases would misread:
    one without words, one listed under two sections, or one that reads as another section's heading."""
    table: dict[SectionId, list[tuple[str, ...]]] = {}
    owner: dict[tuple[str, ...], SectionId] = {}
    for sid, phrases in aliases.items():
        table[sid] = []
        for phrase in (SECTION_TITLES[sid], *phrases):
            words = tuple(_words(phrase))
            if not words:
                raise ValueError(f'{where}: the phrase "{phrase}" under [{sid.value}] has no words')
            if owner.setdefault(words, sid) is not sid:
                raise ValueError(f'{where}: "{phrase}" is listed under both [{owner[words].value}] and [{sid.value}]; keep it in one')
            table[sid].append(words)
    for sid, phrases in aliases.items():
        for phrase in (SECTION_TITLES[sid], *phrases):
            if (read := _match(phrase, _BUDGET_PLAIN, table)) is not sid:
                raise ValueError(f'{where}: the heading "{phrase}" under [{sid.value}] reads as '
                                 f"[{read.value if read else 'no section'}]; reword it or move it")
    return table


def _strip_symbols(text: str) -> str:
    """Drop emoji and pictographs (category So/Sk plus joiners and variation selectors)."""
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Co") and ch not in "\u200d\ufe0f\u20e3"
    )


def _match(text: str, budget: int, table: dict[SectionId, list[tuple[str, ...]]] | None = None) -> SectionId | None:
    found = _read(text, budget, table)
    return found[0] if found else None


def _read(text: str, budget: int, table: dict[SectionId, list[tuple[str, ...]]] | None = None) -> tuple[SectionId, int] | None:
    """The section whose title words lead ``text`` with at most ``budget`` unexplained words, and the length in words
    of the longest of its phrases found there."""
    words = _words(text)
    if not words or len(words) > _MAX_HEADING_WORDS:
        return None
    significant = [i for i, w in enumerate(words) if w not in _STEMMED_FILLER and not w.isdigit()]
    if not significant:
        return None
    owners = _owners(table) if table is not None else _OWNERS
    covered: dict[SectionId, set[int]] = {}
    longest: dict[SectionId, int] = {}
    for n in {len(phrase) for phrase in owners}:
        for i in range(len(words) - n + 1):
            if (sid := owners.get(tuple(words[i : i + n]))) is not None:
                covered.setdefault(sid, set()).update(range(i, i + n))
                longest[sid] = max(longest.get(sid, 0), n)
    best: tuple[tuple[int, int], SectionId] | None = None
    for sid, cover in covered.items():
        # The title must come first: "Test 3: timeline replay" is a test name, not the Timeline section.
        if significant[0] not in cover or sum(1 for i in significant if i not in cover) > budget:
            continue
        key = (len(cover), -min(cover))
        if best is None or key > best[0] or (key == best[0] and _ORDER.index(sid) < _ORDER.index(best[1])):
            best = (key, sid)
    return (best[1], longest[best[1]]) if best else None


def _owners(table: dict[SectionId, list[tuple[str, ...]]]) -> dict[tuple[str, ...], SectionId]:
    """Each phrase's section (a phrase belongs to one: phrase_table refuses a table where it does not)."""
    return {phrase: sid for sid, phrases in table.items() for phrase in phrases}


@dataclass(frozen=True)
class Heading:
    """A line read as a section heading: its section, how it is written ("#2" for ``## …``, "bold", "colon" for a
    bare ``Title:``, "plain"), and whether only one-word synonyms name it ("Summary", "Investigation")."""

    section: SectionId
    form: str
    weak: bool


def classify_heading(line: str) -> SectionId | None:
    """The section a single complete line introduces, or None if it is body text."""
    heading = read_heading(line)
    return heading.section if heading else None


def read_heading(line: str) -> Heading | None:
    """The heading a single complete line is, or None if it is body text."""
    s = _PARENS_RE.sub("", _strip_symbols(line)).strip()
    if not s or len(s) > 120:
        return None
    if s.startswith("#"):
        m = _HASH_RE.fullmatch(s)
        return _heading(m.group(1), _BUDGET_HASH, f"#{len(s) - len(s.lstrip('#'))}") if m else None
    if s[0] in ">|" or re.match(r"[-*+]\s", s):  # quotes, tables and bullets are content
        return None
    core = _NUMBER_RE.sub("", s, count=1)
    bold = _BOLD_RE.fullmatch(core)
    if bold and bold.group(1) not in bold.group(2):
        return _heading(bold.group(2), _BUDGET_BOLD, "bold")
    if core.endswith(":"):  # only a bare "Heading:" line; "Root cause: the pool..." is a sentence
        return _heading(core[:-1], _BUDGET_COLON, "colon")
    if core.endswith((".", "!", "?")):
        return None
    return _heading(core, _BUDGET_PLAIN, "plain")


def _heading(text: str, budget: int, form: str) -> Heading | None:
    found = _read(text, budget)
    return Heading(found[0], form, weak=found[1] == 1) if found else None


HEADING_ALIASES = read_headings(HEADINGS_FILE.read_text(encoding="utf-8"))
_PHRASES = phrase_table(HEADING_ALIASES)
_OWNERS = _owners(_PHRASES)


def _tidy(lines: list[str]) -> str:
    """Body text without blank lines or decorative rules at its edges."""
    def edge(line: str) -> bool:
        return not line.strip() or bool(_RULE_RE.fullmatch(line.strip()))

    start, end = 0, len(lines)
    while start < end and edge(lines[start]):
        start += 1
    while end > start and edge(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end])


def _partial_tag(low: str, tags: tuple[str, ...]) -> int:
    """Length of the longest suffix of ``low`` that could be the start of one of ``tags``."""
    for n in range(min(len(low), max(map(len, tags)) - 1), 0, -1):
        if any(tag.startswith(low[-n:]) for tag in tags):
            return n
    return 0


class StreamingSectionParser:
    """Feed text chunks as they stream; get back the sections each chunk completed."""

    def __init__(self) -> None:
        self._pending = ""  # tail that may be the start of a <think> tag
        self._in_think = False
        self._line = ""  # partial line: only complete lines are classified
        self._fence: str | None = None
        self._wrapper: str | None = None  # the fence the whole answer is wrapped in, while it is open
        self._current: SectionId | None = None
        self._started = False
        self._body: list[str] = []
        self._preamble: list[str] = []
        self._emitted: list[Section] = []
        self._seen: set[SectionId] = set()
        self._forms: set[str] = set()  # how the headings that opened sections were written
        self._closed = False

    @property
    def preamble(self) -> str:
        return _tidy(self._preamble)

    @property
    def sections(self) -> list[Section]:
        return list(self._emitted)

    @property
    def open_section(self) -> tuple[SectionId | None, str]:
        """The section being written and its text so far, the unfinished line included (for narrating a
        section while it streams). (None, "") before the first heading and after close()."""
        if not self._started or self._closed:
            return None, ""
        return self._current, "\n".join([*self._body, self._line])

    def missing(self) -> list[SectionId]:
        return [sid for sid in SECTION_TITLES if sid not in self._seen]

    def feed(self, chunk: str) -> list[Section]:
        if self._closed:
            raise RuntimeError("StreamingSectionParser.feed() after close()")
        before = len(self._emitted)
        self._consume(self._unthink(chunk, final=False))
        return self._emitted[before:]

    def close(self) -> list[Section]:
        if self._closed:
            return []
        before = len(self._emitted)
        self._consume(self._unthink("", final=True))
        if self._line:
            self._take_line(self._line.rstrip("\r"))
            self._line = ""
        self._closed = True
        if self._started:
            self._emit()
        elif raw := self.preamble:
            # No heading at all: hand the whole answer on rather than lose it.
            self._emitted.append(Section(None, RAW_TITLE, raw))
        return self._emitted[before:]

    def _unthink(self, chunk: str, *, final: bool) -> str:
        """Remove <think>...</think> reasoning, holding back a tail that may be a split tag."""
        text, self._pending = self._pending + chunk, ""
        out: list[str] = []
        while text:
            low = text.lower()
            tag = _THINK_CLOSE if self._in_think else _THINK_OPEN
            at = low.find(tag)
            stray = -1 if self._in_think else low.find(_THINK_CLOSE)
            if stray != -1 and (at == -1 or stray < at):
                # A bare </think>: the chat template opened the block, so what came before was reasoning.
                if self._started:
                    out.append(text[:stray])
                else:
                    out.clear()
                    self._preamble, self._line, self._fence, self._wrapper = [], "", None, None
                text = text[stray + len(_THINK_CLOSE) :]
                continue
            if at == -1:
                keep = 0 if final else _partial_tag(low, (_THINK_OPEN, _THINK_CLOSE))
                if not self._in_think:
                    out.append(text[: len(text) - keep])
                self._pending = text[len(text) - keep :]
                break
            if not self._in_think:
                out.append(text[:at])
            self._in_think = not self._in_think
            text = text[at + len(tag) :]
        return "".join(out)

    def _consume(self, text: str) -> None:
        if "\n" not in text:
            self._line += text
            return
        *lines, self._line = (self._line + text).split("\n")
        for line in lines:
            self._take_line(line.rstrip("\r"))

    def _take_line(self, line: str) -> None:
        stripped = line.strip()
        if self._fence:
            if _closes(self._fence, stripped):
                self._fence = None
            self._append(line)
            return
        if self._wrapper and _closes(self._wrapper, stripped):
            self._wrapper = None  # the end of the fence around the whole answer: not part of any section
            return
        if fence := _FENCE_RE.match(stripped):
            if self._opens_wrapper(fence.group(1), stripped):
                self._wrapper = fence.group(1)
                return
            self._fence = fence.group(1)
            self._append(line)
            return
        heading = read_heading(line)
        # A heading for the section already open ("**Impact:**" under Timeline) is a sub-heading.
        if heading is None or (self._started and heading.section is self._current) or not self._opens(heading):
            self._append(line)
            return
        if self._started:
            self._emit()
        self._started, self._current, self._body = True, heading.section, []
        self._seen.add(heading.section)
        self._forms.add(heading.form)

    def _opens(self, heading: Heading) -> bool:
        """Whether a one-word synonym is a heading of the answer's structure rather than a word of the section being
        written (a bare "Summary" or a "### Investigation" inside the Test Suite of a ``##`` answer). It is the first
        heading; or it is written the way the answer's section headings all are (the same ``#`` level, bold, a bare
        line); or, in an answer whose headings already mix those ways, it names a section later in the usual order."""
        if not heading.weak or not self._started:
            return True
        if len(self._forms) == 1:
            return heading.form in self._forms
        assert self._current is not None
        return _ORDER.index(heading.section) > _ORDER.index(self._current)

    def _opens_wrapper(self, fence: str, line: str) -> bool:
        """A ```markdown (or ```md) fence before the first heading, or a bare ``` as the very first line, wraps
        the whole answer: models do this, and without unwrapping every heading would be fenced code."""
        if self._started or self._wrapper is not None:
            return False
        info = line[len(fence) :].strip().lower()
        return info in _WRAPPER_LANGS or (not info and not any(p.strip() for p in self._preamble))

    def _append(self, line: str) -> None:
        (self._body if self._started else self._preamble).append(line)

    def _emit(self) -> None:
        assert self._current is not None
        self._emitted.append(Section(self._current, SECTION_TITLES[self._current], _tidy(self._body)))


def _closes(fence: str, line: str) -> bool:
    """Whether ``line`` closes a fence opened with ``fence``: the same character, at least as many times."""
    return re.fullmatch(re.escape(fence[0]) + f"{{{len(fence)},}}", line) is not None


def parse_sections(text: str) -> list[Section]:
    """Parse a complete answer in one go."""
    parser = StreamingSectionParser()
    parser.feed(text)
    parser.close()
    return parser.sections
