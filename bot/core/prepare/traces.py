"""Stack traces (Python, Java/JVM, Node, Go) cut to the exception line plus the top frames.

The model needs the exception and where it was raised, not 80 framework frames. Each trace becomes
one Chunk so that identical traces can later be folded with a count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.core.prepare.timestamps import split_ts

KEEP_FRAMES = 3

_PY_START = "Traceback (most recent call last):"
_PY_FRAME = re.compile(r'^\s+File "')
_AT_FRAME = re.compile(r"^\s+at\s+\S")  # Java, Kotlin, Scala, Node, .NET
_AT_MORE = re.compile(r"^\s+\.\.\. (\d+) (?:more|common frames omitted)")
_GO_START = re.compile(r"^goroutine \d+ \[[^\]]*\]:\s*$")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A log line, or a whole reduced trace (several lines)."""

    text: str
    ts: str | None  # first timestamp in the text; a trace borrows the line before it (the log call that printed it)
    bare: str  # text without that timestamp, for folding
    trace: bool = False


def _more(count: int, indent: str) -> list[str]:
    if count <= 0:
        return []
    return [f"{indent}… {count} more frame{'s' if count > 1 else ''}"]


def _python(lines: Sequence[str], i: int, keep: int) -> tuple[list[str], int]:
    """From the 'Traceback' line: header, elision marker, the last ``keep`` frames (nearest the raise), exception."""
    frames: list[list[str]] = []
    j = i + 1
    while j < len(lines) and lines[j][:1] in (" ", "\t"):
        if _PY_FRAME.match(lines[j]) or not frames:
            frames.append([])
        # Python 3.11+ caret lines (^^^^) point at columns; they cost tokens and add nothing here.
        if lines[j].strip().strip("^~"):
            frames[-1].append(lines[j])
        j += 1
    out = [lines[i], *_more(len(frames) - keep, "  ")]
    out += [line for frame in frames[-keep:] for line in frame]
    if j < len(lines) and lines[j].strip():
        out.append(lines[j])  # the exception line
        j += 1
    return out, j


def _at_frames(lines: Sequence[str], i: int, keep: int) -> tuple[list[str], int]:
    """From the exception line followed by ``at …`` frames: exception, the first ``keep`` frames, marker."""
    shown: list[str] = []
    hidden = 0
    j = i + 1
    while j < len(lines):
        more = _AT_MORE.match(lines[j])
        if more:
            hidden += int(more.group(1))
        elif _AT_FRAME.match(lines[j]):
            if len(shown) < keep:
                shown.append(lines[j])
            else:
                hidden += 1
        else:
            break
        j += 1
    indent = shown[0][: len(shown[0]) - len(shown[0].lstrip())] if shown else "\t"
    return [lines[i], *shown, *_more(hidden, indent)], j


def _go(lines: Sequence[str], i: int, keep: int) -> tuple[list[str], int]:
    """From 'goroutine N [state]:': frames are a function line followed by a tab-indented file:line."""
    out = [lines[i]]
    frames = 0
    j = i + 1
    while j < len(lines):
        line = lines[j]
        if line.startswith("\t"):
            frames += 1
        elif not (line.strip() and j + 1 < len(lines) and lines[j + 1].startswith("\t")):
            break
        if frames < keep or (frames == keep and line.startswith("\t")):
            out.append(line)
        j += 1
    return out + _more(frames - keep, "\t"), j


def split_traces(lines: Sequence[str], keep: int = KEEP_FRAMES) -> Iterator[Chunk]:
    """Lines in order, with each stack trace replaced by one reduced multi-line Chunk. Linear time."""
    i = 0
    prev_ts: str | None = None
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _PY_START in line:
            trace, i = _python(lines, i, keep)
        elif _GO_START.match(line):
            trace, i = _go(lines, i, keep)
        elif _AT_FRAME.match(nxt) and not _AT_FRAME.match(line) and line.strip():
            trace, i = _at_frames(lines, i, keep)
        else:
            ts, bare = split_ts(line)
            prev_ts = ts
            yield Chunk(line, ts, bare)
            i += 1
            continue
        ts, bare_head = split_ts(trace[0])
        ts = ts or prev_ts
        prev_ts = ts
        yield Chunk("\n".join(trace), ts, "\n".join([bare_head, *trace[1:]]), trace=True)
