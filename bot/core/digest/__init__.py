"""Rule-based digest of an incident: "What the thread shows", built without a model.

``build_digest(incident)`` → :class:`Digest` with ``render_markdown()`` and ``speech_text()``.
The failure classes and event patterns are data, in ``rules.toml``.
"""

from bot.core.digest.build import GAP_MINUTES, build_digest
from bot.core.digest.model import Digest, Event, Failure, Gap, MetricJump
from bot.core.digest.rules import Rules, RulesError, TestSpec, default_rules, load_rules

__all__ = [
    "GAP_MINUTES",
    "Digest",
    "Event",
    "Failure",
    "Gap",
    "MetricJump",
    "Rules",
    "RulesError",
    "TestSpec",
    "build_digest",
    "default_rules",
    "load_rules",
]
