"""The postmortem pipeline: prepare → prompt → analyse (streamed, parsed) → summary → narrate."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from functools import partial

from bot import metrics
from bot.core.answer.model import Answer
from bot.core.answer.stream import AnswerRepeats, AnswerStream, scrub
from bot.core.citations import CitationAudit, recorded_sources
from bot.core.digest import Digest, build_digest, render_context, render_markdown, speech_text
from bot.core.events import DigestReady, Emit, PlanReady, Progress, ReportReady, SectionDone, SectionRevised, Stage, StageStarted, ignore
from bot.core.gate import GateResult, ask_for_repair, build_repair_prompt, check_section, is_garbage, quality_record
from bot.core.incident.model import Incident, cleaned, render_incident
from bot.core.incident.substance import require_content
from bot.core.llm import ContextExceeded, ModelInfo, StreamResult
from bot.core.llm.pool import ChatModel, make_llm
from bot.core.memory import Recall, recall_within, signals_of
from bot.core.plan.build import make_test_plan, plan_from_record
from bot.core.prepare import estimate_tokens, prepare_incident
from bot.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_summary_prompt, build_user_prompt, prompt_overhead_tokens
from bot.core.redact import redact_text
from bot.core.run import Run, RunFacts
from bot.core.run.report import render_report
from bot.core.sections import SECTION_TITLES, Section, SectionId
from bot.core.speech.narrator import Narrator
from bot.core.speech.streaming import SpeechStream
from bot.core.speech.text import clean_for_speech, deterministic_summary, needs_summary_fallback, word_count
from bot.core.speech.types import Audio
from bot.errors import PostmortemError
from bot.settings import Settings

log = logging.getLogger(__name__)

# Progress callbacks are throttled so a Slack status edit is not made per token.
_TOKEN_PROGRESS_EVERY = 50


@dataclass
class PostmortemResult:
    sections: list[Section]
    report_markdown: str
    audio: Audio | None
    run: Run
    summary: str | None  # the text narrated (kept so a resumed run can narrate it again)

    @property
    def facts(self) -> RunFacts:
        return self.run.facts


class Pipeline:
    """Runs one incident end to end. Holds the LLM client and narrator so piper's voice loads once per process."""

    def __init__(self, settings: Settings, llm: ChatModel | None = None, narrator: Narrator | None = None) -> None:
        self.settings = settings
        self.llm = llm or make_llm(settings)
        self.narrator = narrator or Narrator(settings)

    def new_facts(self) -> RunFacts:
        return RunFacts(prompt_version=PROMPT_VERSION, model=self.settings.llm_model)

    async def run(self, incident: Incident, emit: Emit = ignore, *, narrate: bool = True,
                  run: Run | None = None, recall: Recall | None = None) -> PostmortemResult:
        """Analyse ``incident`` for ``run`` (a run nobody keeps by default), which holds the partial record when this
        raises. Without a usable model answer the run ends degraded: the digest stands in for it (``run.mode``).
        ``recall``: the team's memory as this run may see it; its "Seen before" joins the digest and the prompt."""
        narrate = narrate and self.narrator.enabled
        run = run if run is not None else Run(self.new_facts())
        info = run.facts
        incident = cleaned(incident)
        # A thread of emoji and links would still get a confident six-section answer: refuse it before the model.
        require_content(incident, "the incident" if incident.source.startswith("slack") else redact_text(incident.title))
        run.analysing()
        info.message_count = len(incident.messages)
        info.unread_files = list(incident.unread_files)
        info.input_hash = hashlib.sha256(render_incident(incident).encode()).hexdigest()[:16]
        timer = _Timer(info)
        # What the thread shows, from rules alone: the first reply, before the model is asked anything.
        with timer("digest"):
            digest = await asyncio.to_thread(build_digest, incident)
            signals = signals_of(digest, redact_text(incident.title))
        info.signals = signals.to_dict()
        with timer("recall"):
            recalled = await recall_within(recall, digest, incident, signals)
        info.seen_before = [m.past.link or m.past.where for m in recalled.seen.matches]
        if recalled.seen.note:
            info.fallbacks.append(recalled.seen.note)
        digest_markdown = render_markdown(digest) + recalled.markdown
        context = "\n\n".join(part for part in (recalled.grounding, render_context(digest)) if part)
        # Evidence ids: the digest's cited messages recorded before it is shown, the model's checked per section.
        citations = CitationAudit(incident, info.citations, digest_markdown, context)
        if not info.skip_digest:  # `again` in a thread that already has one
            await emit(DigestReady(digest_markdown, recorded_sources(info.citations)))

        answer = Answer(prompt_text="", incident_text="")
        progress = _Progress(emit, self.settings.status_interval_s)
        # The spoken summary is narrated while it streams; only what is left waits for the last token.
        stream = AnswerStream(emit, info, answer, SpeechStream(self.narrator.narrate) if narrate else None,
                              partial(self._speak, info=info), progress.add, citations)
        try:
            await self._analyse(incident, context, info, emit, timer, stream, progress)
            with timer("repair"):
                verdict = await self._repair(answer, stream, info, emit)
        except PostmortemError as exc:
            stream.cancel()
            await stream.retract_preview()  # the section being typed when the model failed never finishes
            if answer.shown:
                # Cut off after real sections were posted: a failed run, so a retry posts only what is missing.
                raise
            # The model is unreachable, missing, stalled, busy or silent: the digest is the answer.
            return await self._degraded(incident, digest, digest_markdown, answer, run, emit, timer, narrate, str(exc))
        except BaseException as exc:
            stream.cancel()
            if not isinstance(exc, asyncio.CancelledError):  # cancelled: the bot stops, a restart takes it back
                await stream.retract_preview()
            raise
        finally:
            # Which server wrote it and how each stands: the closing line shows it, so a bench is visible.
            info.llm_servers = [state.line(info.llm_server) for state in self.llm.server_states()]
        if not answer.usable:
            stream.cancel()
            held = ", ".join(answer.held_titles()) or "none"
            first = verdict.failures[0].shown if verdict.failures else "analysis sections missing"
            return await self._degraded(incident, digest, digest_markdown, answer, run, emit, timer, narrate,
                                        f"the model's answer failed the quality check even after one repair (held back: {held}; "
                                        f"{first}) — fix: use a larger or instruction-tuned model (LLM_MODEL)")
        sections = answer.shown
        info.withheld = answer.withheld()
        # The Recommended Test Suite as records (issue 9): one JSON call only when the markdown lacks fields.
        if (plan := await make_test_plan(sections, answer.incident_text, self.llm, info)) is not None:
            await emit(PlanReady(plan))
        report = render_report(redact_text(incident.title), sections, run, digest_markdown)
        summary: str | None = None
        narration = stream.narration
        if narrate:
            summary = await self._summary_text(answer, report, info)
        if narrate and narration is None and summary is not None:
            narration = asyncio.create_task(self.narrate(summary, info))
        run.posting()
        await emit(ReportReady(report, summary, recorded_sources(run.facts.citations)))
        return await self._finish(PostmortemResult(sections, report, None, run, summary), narration, emit, timer)

    async def _analyse(self, incident: Incident, context: str, info: RunFacts, emit: Emit, timer: _Timer,
                       stream: AnswerStream, progress: _Progress) -> None:
        """Preflight, prepare and stream the answer into ``stream``; model-side trouble raises PostmortemError."""
        with timer("preflight"):
            model = await self.llm.preflight()
        info.context_tokens = model.context_tokens
        info.model = model.server_model or info.model
        info.warnings += model.warnings

        await emit(StageStarted(Stage.PREPARING, f"{len(incident.messages)} messages"))
        budget = self._budget(model)
        with timer("prepare"):
            user_prompt, incident_text = await self._prompt(incident, budget, info, context)
            budget, user_prompt, incident_text = await self._fit_to_tokenizer(incident, model, budget, user_prompt, incident_text, info, context)
        await emit(StageStarted(Stage.ANALYSING, f"asking {info.model}"))

        async def ask() -> StreamResult:
            stream.answer.prompt_text, stream.answer.incident_text = f"{SYSTEM_PROMPT}\n{user_prompt}", incident_text
            async with progress.ticking():
                try:
                    return await self.llm.stream(SYSTEM_PROMPT, user_prompt, on_text=stream.on_text, context_tokens=model.context_tokens)
                except AnswerRepeats:
                    return StreamResult("", None, None, None, "repeated")

        with timer("analyse"):
            try:
                result = await ask()
            except ContextExceeded as exc:
                # Refused before any text: shrink the incident to what the server says fits, and ask once more.
                budget = _shrunk(budget, exc)
                info.fallbacks.append(f"the server refused the prompt as too long ({exc.message}): "
                                      f"the incident was cut to {budget} tokens and sent again")
                user_prompt, incident_text = await self._prompt(incident, budget, info, context)
                result = await ask()
            await stream.close(result.finish_reason)
        info.prompt_tokens, info.completion_tokens = result.prompt_tokens, result.completion_tokens
        info.finish_reason, info.template_tokens = result.finish_reason, result.template_tokens
        info.model = result.server_model or info.model
        info.llm_server = result.server
        info.warnings += result.warnings
        info.sections_found = [s.id.value for s in stream.answer.sections if s.id]
        info.missing_sections = [sid.value for sid in stream.parser.missing()]

    async def _repair(self, answer: Answer, stream: AnswerStream, info: RunFacts, emit: Emit) -> GateResult:
        """One targeted call for the failing sections only (none when everything passed); a shown section that
        the repair improves is revised in place, a held-back one is shown for the first time."""
        before = answer.evaluate(stream.guard)
        repair = build_repair_prompt(before, answer.sections, incident_text=answer.incident_text)
        after: GateResult | None = None
        if repair is not None:
            targets = before.repair_targets()
            sections, failed = await ask_for_repair(self.llm, repair, max_tokens=self.settings.llm_max_tokens)
            info.fallbacks += [failed] if failed else []
            rewritten = [stream.cite(scrub(info, s)) for s in sections]
            for section, was_shown in answer.apply_repair(rewritten, targets, "\n".join(repair)):
                cited = recorded_sources(info.citations)
                await emit(SectionRevised(section, cited) if was_shown else SectionDone(section, cited))
            after = answer.evaluate(stream.guard)
            metrics.repaired(after.passed)
        info.quality = quality_record(before, after)
        final = after or before
        if not final.passed:
            info.warnings.append(final.closing_line())
        info.missing_sections = [sid.value for sid in SECTION_TITLES if sid not in {s.id for s in answer.shown}]
        return final

    async def _degraded(self, incident: Incident, digest: Digest, digest_markdown: str, answer: Answer, run: Run,
                        emit: Emit, timer: _Timer, narrate: bool, cause: str) -> PostmortemResult:
        """The digest, its checklist and its narration stand in for the model's answer; what the model wrote
        that passed the gate stays, what failed it is kept in run.json only."""
        run.degrade(cause)
        run.facts.withheld = answer.withheld()
        sections = answer.shown
        report = render_report(redact_text(incident.title), sections, run, digest_markdown)
        summary = speech_text(digest) if narrate else None
        narration = asyncio.create_task(self.narrate(summary, run.facts)) if summary else None
        run.posting()
        await emit(ReportReady(report, summary, recorded_sources(run.facts.citations)))
        return await self._finish(PostmortemResult(sections, report, None, run, summary), narration, emit, timer)

    async def resume(self, run: Run, emit: Emit = ignore, *, narrate: bool = True) -> PostmortemResult:
        """Finish a run whose report was saved before a restart or failure, without asking the model again.
        The sections and report are emitted again: subscribers skip what they already delivered."""
        info, sections, report, summary = run.facts, list(run.sections), run.report or "", run.summary
        run.posting()
        for section in sections:
            await emit(SectionDone(section, recorded_sources(info.citations)))
        if (plan := plan_from_record(info)) is not None:  # the checklist and skeletons, if not delivered yet
            await emit(PlanReady(plan))
        narration = None
        if narrate and self.narrator.enabled and summary:
            narration = asyncio.create_task(self.narrate(summary, info))
        await emit(ReportReady(report, summary, recorded_sources(run.facts.citations)))
        return await self._finish(PostmortemResult(sections, report, None, run, summary), narration, emit, _Timer(info))

    async def _finish(self, result: PostmortemResult, narration: asyncio.Task[Audio | None] | None,
                      emit: Emit, timer: _Timer) -> PostmortemResult:
        if narration is not None:
            await emit(StageStarted(Stage.NARRATING, self._tts_label()))
            with timer("narrate_wait"):
                result.audio = await narration
        result.facts.total_s = round(sum(result.facts.timings.values()), 3)
        return result

    async def _fit_to_tokenizer(self, incident: Incident, model: ModelInfo, budget: int, user_prompt: str,
                                incident_text: str, info: RunFacts, context: str) -> tuple[int, str, str]:
        """Our estimate runs 4–15 % low against real tokenizers: where the server can count, trust its count and
        shrink the incident until the prompt fits (a few rounds: folding makes the size not quite proportional)."""
        room = model.context_tokens - self.settings.llm_max_tokens
        for _ in range(3):
            counted = await self.llm.count_tokens(f"{SYSTEM_PROMPT}\n{user_prompt}")
            if counted is None or counted <= room or budget <= 256:
                break
            budget = max(256, int(budget * room / counted * 0.95))
            info.fallbacks.append(f"the server's tokenizer counted {counted} prompt tokens where {room} fit: "
                                  f"the incident was cut to {budget} tokens")
            user_prompt, incident_text = await self._prompt(incident, budget, info, context)
        return budget, user_prompt, incident_text

    async def _prompt(self, incident: Incident, budget: int, info: RunFacts, context: str) -> tuple[str, str]:
        """The user prompt, and the prepared incident text in it (what the quality gate checks facts against)."""
        # The digest's events come out of the same budget; the incident itself always keeps at least 256 tokens.
        incident_budget = max(256, budget - estimate_tokens(context))
        # Off the event loop: a 5 MB log takes ~1 s to fold, and triggers must still be acked meanwhile.
        prepared = await asyncio.to_thread(prepare_incident, incident, incident_budget)
        info.redactions, info.omitted = prepared.redactions, prepared.omitted
        info.token_estimate, info.token_budget = prepared.token_estimate, budget
        return build_user_prompt(prepared.text, title=prepared.title, notes=prepared.omitted or None, context=context), prepared.text

    def _budget(self, model: ModelInfo) -> int:
        overhead = prompt_overhead_tokens(estimate_tokens)
        budget = model.context_tokens - self.settings.llm_max_tokens - overhead
        if budget < 256:
            raise PostmortemError(
                f"the context window ({model.context_tokens} tokens) leaves no room for the incident after "
                f"LLM_MAX_TOKENS={self.settings.llm_max_tokens} and the prompt",
                "lower LLM_MAX_TOKENS, or raise LLM_MAX_CONTEXT_TOKENS (Ollama) or the server's context and LLM_CONTEXT_TOKENS",
            )
        return budget

    async def _summary_text(self, answer: Answer, report: str, info: RunFacts) -> str:
        """The spoken summary: the model's, else one fallback call at 0.2, else built from the sections."""
        sections = answer.shown
        own = next((s for s in sections if s.id is SectionId.AUDIO_SUMMARY), None)
        if own is not None and not needs_summary_fallback(own) and not own.cut:  # a cut one ends mid-sentence
            return own.body
        info.fallbacks.append("audio summary missing or too short: asked the model once more")
        system, user = build_summary_prompt(report)
        try:
            text = clean_for_speech(await self.llm.complete(system, user, temperature=0.2, max_tokens=512))
            # Checked against this call's own instructions too: a small model echoes the prompt it was just given.
            asked = f"{answer.prompt_text}\n{system}\n{user.partition(chr(10))[0]}"
            fallback = Section(SectionId.AUDIO_SUMMARY, "", text)
            if word_count(text) >= 60 and not is_garbage(check_section(fallback, prompt_text=asked, incident_text=answer.incident_text)):
                return text
            info.fallbacks.append("fallback summary too short: built one from the sections")
        except PostmortemError as exc:
            info.fallbacks.append(f"fallback summary call failed ({exc.message}): built one from the sections")
        return deterministic_summary(sections)

    async def narrate(self, summary_markdown: str, info: RunFacts) -> Audio | None:
        """Narrate a whole summary (the fallback summary, a resumed run)."""
        speech = SpeechStream(self.narrator.narrate)
        speech.update(summary_markdown, final=True)
        return await self._speak(speech, info=info)

    async def _speak(self, speech: SpeechStream, *, info: RunFacts) -> Audio | None:
        """Finish the narration and record it; a TTS failure is recorded, never fatal, because the written
        report stands on its own."""
        started = time.perf_counter()
        try:
            audio = await speech.finish()
        except PostmortemError as exc:
            info.audio_error = str(exc)
            return None
        finally:
            info.timings["narrate"] = round(time.perf_counter() - started, 3)
            metrics.stage_took("narrate", info.timings["narrate"])
            info.narrated_text = speech.text
            if speech.cut:
                info.fallbacks.append(f"spoken summary cut at a sentence boundary to {word_count(speech.text)} words "
                                      f"(the model wrote {speech.written_words})")
        info.tts_engine, info.tts_voice = audio.engine, audio.voice
        if audio.fallback_reason:
            info.fallbacks.append(audio.fallback_reason)
        return audio

    def _tts_label(self) -> str:
        return f"TTS_ENGINE={self.settings.tts_engine}"

    async def aclose(self) -> None:
        await self.llm.aclose()


def _shrunk(budget: int, exc: ContextExceeded) -> int:
    """The incident budget that fits, from the server's own numbers when it gave them, with a 10 % margin."""
    if exc.prompt_tokens and exc.context_tokens and exc.prompt_tokens > exc.context_tokens:
        return max(256, int(budget * exc.context_tokens / exc.prompt_tokens * 0.9))
    return max(256, int(budget * 0.75))


class _Timer:
    def __init__(self, info: RunFacts) -> None:
        self.info = info

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.info.timings[stage] = round(time.perf_counter() - started, 3)
            metrics.stage_took(stage, self.info.timings[stage])


class _Progress:
    """Reports streaming progress every _TOKEN_PROGRESS_EVERY tokens, and from a clock every ``interval_s`` while
    the model streams, so a model writing 2 tokens a second (or still loading) shows it is alive."""

    def __init__(self, emit: Emit, interval_s: float) -> None:
        self.emit, self.interval_s = emit, interval_s
        self.chars, self.reported = 0, 0
        self.started = self.last = time.monotonic()

    async def add(self, delta: str) -> None:
        self.chars += len(delta)
        if self.chars // 4 - self.reported >= _TOKEN_PROGRESS_EVERY:
            await self._report(tick=False)

    async def _report(self, *, tick: bool) -> None:
        self.reported, self.last = self.chars // 4, time.monotonic()
        await self.emit(Progress(self.reported, self.last - self.started, tick=tick))

    @asynccontextmanager
    async def ticking(self) -> AsyncIterator[None]:
        async def tick() -> None:
            while True:
                await asyncio.sleep(max(0.0, self.last + self.interval_s - time.monotonic()))
                if time.monotonic() - self.last >= self.interval_s:
                    await self._report(tick=True)

        task = asyncio.create_task(tick())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
