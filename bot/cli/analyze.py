"""`python -m bot analyze`: one incident file → report.md, summary.mp3, run.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.core.incident import load_incident
from bot.core.observer import Stage
from bot.core.pipeline import Pipeline
from bot.core.prompt import PROMPT_VERSION
from bot.core.report import RunInfo, render_header
from bot.core.sections import Section
from bot.errors import InputError
from bot.settings import Settings, load_settings


class FileObserver:
    """Prints one line per stage on stderr and appends each section to report.md as it completes."""

    def __init__(self, out: Path, title: str, settings: Settings) -> None:
        self.report = out / "report.md"
        self.report.write_text(render_header(title, RunInfo(PROMPT_VERSION, settings.llm_model)), encoding="utf-8")

    async def on_stage(self, stage: Stage, detail: str) -> None:
        print(f"[{stage.value}] {detail}", file=sys.stderr, flush=True)

    async def on_tokens(self, tokens: int) -> None:
        return None

    async def on_section(self, section: Section) -> None:
        with self.report.open("a", encoding="utf-8") as fh:
            fh.write("\n" + section.markdown + "\n")
        print(f"[section] {section.title}", file=sys.stderr, flush=True)

    async def on_report(self, report_markdown: str, summary: str | None) -> None:
        # The final file adds the header details and notes on redactions and omissions.
        self.report.write_text(report_markdown, encoding="utf-8")


async def analyze(input_path: str, *, out: str, audio: bool, model: str | None) -> int:
    settings = load_settings(**({"llm_model": model} if model else {}))
    incident = load_incident(input_path)
    out_dir = Path(out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output folder {out}: {exc.strerror}", "pass a writable --out folder") from None
    print(f"[loaded] {len(incident.messages)} messages from {input_path}", file=sys.stderr, flush=True)
    pipeline = Pipeline(settings)
    try:
        observer = FileObserver(out_dir, incident.title, settings)
        result = await pipeline.run(incident, observer, narrate=audio)
    finally:
        await pipeline.aclose()
    if result.audio is not None:
        (out_dir / "summary.mp3").write_bytes(result.audio.mp3)
        print(f"[audio] {result.audio.engine} ({result.audio.voice}), {result.audio.duration_s:.0f} s", file=sys.stderr)
    elif result.info.audio_error:
        print(f"[audio] not made: {result.info.audio_error}", file=sys.stderr)
    (out_dir / "run.json").write_text(json.dumps(result.info.to_dict(), indent=2) + "\n", encoding="utf-8")
    print(f"[done] wrote {out_dir / 'report.md'}, run.json" + (", summary.mp3" if result.audio else ""), file=sys.stderr)
    return 0
