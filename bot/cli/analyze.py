"""`python -m bot analyze`: one incident file → report.md, summary.mp3, run.json.

The output folder is locked for the run and cleared of the previous run's files before anything else, and
run.json is written at the start and again at the end whatever happens: its ``status`` is "done", "failed" or
"interrupted", with the cause in ``error``. A report cut short by a failure or signal ends with a note saying so."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.cli.export import export_report
from bot.cli.outputs import OutputDir, OutputError
from bot.cli.remember import CliMemory
from bot.cli.signals import Interrupted, SignalGuard
from bot.cli.tickets import backend_for_cli, file_tickets
from bot.core.citations import render_times
from bot.core.events import DigestReady, Event, PlanReady, Progress, ReportReady, SectionDone, SectionRevised, Sources, StageStarted, Subscribers
from bot.core.incident.load import load_incident
from bot.core.incident.model import Incident
from bot.core.plan.skeletons import plan_json, render_skeletons
from bot.core.prompt import PROMPT_VERSION
from bot.core.redact import redact_text
from bot.core.run import TERMINAL, Part, Run, RunFacts, Target
from bot.core.run.report import render_header
from bot.errors import InputError, LLMUnavailable, PostmortemError
from bot.export import ExportError, make_exporter
from bot.settings import Settings, load_settings
from bot.tickets.model import tests_of

REPORT, AUDIO, RECORD = "report.md", "summary.mp3", "run.json"
TESTS_JSON, TESTS_DIR = "tests.json", "tests"  # the structured test plan and its skeletons
# A partial report whose closing note cannot be written (disk full) is renamed to this, which needs no room.
INCOMPLETE = "report.incomplete.md"


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class ReportFile:
    """The CLI's subscriber to the run's events: one line per stage on stderr; report.md rewritten (atomically) as
    each section completes."""

    def __init__(self, out: OutputDir, title: str, run: Run) -> None:
        self.out = out
        self.text = render_header(title, run)
        self.started = False  # report.md exists only once the model has written a section
        self.final = False

    async def __call__(self, event: Event) -> None:
        match event:
            case StageStarted(stage, detail):
                _say(f"[{stage.value}] {detail}")
            case Progress(tick=True):  # the clock's beat: a slow model still shows it is writing
                _say(f"[analysing] {event.describe()}")
            case DigestReady(markdown, sources):  # evidence ids become the messages' times
                self._append(markdown, sources)
                _say("[digest] what the thread shows (rule-based)")
            case SectionDone(section, sources):
                self._append(section.markdown + "\n", sources)
                _say(f"[section] {section.title}")
            case SectionRevised(section):  # report.md is rewritten whole at ReportReady, a moment later
                _say(f"[repaired] {section.title}")
            case PlanReady(plan):
                self.out.write(TESTS_JSON, plan_json(plan))
                self.out.write_folder(TESTS_DIR, render_skeletons(plan))
                _say(f"[tests] {len(plan.tests)} test(s): {TESTS_JSON} and {TESTS_DIR}/")
            case ReportReady(report, _, sources):
                # The final file adds the header details and notes on redactions and omissions.
                self.text = render_times(report, sources)
                self.out.write(REPORT, self.text)
                self.started = self.final = True

    def _append(self, markdown: str, sources: Sources) -> None:
        self.text += "\n" + render_times(markdown, sources)
        self.out.write(REPORT, self.text)
        self.started = True

    def close_incomplete(self, reason: str) -> None:
        """End a partial report with why it stops, so nobody mistakes it for a whole one."""
        if self.started and not self.final:
            self.text += f"\n---\n\n**Incomplete report:** {reason}\n"
            try:
                self.out.write(REPORT, self.text)
            except OutputError:
                self.out.rename(REPORT, INCOMPLETE)


class RunJson:
    """The CLI's sink for its Run: run.json, rewritten whole (atomically) at every save."""

    def __init__(self, out: OutputDir) -> None:
        self.out = out

    def save(self, run: Run, parts: Iterable[Part]) -> None:
        self.out.write(RECORD, json.dumps(run.to_dict(), indent=2) + "\n")

    def posted(self, run: Run, item: str, ts: str | None) -> None:
        return None  # nothing is posted: the files are the outputs

    async def flush(self) -> None:
        return None


class CliRun:
    """One `analyze` run against a locked output folder."""

    def __init__(self, out: OutputDir, guard: SignalGuard, model: str | None) -> None:
        self.out = out
        self.guard = guard
        # The model is refined once settings load; a bad setting still leaves a record naming what was asked for.
        self.run = Run(RunFacts(prompt_version=PROMPT_VERSION, model=model or "unknown"), sink=RunJson(out))
        self.report: ReportFile | None = None
        self.memory: CliMemory | None = None

    def execute(self, input_path: str, *, audio: bool, model: str | None, strict: bool = False, tickets: bool = False) -> int:
        self.run.target = Target(path=input_path)
        self.run.collecting()  # run.json replaces the previous run's record at once
        settings = load_settings(**({"llm_model": model} if model else {}))
        self.run.facts.model = settings.llm_model
        backend = backend_for_cli(settings) if tickets else None  # a missing ticket setting fails before the model runs
        exporter = make_exporter(settings)  # so does a missing export setting
        if input_path == "-":
            _say("[loading] reading the incident from stdin (end it with Ctrl-D)")
        incident = load_incident(input_path)
        _say(f"[loaded] {len(incident.messages)} messages from {input_path}")
        self.memory = CliMemory.open(settings, input_path, _say)
        try:
            asyncio.run(self._analyse(settings, incident, audio))
        finally:
            self.guard.detach()
        self.guard.stopping = True
        if self.run.status not in TERMINAL:
            self.run.finish()
        _say(f"[done] wrote {self.out.path / REPORT}, {RECORD}" + (", " + AUDIO if self.run.facts.tts_engine else ""))
        try:
            exported: ExportError | None = None
            if exporter is not None and self.report is not None and self.report.final:
                exported = asyncio.run(export_report(exporter, self.run.facts, self.report.text))
                self.run.save()
                if exported is not None:
                    _say(f"warning: the report was not exported to {exporter.name}: {exported}")
            if backend is not None:  # issue 9: one ticket per test of the plan; failures raise TicketError (exit 5)
                try:
                    asyncio.run(file_tickets(backend, self.run.facts, tests_of(self.run.facts)))
                finally:
                    self.run.save()
        finally:
            self.memory.remember(self.run)  # with the tickets just filed
        if self.run.mode == "degraded":
            # One line: the outputs are real (digest, rule-based checklist, narration), the model's analysis is not.
            _say(f"warning: rule-based digest only, no model analysis: {' '.join(str(self.run.cause).split())}")
            if strict:
                return LLMUnavailable.exit_code
        return ExportError.exit_code if exported is not None else 0

    async def _analyse(self, settings: Settings, incident: Incident, audio: bool) -> None:
        # Imported here: the LLM client (openai) takes ~1-2 s to import, and bad input should fail at once.
        from bot.core.pipeline import Pipeline

        self.guard.attach()
        pipeline = Pipeline(settings)
        self.report = ReportFile(self.out, redact_text(incident.title), self.run)
        try:
            if self.memory is not None:
                await self.memory.start()
            # run.json is saved as the model's output arrives (when the run store would be), before report.md shows it.
            result = await pipeline.run(incident, Subscribers(self.run, self.report), narrate=audio, run=self.run,
                                        recall=self.memory.recall if self.memory else None)
        except asyncio.CancelledError:
            interrupted = self.guard.interrupted()
            if interrupted is None:
                raise
            raise interrupted from None
        finally:
            await pipeline.aclose()
            if self.memory is not None:
                await self.memory.stop()
        if self.memory is not None:
            self.memory.result = result
        if result.audio is not None:
            self.out.write(AUDIO, result.audio.mp3)
            _say(f"[audio] {result.audio.engine} ({result.audio.voice}), {result.audio.duration_s:.0f} s")
        elif self.run.facts.audio_error:
            _say(f"[audio] not made: {self.run.facts.audio_error}")

    def fail(self, exc: BaseException) -> None:
        """Record why the run stopped: run.json always ends in a terminal or interrupted state."""
        self.guard.stopping = True
        stop: Callable[[str], None] = self.run.fail
        if isinstance(exc, Interrupted | KeyboardInterrupt):
            stop, cause = self.run.interrupt, f"interrupted by {exc.signal_name if isinstance(exc, Interrupted) else 'SIGINT'}"
        elif isinstance(exc, PostmortemError):
            cause = str(exc)
        else:
            cause = f"unexpected {type(exc).__name__}: {exc}"
        # Each step is best effort: the disk may refuse run.json and report.md, and the error on stderr is what the
        # user then gets. The run may have ended already (e.g. a ticket failed after it was done).
        with contextlib.suppress(OutputError):
            if self.run.status not in TERMINAL:
                stop(cause)
        if self.memory is not None:
            self.memory.close()
        with contextlib.suppress(OutputError):
            if self.report is not None:
                self.report.close_incomplete(f"the run stopped here ({self.run.status.value}): {cause}")
        with contextlib.suppress(OutputError):
            self.run.save()


def analyze(input_path: str, *, out: str, audio: bool, model: str | None, strict: bool = False, tickets: bool = False) -> int:
    names = (REPORT, INCOMPLETE, AUDIO, RECORD, TESTS_JSON)
    # The folder is cleared at the start; an input that is one of its outputs would be deleted before it is read.
    try:
        clash = input_path != "-" and (Path(input_path).resolve() in {(Path(out) / n).resolve() for n in names}
                                       or (Path(out) / TESTS_DIR).resolve() in Path(input_path).resolve().parents)
    except (RuntimeError, OSError) as exc:  # a symlink loop, or a path the OS refuses to resolve
        raise InputError(f"cannot resolve {input_path} or {out}: {exc}", "pass real files and folders, not a symlink loop") from None
    if clash:
        raise InputError(
            f"the input {input_path} is one of this run's outputs and would be replaced",
            "copy it elsewhere first, or pass a different --out folder",
        )
    guard = SignalGuard()
    try:
        with OutputDir(Path(out), names, folders=(TESTS_DIR,)) as folder:
            run = CliRun(folder, guard, model)
            try:
                return run.execute(input_path, audio=audio, model=model, strict=strict, tickets=tickets)
            except BaseException as exc:
                run.fail(exc)
                raise
    finally:
        guard.restore()
