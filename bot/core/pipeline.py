"""The postmortem pipeline: prepare → prompt → analyse (streamed, parsed) → summary → narrate."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from contextlib import contextmanager
from collections.abc import Iterator

from bot.core.incident import Incident, render_incident
from bot.core.llm import LLMClient, ModelInfo
from bot.core.narrate import Audio, Narrator
from bot.core.observer import NullObserver, RunObserver, Stage
from bot.core.parser import StreamingSectionParser
from bot.core.prepare import estimate_tokens, prepare_incident
from bot.core.prompt import PROMPT_VERSION, SYSTEM_PROMPT, build_summary_prompt, build_user_prompt, prompt_overhead_tokens
from bot.core.report import RunInfo, render_report
from bot.core.sections import Section, SectionId
from bot.core.speech import clean_for_speech, deterministic_summary, needs_summary_fallback, word_count
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
    info: RunInfo
    summary: str | None  # the text narrated (kept so a resumed run can narrate it again)


class Pipeline:
    """Runs one incident end to end. Holds the LLM client and narrator so piper's voice loads once per process."""

    def __init__(self, settings: Settings, llm: LLMClient | None = None, narrator: Narrator | None = None) -> None:
        self.settings = settings
        self.llm = llm or LLMClient(settings)
        self.narrator = narrator or Narrator(settings)

    async def run(
        self, incident: Incident, observer: RunObserver | None = None, *, narrate: bool = True, info: RunInfo | None = None
    ) -> PostmortemResult:
        obs = observer or NullObserver()
        narrate = narrate and self.narrator.enabled
        info = info or RunInfo(prompt_version=PROMPT_VERSION, model=self.settings.llm_model)
        info.message_count = len(incident.messages)
        info.input_hash = hashlib.sha256(render_incident(incident).encode()).hexdigest()[:16]
        timer = _Timer(info)

        with timer("preflight"):
            model = await self.llm.preflight()
        info.context_tokens = model.context_tokens
        info.warnings += model.warnings

        await obs.on_stage(Stage.PREPARING, f"{len(incident.messages)} messages")
        with timer("prepare"):
            budget = self._budget(model)
            # Off the event loop: a 5 MB log takes ~1 s to fold, and triggers must still be acked meanwhile.
            prepared = await asyncio.to_thread(prepare_incident, incident, budget)
        info.redactions, info.omitted = prepared.redactions, prepared.omitted
        info.token_estimate, info.token_budget = prepared.token_estimate, budget

        user_prompt = build_user_prompt(prepared.text, title=incident.title, notes=prepared.omitted or None)
        await obs.on_stage(Stage.ANALYSING, f"asking {model.model}")
        narration: asyncio.Task[Audio | None] | None = None
        parser = StreamingSectionParser()
        progress = _Progress(obs)

        async def emit(sections: list[Section]) -> None:
            nonlocal narration
            for section in sections:
                await obs.on_section(section)
                # Narrate as soon as the spoken summary is complete, while later sections still stream.
                if narrate and narration is None and section.id is SectionId.AUDIO_SUMMARY and not needs_summary_fallback(section):
                    narration = asyncio.create_task(self.narrate(section.body, info))

        async def on_text(delta: str) -> None:
            await progress.add(delta)
            await emit(parser.feed(delta))

        try:
            with timer("analyse"):
                result = await self.llm.stream(SYSTEM_PROMPT, user_prompt, on_text=on_text, context_tokens=model.context_tokens)
                await emit(parser.close())
        except BaseException:
            if narration is not None:
                narration.cancel()
            raise
        info.prompt_tokens, info.completion_tokens = result.prompt_tokens, result.completion_tokens
        if result.truncated_warning:
            info.warnings.append(result.truncated_warning)

        sections = parser.sections
        info.sections_found = [s.id.value for s in sections if s.id]
        info.missing_sections = [sid.value for sid in parser.missing()]
        report = render_report(incident.title, sections, info)
        summary: str | None = None
        if narrate:
            summary = await self._summary_text(sections, report, info)
            if narration is None:
                narration = asyncio.create_task(self.narrate(summary, info))
        await obs.on_report(report, summary)

        audio: Audio | None = None
        if narration is not None:
            await obs.on_stage(Stage.NARRATING, self._tts_label())
            with timer("narrate_wait"):
                audio = await narration
        info.total_s = round(sum(info.timings.values()), 3)
        return PostmortemResult(sections, report, audio, info, summary)

    def _budget(self, model: ModelInfo) -> int:
        overhead = prompt_overhead_tokens(estimate_tokens)
        budget = model.context_tokens - self.settings.llm_max_tokens - overhead
        if budget < 256:
            raise PostmortemError(
                f"the context window ({model.context_tokens} tokens) leaves no room for the incident after "
                f"LLM_MAX_TOKENS={self.settings.llm_max_tokens} and the prompt",
                "lower LLM_MAX_TOKENS or raise the server's context (OLLAMA_CONTEXT_LENGTH) and LLM_CONTEXT_TOKENS",
            )
        return budget

    async def _summary_text(self, sections: list[Section], report: str, info: RunInfo) -> str:
        """The spoken summary: the model's, else one fallback call at 0.2, else built from the sections."""
        own = next((s for s in sections if s.id is SectionId.AUDIO_SUMMARY), None)
        if own is not None and not needs_summary_fallback(own):
            return own.body
        info.fallbacks.append("audio summary missing or too short: asked the model once more")
        system, user = build_summary_prompt(report)
        try:
            text = clean_for_speech(await self.llm.complete(system, user, temperature=0.2, max_tokens=512))
            if word_count(text) >= 60:
                return text
            info.fallbacks.append("fallback summary too short: built one from the sections")
        except PostmortemError as exc:
            info.fallbacks.append(f"fallback summary call failed ({exc.message}): built one from the sections")
        return deterministic_summary(sections)

    async def narrate(self, summary_markdown: str, info: RunInfo) -> Audio | None:
        """Narrate; a TTS failure is recorded, never fatal, because the written report stands on its own."""
        started = time.perf_counter()
        try:
            audio = await self.narrator.narrate(clean_for_speech(summary_markdown))
        except PostmortemError as exc:
            info.audio_error = str(exc)
            return None
        finally:
            info.timings["narrate"] = round(time.perf_counter() - started, 3)
        info.tts_engine, info.tts_voice = audio.engine, audio.voice
        if audio.fallback_reason:
            info.fallbacks.append(audio.fallback_reason)
        return audio

    def _tts_label(self) -> str:
        return f"TTS_ENGINE={self.settings.tts_engine}"

    async def aclose(self) -> None:
        await self.llm.aclose()


class _Timer:
    def __init__(self, info: RunInfo) -> None:
        self.info = info

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.info.timings[stage] = round(time.perf_counter() - started, 3)


class _Progress:
    """Counts streamed tokens (estimated) and reports every _TOKEN_PROGRESS_EVERY."""

    def __init__(self, obs: RunObserver) -> None:
        self.obs, self.chars, self.reported = obs, 0, 0

    async def add(self, delta: str) -> None:
        self.chars += len(delta)
        tokens = self.chars // 4
        if tokens - self.reported >= _TOKEN_PROGRESS_EVERY:
            self.reported = tokens
            await self.obs.on_tokens(tokens)

