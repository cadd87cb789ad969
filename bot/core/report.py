"""The run record (run.json) and the written report (report.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.core.prepare.redact import redact_text
from bot.core.run import RunState, check_transition
from bot.core.sections import Section
from bot.ops import metrics


@dataclass
class RunInfo:
    """Everything known about one run; persisted whole (run.json, the run store's JSON column)."""

    prompt_version: str
    model: str
    status: RunState = RunState.QUEUED
    error: str | None = None
    # "degraded": no usable model answer (unreachable, stalled, garbage after the repair); ``cause`` says why.
    mode: str = "full"
    cause: str | None = None
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
    # The structured test plan (bot/core/testplan): one TestSpec dict per recommended test.
    tests: list[dict[str, Any]] = field(default_factory=list)
    # Memory (bot/core/memory): this incident's signals as remembered, and the past postmortems shown as
    # "Seen before" (their links or files), or why memory could not be searched.
    signals: dict[str, Any] = field(default_factory=dict)
    seen_before: list[str] = field(default_factory=list)

    def advance(self, new: RunState, error: str | None = None) -> None:
        """The one place a run changes state; raises InvalidTransition on a move the machine does not allow."""
        check_transition(self.status, new)
        if new is not self.status:
            metrics.run_ended(new)
        self.status = new
        if error is not None:
            # Errors quote servers and the thread (an LLM proxy may echo the request's key): never store a secret.
            self.error = redact_text(error)

    def degrade(self, cause: str) -> None:
        """No usable model answer: the run ends DEGRADED with the digest standing in. ``cause`` is cause and fix."""
        self.mode, self.cause = "degraded", redact_text(cause)

    def finish(self) -> None:
        """The run's last move: DONE, or DEGRADED when the digest stood in for the model."""
        self.advance(RunState.DEGRADED if self.mode == "degraded" else RunState.DONE)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        # Notes quote servers' error bodies (a proxy may echo the key it refused): none is written out unredacted.
        for name in ("fallbacks", "warnings", "llm_servers"):
            data[name] = [redact_text(note) for note in data[name]]
        if data["audio_error"]:
            data["audio_error"] = redact_text(data["audio_error"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        """Inverse of to_dict; unknown keys (from a newer version) are ignored so an old bot can still resume."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = RunState(values.get("status", RunState.QUEUED))
        return cls(**values)


def render_header(title: str, info: RunInfo) -> str:
    if info.mode == "degraded":
        return (
            f"# Testing postmortem: {title}\n\n"
            "_Rule-based digest only: the model gave no usable answer (see the notes at the end). "
            "Built from the thread by fixed rules, not by a model._\n"
        )
    return (
        f"# Testing postmortem: {title}\n\n"
        f"_Model `{info.model}`, prompt version `{info.prompt_version}`. "
        "AI-generated draft: verify before acting._\n"
    )


def render_notes(info: RunInfo) -> str:
    """What the reader should know about the input: redactions, omissions, missing sections."""
    notes = []
    if info.mode == "degraded":
        notes.append(f"- No model analysis: {info.cause}")
    if info.withheld:
        notes.append("- Held back by the quality check (kept in run.json only): " + ", ".join(info.withheld))
    if info.redactions:
        counts = ", ".join(f"{kind} ×{n}" for kind, n in sorted(info.redactions.items()))
        notes.append(f"- Redacted before analysis: {counts}")
    if info.output_redactions:
        counts = ", ".join(f"{kind} ×{n}" for kind, n in sorted(info.output_redactions.items()))
        notes.append(f"- Removed from the model's answer: {counts}")
    if dangling := info.citations.get("dangling_removed"):
        ids = ", ".join(info.citations.get("dangling") or [])
        notes.append(f"- Citations removed: {dangling} pointed at no message the model was shown ({ids})")
    notes += [f"- Left out to fit the context: {item}" for item in info.omitted]
    notes += [f"- Could not read: {item}" for item in info.unread_files]
    if info.missing_sections:
        notes.append("- The model did not write: " + ", ".join(info.missing_sections))
    notes += [f"- Warning: {w}" for w in info.warnings]
    notes += [f"- Quality note: {n}" for n in info.quality.get("notes", [])]  # remarks, not failures: no warning
    return "## Notes on this run\n\n" + "\n".join(notes) + "\n" if notes else ""


def render_report(title: str, sections: list[Section], info: RunInfo, digest: str = "") -> str:
    body = "\n\n".join(s.markdown for s in sections)
    parts = [render_header(title, info), digest.strip(), body, render_notes(info)]
    return "\n".join(p for p in parts if p).rstrip() + "\n"
