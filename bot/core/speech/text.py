"""Text for the narrated summary: markdown -> speakable prose, and a summary built without the model."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterator

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from bot.core.citations import strip_citations
from bot.core.sections import Section, SectionId

# Markdown is read as CommonMark (plus GFM tables and strikethrough) and walked as a tree; what is left as regexes
# is not markdown: Slack's own link syntax, bare URLs, emoji shortcodes and template tokens.
_MD = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_SLACK_LINK_RE = re.compile(r"<[^<>|\s]+\|([^<>\n]+)>")  # <https://x|label>, <#C1|channel>
_SLACK_BARE_RE = re.compile(r"<(?:https?:|mailto:|[@#!])[^<>\n]*>")  # <https://x>, <@U1>, <!here>
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
# Never spoken: redaction placeholders, and chat-template control tokens a model may leak into its
# answer, as shapes rather than a list: <|im_end|>, <｜end▁of▁sentence｜>, <start_of_turn>, </s>, [INST].
_UNSPOKEN_RE = re.compile(
    r"\[REDACTED(?::[^\]\s]*)?\]"
    r"|(?:<\|[^|<>\n]{1,64}\|>|<｜[^｜<>\n]{1,64}｜>|</?(?:[a-z]+_)*of_turn>|</?s>|<(?:bos|eos|pad|unk|mask)>"
    r"|\[/?INST\]|<</?SYS>>)"
    r"(?:[ \t]*(?:system|user|assistant|model)(?=[ \t]*(?:\n|$)))?",  # the role a template puts after a start token
    re.IGNORECASE,
)
_SHORTCODE_RE = re.compile(r"(?<!\w):[a-z][a-z0-9_+\-]*:(?!\w)")  # Slack :white_check_mark:
_SENTENCE_END = (".", "!", "?", ":", ";")
# Blocks whose text is never spoken: fenced code, and rules (which only separate).
_SILENT = {"fence", "hr", "html_block"}

_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")

_INTRO = "Here is the spoken summary of this postmortem."
# Honest filler for thin material: it describes where the facts are and never states new ones.
_TEMPLATE = (
    "This summary was assembled automatically from the written sections, because the model's own spoken summary was not usable.",
    "It repeats only what the written report says, so some details are left out here.",
    "Please read the report before planning follow-up work.",
    "The full written postmortem is in the thread.",
)
# Speaking order: the cause first, then what happened, why tests missed it, and what to add.
_LEADS = (
    (SectionId.ROOT_CAUSE, "Root cause"),
    (SectionId.TIMELINE, "What happened"),
    (SectionId.GAPS, "Testing gaps"),
    (SectionId.PREVENTION, "Prevention"),
    (None, "From the report"),
)
_MAX_TEST_NAMES = 5
# The spoken summary is asked for at 150–200 words; longer model output is cut at a sentence boundary here.
MAX_SPOKEN_WORDS = 230


def _strip_emoji(text: str) -> str:
    return "".join(
        ch for ch in text
        if unicodedata.category(ch) not in ("So", "Cs", "Co") and ch not in "\u200d\ufe0f\u20e3"
        and not 0x1F3FB <= ord(ch) <= 0x1F3FF  # skin-tone modifiers
    )


def _inline_words(node: SyntaxTreeNode) -> str:
    """The words of an inline node: link text without its address, code with its words, no images."""
    if node.type == "text":
        return node.content
    if node.type == "code_inline":
        return node.content.replace("_", " ")  # "raise `pool_size`" → "raise pool size": underscores are not spoken
    if node.type in ("softbreak", "hardbreak"):
        return " "
    if node.type == "image" or (node.type == "link" and node.markup == "autolink"):
        return ""  # a picture, or an address written as such: nothing to say
    return "".join(_inline_words(child) for child in node.children)  # emphasis, strikethrough, link text


def _spoken_inline(node: SyntaxTreeNode) -> str:
    text = _URL_RE.sub("", "".join(_inline_words(node)))
    text = _SHORTCODE_RE.sub("", _strip_emoji(text))
    return re.sub(r"\s+", " ", text.replace("`", "")).strip(" -–—")


def _without_markup(text: str) -> str:
    """Markdown-free source: what is not markdown (template tokens, evidence ids, Slack's links) removed first."""
    text = strip_citations(_UNSPOKEN_RE.sub(" ", text.replace("\r\n", "\n")))  # "[m4]" is for readers
    return _SLACK_BARE_RE.sub("", _SLACK_LINK_RE.sub(r"\1", text))


def _clean_inline(text: str) -> str:
    """One line of markdown (a test's name) as words."""
    tokens = _MD.parseInline(_without_markup(text))
    return _spoken_inline(SyntaxTreeNode(tokens)) if tokens else ""


def _as_sentence(text: str) -> str:
    return text if not text or text.endswith(_SENTENCE_END) else text + "."


def _block_sentences(node: SyntaxTreeNode) -> Iterator[str]:
    """Headings, paragraphs, list items and table rows each become a sentence, so the voice pauses."""
    if node.type in _SILENT:
        return
    if node.type == "code_block":
        # Indented text is rarely code in a model's prose (a removed template token leaves the indent behind): read
        # as markdown again. Each round removes the common indent, so this ends.
        yield from _block_sentences(SyntaxTreeNode(_MD.parse(textwrap.dedent(node.content))))
        return
    if node.type == "tr":
        cells = [_spoken_inline(cell.children[0]) for cell in node.children if cell.children]
        row = ", ".join(c for c in cells if c)
        if row:
            yield _as_sentence(row)
        return
    if node.type == "inline":
        line = _spoken_inline(node)
        if line:
            yield _as_sentence(line)
        return
    for child in node.children:
        yield from _block_sentences(child)


def clean_for_speech(markdown: str) -> str:
    """Plain prose for TTS. Headings, bullets and table rows become sentences so the voice pauses."""
    tree = SyntaxTreeNode(_MD.parse(_without_markup(markdown)))
    spoken = re.sub(r"\s+", " ", " ".join(_block_sentences(tree)))
    spoken = re.sub(r"\s+([.,;:!?])", r"\1", spoken)
    return re.sub(r"([.!?])[.:;]+", r"\1", spoken).strip()


def word_count(text: str) -> int:
    return len(_WORD_RE.findall(text))


def needs_summary_fallback(section: Section | None, min_words: int = 60) -> bool:
    """True when there is no usable spoken summary to narrate."""
    return section is None or word_count(clean_for_speech(section.body)) < min_words


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", text) if s.strip()]


def _test_names(body: str) -> list[str]:
    """Test names from a test-suite body: '### Test 1: Name' sub-headings, else test_function names."""
    names = [
        m.group(1).strip()
        for m in re.finditer(r"^\s*(?:#+\s*|\*\*)?\s*Test\s*\d*\s*[:.)\-–—]\s*(.+?)(?:\*\*)?\s*$", body, re.MULTILINE | re.IGNORECASE)
    ]
    if not names:
        names = [m.group(1).replace("_", " ") for m in re.finditer(r"\btest_(\w+)", body)]
    cleaned = [_clean_inline(n).rstrip(".:;*") for n in names]
    return list(dict.fromkeys(n for n in cleaned if n))[:_MAX_TEST_NAMES]


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _material(sections: list[Section]) -> list[list[str]]:
    """Candidate sentences per topic, in speaking order; the model's own short summary is not reused."""
    bodies: dict[SectionId | None, list[str]] = {}
    for section in sections:
        bodies.setdefault(section.id, []).append(section.body)
    topics: list[list[str]] = []
    for sid, lead in _LEADS:
        found = [s for body in bodies.get(sid, []) for s in sentences(clean_for_speech(body))]
        if found:
            topics.append([f"{lead}: {found[0]}", *found[1:]])
    names = [n for body in bodies.get(SectionId.TEST_SUITE, []) for n in _test_names(body)]
    if names:
        topics.append([_as_sentence(f"Recommended tests: {_join_names(names[:_MAX_TEST_NAMES])}")])
    return topics


def _trim(sentence: str, words: int) -> str:
    """The first ``words`` words (as word_count counts them) of a sentence, ended with a period."""
    kept = list(_WORD_RE.finditer(sentence))[:words]
    return sentence[: kept[-1].end()] + "." if kept else ""


def deterministic_summary(sections: list[Section], *, target_words: tuple[int, int] = (150, 200)) -> str:
    """A spoken summary built from the parsed sections, landing in ``target_words`` when material allows."""
    low, high = target_words
    closing = _TEMPLATE[-1]
    frame = word_count(_INTRO) + word_count(closing)  # always spoken
    budget = high - frame
    topics = _material(sections)
    chosen: list[list[str]] = [[] for _ in topics]
    used = 0
    # Round-robin over topics so every section gets its first sentence before any gets a second.
    for depth in range(max((len(t) for t in topics), default=0)):
        for i, topic in enumerate(topics):
            if depth >= len(topic):
                continue
            sentence, n = topic[depth], word_count(topic[depth])
            if used + n > budget:
                if depth > 0 or budget - used < 8:
                    continue
                sentence = _trim(sentence, budget - used)
                n = word_count(sentence)
            chosen[i].append(sentence)
            used += n
    body = [s for topic in chosen for s in topic]
    # Pad only with the honest template, and only while it keeps us under the ceiling.
    for extra in _TEMPLATE[:-1]:
        if used + frame >= low:
            break
        if used + word_count(extra) <= budget:
            body.append(extra)
            used += word_count(extra)
    return clean_for_speech(" ".join([_INTRO, *body, closing]))
