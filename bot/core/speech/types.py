"""Value types of the narration package."""

from __future__ import annotations

from dataclasses import dataclass

EDGE = "edge-tts"
PIPER = "piper"


@dataclass(frozen=True)
class Audio:
    """A finished narration: MP3 bytes plus how they were made."""

    mp3: bytes
    engine: str  # EDGE or PIPER
    voice: str  # e.g. "en-US-AndrewNeural" or "en_US-joe-medium"
    duration_s: float
    # Why the first engine in line was not used (auto mode only), e.g.
    # "edge-tts failed: HTTP 403 on websocket handshake"; None when it was.
    fallback_reason: str | None = None


@dataclass(frozen=True)
class EngineStatus:
    """One engine's state for `doctor`, found without touching the network."""

    name: str  # EDGE or PIPER
    selected: bool  # TTS_ENGINE puts this engine in line
    available: bool  # installed, and for piper the voice files exist
    detail: str


class EngineFailed(Exception):
    """An engine could not produce audio; ``reason`` is one short plain-language line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
