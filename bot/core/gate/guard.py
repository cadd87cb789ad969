"""Each section once: the first repeated heading ends the answer."""

from __future__ import annotations

from bot.core.gate.model import CheckFailure, CheckId
from bot.core.sections import SECTION_TITLES, SectionId


class RepeatGuard:
    """Feed section ids in stream order; ``feed`` returns False from the first repeated heading on.

    Small models were seen writing the six headings five times over: the caller stops reading the stream at
    the first False, so no section is posted twice, and ``dropped`` counts what was cut off (the repeat itself
    and any section fed after it).
    """

    def __init__(self) -> None:
        self._seen: set[SectionId] = set()
        self.stopped_at: SectionId | None = None
        self.dropped = 0
        self._open_counted = False  # the repeat was counted by opened(); its emission by the parser is not new

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    def feed(self, section: SectionId | None) -> bool:
        """Call with each section the parser emits. True: keep it. False: its heading came again (or it came
        after a repeat): drop it, and stop reading the stream."""
        if self.stopped_at is None and (section is None or section not in self._seen):
            if section is not None:
                self._seen.add(section)
            return True
        if self.stopped_at is None:
            self.stopped_at = section
        elif self._open_counted and section is self.stopped_at:
            self._open_counted = False
            return False
        self.dropped += 1
        return False

    def opened(self, section: SectionId | None) -> bool:
        """Optional, earlier: call when the parser opens a section (``parser.open_section``), before its body
        streams. False: the heading repeats an emitted section: stop reading now instead of at the next heading."""
        if self.stopped_at is not None:
            return False
        if section is None or section not in self._seen:
            return True
        self.stopped_at, self._open_counted = section, True
        self.dropped += 1
        return False

    def failure(self) -> CheckFailure | None:
        """A record for the gate result, not a repair request: the kept sections are unaffected."""
        if self.stopped_at is None:
            return None
        return CheckFailure(
            CheckId.SECTIONS_ONCE, self.stopped_at,
            f'the answer repeated the heading "{SECTION_TITLES[self.stopped_at]}"; reading stopped there '
            f"and {self.dropped} section(s) after it were dropped",
            repairable=False,
        )
