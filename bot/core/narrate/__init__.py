"""Narration: summary text → MP3 bytes, with edge-tts online and piper offline."""

from bot.core.narrate.narrator import Narrator
from bot.core.narrate.types import EDGE, PIPER, Audio, EngineStatus

__all__ = ["EDGE", "PIPER", "Audio", "EngineStatus", "Narrator"]
