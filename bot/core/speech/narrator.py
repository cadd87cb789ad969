"""Engine selection: text in, one MP3 out, with a record of which engine spoke and why."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import logging

from bot.core.speech import edge, piper_engine
from bot.core.speech.types import EDGE, PIPER, Audio, EngineFailed, EngineStatus
from bot.errors import NarrationError
from bot.settings import Settings

log = logging.getLogger(__name__)

_ORDER = {"auto": (EDGE, PIPER), "edge": (EDGE,), "piper": (PIPER,), "none": ()}
_EDGE_FIX = ("check that this host can reach Microsoft's speech service and that edge-tts is "
             "up to date (pip install -U edge-tts)")
_PIPER_FIX = ("unset PIPER_VOICE to use the bundled voice, or point it at a piper .onnx model "
              "with its .onnx.json beside it")
_FIX = {
    "edge": f"{_EDGE_FIX}, or set TTS_ENGINE=piper to narrate offline",
    "piper": _PIPER_FIX,
    "auto": f"for the offline fallback, {_PIPER_FIX}; for edge-tts, {_EDGE_FIX}",
}


class Narrator:
    """Turns a summary into an MP3 using TTS_ENGINE.

    auto: edge-tts, then piper if edge fails (Audio.fallback_reason says why).
    edge / piper: that engine only. none: narrate() raises NarrationError; callers that
    treat "off" as normal check ``enabled`` first.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._order = _ORDER[settings.tts_engine]

    @property
    def enabled(self) -> bool:
        return bool(self._order)

    async def narrate(self, text: str) -> Audio:
        """Raises NarrationError with a fix when the text is empty, narration is off, or every
        engine in line fails (the message names each engine's reason)."""
        if not text.strip():
            raise NarrationError("nothing to narrate: the summary text is empty",
                                 "this is a bug in the caller; report it")
        if not self._order:
            raise NarrationError("narration is off (TTS_ENGINE=none)",
                                 "set TTS_ENGINE=auto, edge or piper to get an MP3")
        failures: list[str] = []
        for engine in self._order:
            try:
                audio = await self._run(engine, text)
            except EngineFailed as exc:
                failures.append(f"{engine} failed: {exc.reason}")
                log.warning("narration: %s", failures[-1])
                continue
            if failures:
                audio = dataclasses.replace(audio, fallback_reason="; ".join(failures))
            log.info("narration: %.1f s of audio by %s (%s)", audio.duration_s, engine, audio.voice)
            return audio
        raise NarrationError("no narration: " + "; ".join(failures), _FIX[self._settings.tts_engine])

    async def _run(self, engine: str, text: str) -> Audio:
        s = self._settings
        if engine == EDGE:
            mp3, duration = await edge.synthesize(text, s.tts_voice, s.tts_rate, s.tts_timeout_s)
            return Audio(mp3, EDGE, s.tts_voice, duration)
        path = piper_engine.model_path(s.piper_voice)
        # CPU-bound for seconds: keep the event loop (and Slack acks) responsive.
        mp3, duration = await asyncio.to_thread(piper_engine.synthesize, path, text)
        return Audio(mp3, PIPER, piper_engine.voice_name(path), duration)

    def engines(self) -> list[EngineStatus]:
        """Each engine's state for `doctor`. Offline: edge's service is not contacted."""
        s = self._settings
        path = piper_engine.model_path(s.piper_voice)
        config = path.with_name(path.name + ".json")
        missing = [p for p in (path, config) if not p.is_file()]
        # piper is imported lazily (slow onnxruntime import), so check it is there at all.
        piper_installed = importlib.util.find_spec("piper") is not None
        if not piper_installed:
            piper_detail = "piper-tts is not installed (pip install piper-tts)"
        elif missing:
            piper_detail = f"voice file not found: {missing[0]}"
        else:
            loaded = "loaded" if piper_engine.is_loaded(path) else "loads on first use"
            piper_detail = f"offline voice {piper_engine.voice_name(path)} ({path}; {loaded})"
        return [
            EngineStatus(EDGE, EDGE in self._order, True,
                         f"online voice {s.tts_voice}, rate {s.tts_rate}; needs internet (not checked here)"),
            EngineStatus(PIPER, PIPER in self._order, piper_installed and not missing, piper_detail),
        ]
