"""What a run measured on the way: tokens, timings, redactions, citations, quality, tests, memory, voices, notes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.core.redact import redact_text


@dataclass
class RunFacts:
    """What is measured on the way through a run: written as it is learnt, never read to decide what the run does
    next (its status is the Run's). Persisted whole: run.json, the run store's JSON column."""

    prompt_version: str
    model: str
    # An earlier run already posted the digest in this thread (`again`): this one does not post it twice.
    skip_digest: bool = False
    message_count: int = 0
    input_hash: str | None = None
    context_tokens: int | None = None
    token_budget: int | None = None
    token_estimate: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None  # "length": the answer was cut at LLM_MAX_TOKENS
    template_tokens: int = 0  # chat-template tokens stripped from the answer
    # The quality gate's verdict on the answer: each check, what failed, sections dropped as repeats.
    quality: dict[str, Any] = field(default_factory=dict)
    # Evidence links (bot/core/citations.py): "cited" and "dangling_removed" counts (every citation the model wrote,
    # its repair included), the dangling ids, and the "sources" (time, Slack ts) of every message cited: all a front
    # end needs to render the links.
    citations: dict[str, Any] = field(default_factory=dict)
    # Model text the gate kept out of the thread, the report and the narration, by section: for debugging only.
    withheld: dict[str, str] = field(default_factory=dict)
    # Tickets made from the test plan (`analyze --tickets`): {"test", "url", "key"} each, or {"test", "error"}.
    tickets: list[dict[str, str]] = field(default_factory=list)
    # The report on the team's wiki (EXPORT, CLI runs): {"service", "url"} or {"service", "error"}.
    export: dict[str, str] = field(default_factory=dict)
    # With several LLM servers: the one that wrote the answer, and each server's state when the run ended.
    llm_server: str | None = None
    llm_servers: list[str] = field(default_factory=list)
    tts_engine: str | None = None
    tts_voice: str | None = None
    audio_error: str | None = None
    narrated_text: str | None = None  # exactly what the MP3 says
    timings: dict[str, float] = field(default_factory=dict)
    total_s: float | None = None
    sections_found: list[str] = field(default_factory=list)
    missing_sections: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    redactions: dict[str, int] = field(default_factory=dict)
    # Secrets found in the model's own answer and removed before it was posted.
    output_redactions: dict[str, int] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Files in the thread or input that could not be read, each "name (reason)".
    unread_files: list[str] = field(default_factory=list)
    # The structured test plan (bot/core/plan): one TestSpec dict per recommended test.
    tests: list[dict[str, Any]] = field(default_factory=list)
    # Memory (bot/core/memory): this incident's signals as remembered, and the past postmortems shown as
    # "Seen before" (their links or files), or why memory could not be searched.
    signals: dict[str, Any] = field(default_factory=dict)
    seen_before: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # Notes quote servers' error bodies (a proxy may echo the key it refused): none is written out unredacted.
        for name in ("fallbacks", "warnings", "llm_servers"):
            data[name] = [redact_text(note) for note in data[name]]
        if data["audio_error"]:
            data["audio_error"] = redact_text(data["audio_error"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunFacts:
        """Inverse of to_dict; unknown keys (from a newer version, or the run's own status kept beside the facts)
        are ignored, so an old bot can still resume."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
