"""The written report (report.md), rendered from the run: its mode and what it measured."""

from __future__ import annotations

from bot.core.run import Run
from bot.core.sections import Section


def render_header(title: str, run: Run) -> str:
    info = run.facts
    if run.mode == "degraded":
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


def render_notes(run: Run) -> str:
    """What the reader should know about the input: redactions, omissions, missing sections."""
    info, notes = run.facts, []
    if run.mode == "degraded":
        notes.append(f"- No model analysis: {run.cause}")
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


def render_report(title: str, sections: list[Section], run: Run, digest: str = "") -> str:
    body = "\n\n".join(s.markdown for s in sections)
    parts = [render_header(title, run), digest.strip(), body, render_notes(run)]
    return "\n".join(p for p in parts if p).rstrip() + "\n"
