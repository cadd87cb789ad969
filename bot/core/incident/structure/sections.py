"""Document headings → the normalised section their text belongs to (see incident.Section)."""

from __future__ import annotations

import re

from bot.core.incident.model import Section

# Checked in order, on the heading's words: the first family that matches names the section. More specific
# families come first ("root cause" before "cause", "action items" before the bare "resolution").
_PATTERNS: tuple[tuple[Section, str], ...] = (
        ("action_items", r"\baction items?\b|\bfollow[- ]?ups?\b|\bnext steps\b|\bcorrective\b|\bpreventi(?:ve|on)\b"
                         r"|\bremediation (?:items|actions|plan)\b|\bto ?dos?\b|\btasks\b|\bactions? (?:taken|to take|plan)\b"
                         r"|\bimprovements\b|\brecommendations\b|\bwhat we(?:'re| are| will)? (?:do|doing|change)"),
        ("lessons", r"\blessons?\b|\blearn(?:ed|ings|t)\b|\btakeaways?\b|\bwhat went (?:well|wrong|badly)\b|\bwhere we got lucky\b"
                    r"|\bretrospective\b|\breflections?\b"),
        ("contributing", r"\bcontribut\w*\b|\bfactors?\b|\btrigger\b"),
        ("root_cause", r"\broot[- ]?causes?\b|\bcauses?\b|\bwhy\b|\bwhat happened\b|\btechnical (?:details|analysis|description)\b"
                       r"|\banalysis\b|\binvestigation\b|\bdetails\b|\bdescription of the (?:issue|bug|vulnerability)\b"),
        ("timeline", r"\btime ?line\b|\bchronolog\w*\b|\bsequence of events\b|\bevents\b|\bdate/time\b|\btimestamps?\b"),
        ("impact", r"\bimpact\w*\b|\baffected\b|\bseverity\b|\bscope\b|\bblast radius\b"),
        ("detection", r"\bdetect\w*\b|\bdiscover\w*\b|\bidentification\b|\bhow (?:we|it was) (?:found|noticed)\b"),
        ("resolution", r"\bresol\w*\b|\brecover\w*\b|\bmitigat\w*\b|\bremediat\w*\b|\bfix(?:es)?\b|\bresponse\b|\brestor\w*\b"),
    ("summary", r"\bsummary\b|\boverview\b|\bbackground\b|\bintroduction\b|\bdescription\b|\babstract\b|\bcontext\b|\btl;?dr\b"),
)
_FAMILIES = tuple((section, re.compile(pattern, re.IGNORECASE)) for section, pattern in _PATTERNS)
_MARKDOWN = re.compile(r"^\s*#{1,6}\s+(?P<h>.+?)\s*#*\s*$")
# "**Root cause**", "__Impact:__", "Root cause:" alone on a line (at most six words).
_STANDALONE = re.compile(r"^\s*(?:\*\*|__)?(?P<h>[A-Za-z][\w /&'’()-]{1,60}?)(?:\*\*|__)?\s*:?\s*(?:\*\*|__)?\s*$")
# "Root cause: the certificate expired" — a known label opening a paragraph.
_INLINE = re.compile(r"^\s*(?:\*\*|__)?(?P<h>[A-Za-z][\w /&'’-]{1,40}?)(?:\*\*|__)?\s*:(?:\*\*|__)?\s+(?P<rest>\S.*)$")


def section_of(heading: str) -> Section | None:
    """The section a heading's words name, or None for a heading of no known family ("Stats", "Appendix")."""
    return next((section for section, regex in _FAMILIES if regex.search(heading)), None)


def heading(line: str, next_line: str = "") -> str | None:
    """The heading text when ``line`` is a heading: markdown ``#``, a setext underline on ``next_line``, or a short
    bold or colon-ended label alone on its line. Plain short lines are headings only when they name a section."""
    if match := _MARKDOWN.match(line):
        return match.group("h").strip("*_ :")
    stripped = line.strip()
    if stripped and re.fullmatch(r"=+|-{3,}", next_line.strip()) and len(stripped.split()) <= 8:
        return stripped.strip("*_ :")
    match = _STANDALONE.match(line)
    if match is None or len(match.group("h").split()) > 6:
        return None
    text = match.group("h").strip()
    # A short line ending in ":" is as often chat ("from the war room:") as a label: only a known section's name.
    bold = stripped.startswith(("**", "__"))
    return text if bold or section_of(text) else None


def labelled(line: str) -> tuple[Section, str] | None:
    """("root_cause", "the certificate expired") for "Root cause: the certificate expired"."""
    match = _INLINE.match(line)
    if match is None or len(match.group("h").split()) > 4:
        return None
    section = section_of(match.group("h"))
    return (section, match.group("rest")) if section else None
