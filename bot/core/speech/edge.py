"""edge-tts engine: Microsoft's online neural voices, assembled into MP3 bytes in memory."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import edge_tts
from edge_tts.exceptions import EdgeTTSException, NoAudioReceived

from bot.core.speech.types import EngineFailed

log = logging.getLogger(__name__)

# edge-tts's fixed output format is audio-24khz-48kbitrate-mono-mp3 (CBR), so bytes give
# the duration exactly when the service sends no boundary metadata.
_MP3_BYTES_PER_S = 48_000 / 8
_TICKS_PER_S = 10_000_000


async def synthesize(text: str, voice: str, rate: str, timeout_s: float) -> tuple[bytes, float]:
    """Speak ``text``; return (mp3, duration_s). Raises EngineFailed with a short reason.

    One retry, because the service fails transiently. A 403 is not retried here: edge-tts
    already retries it once itself after correcting its clock skew, and a second 403 means
    the service is rejecting this client version, which another attempt will not change.
    ``timeout_s`` bounds each attempt.
    """
    reason = ""
    for attempt in (1, 2):
        try:
            return await _attempt(text, voice, rate, timeout_s)
        except ValueError as exc:  # edge-tts's own check of the voice name
            raise EngineFailed(
                f"invalid voice {voice!r} (TTS_VOICE); expected a name like en-US-AndrewNeural"
            ) from exc
        except (EdgeTTSException, aiohttp.ClientError, TimeoutError) as exc:
            reason = _describe(exc, timeout_s)
            log.info("edge-tts attempt %d failed: %s", attempt, reason)
            if isinstance(exc, aiohttp.WSServerHandshakeError) and exc.status == 403:
                break
    raise EngineFailed(reason)


async def _attempt(text: str, voice: str, rate: str, timeout_s: float) -> tuple[bytes, float]:
    # edge-tts's receive_timeout does not end a connection that stalls after the
    # handshake, so the whole stream sits under one deadline of ours.
    async with asyncio.timeout(timeout_s):
        communicate = edge_tts.Communicate(text, voice, rate=rate)
        chunks: list[bytes] = []
        spoken_until: float = 0  # end of the last sentence, in 100 ns ticks
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                chunks.append(chunk["data"])
            elif chunk["type"] in ("SentenceBoundary", "WordBoundary"):
                spoken_until = chunk["offset"] + chunk["duration"]
    mp3 = b"".join(chunks)
    duration = spoken_until / _TICKS_PER_S if spoken_until else len(mp3) / _MP3_BYTES_PER_S
    return mp3, duration


def _describe(exc: BaseException, timeout_s: float) -> str:
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"HTTP {exc.status} on websocket handshake"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s (TTS_TIMEOUT_S)"
    if isinstance(exc, NoAudioReceived):
        return "the service sent no audio"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return f"cannot reach the speech service ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"
