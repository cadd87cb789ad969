"""Rule-based digest of an incident: "What the thread shows", built without a model.

``build_digest(incident)`` → :class:`Digest` (plain data); ``render_markdown(digest)`` and ``render_context(digest)``
write it for the thread and the prompt, ``speech_text(digest)`` for the narration.
The failure classes and event patterns are data, in ``rules.toml``.
"""

from bot.core.digest.build import GAP_MINUTES, build_digest
from bot.core.digest.model import Digest, Event, FailureFinding, Gap, MetricJump
from bot.core.digest.render import render_context, render_markdown
from bot.core.digest.rules import Rules, RulesError, RuleTest, default_rules, load_rules
from bot.core.digest.speech import speech_text

__all__ = [
    "GAP_MINUTES",
    "Digest",
    "Event",
    "FailureFinding",
    "Gap",
    "MetricJump",
    "RuleTest",
    "Rules",
    "RulesError",
    "build_digest",
    "default_rules",
    "load_rules",
    "render_context",
    "render_markdown",
    "speech_text",
]
