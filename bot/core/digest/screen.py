"""Which classes a sentence may name, in one linear-time pass (RE2's set matching) before Python's `re` judges them.

Python's engine tries every alternative at every position: the ~500 class patterns over a 100 KB report took seconds.
RE2 matches all of them at once in time linear in the text. RE2 has no lookarounds, so the screen uses each pattern
without them: it matches a superset of what the pattern does, and the exact pattern (with the scope rules) decides.
"""

from __future__ import annotations

import re2  # no stubs (mypy override in pyproject.toml)

_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


def without_lookarounds(pattern: str) -> str:
    """``pattern`` with every lookahead and lookbehind group removed (each only ever narrows a match)."""
    out: list[str] = []
    i, depth, in_class = 0, 0, False
    skip_depth: int | None = None  # the depth of the lookaround group being dropped
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if skip_depth is None:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
            if skip_depth is None and pattern.startswith(_LOOKAROUND, i):
                skip_depth = depth
        elif ch == ")":
            if skip_depth == depth:
                skip_depth = None
                depth -= 1
                i += 1
                continue
            depth -= 1
        if skip_depth is None:
            out.append(ch)
        i += 1
    return "".join(out)


class Screen:
    """``owners(text)``: the indexes of the groups (one per class) with a pattern that may match in ``text``.
    A group with a pattern RE2 cannot read (a backreference, a possessive quantifier) is always named: Python's
    engine then decides alone, slower but never wrong."""

    def __init__(self, groups: list[list[str]]) -> None:
        options = re2.Options()
        options.case_sensitive = False
        options.never_capture = True
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        self._owner: list[int] = []
        self._always: set[int] = set()
        for index, patterns in enumerate(groups):
            for pattern in patterns:
                try:
                    self._set.Add(without_lookarounds(pattern))
                except re2.error:
                    self._always.add(index)
                    continue
                self._owner.append(index)
        self._set.Compile()

    def owners(self, text: str) -> set[int]:
        return {self._owner[i] for i in self._set.Match(text) or ()} | self._always
