"""edge-tts through the local fake service: success, retry, and each failure's fallback."""

from __future__ import annotations

import asyncio
import io

import edge_tts.communicate
import pytest
from mutagen.mp3 import MP3

from bot.core.speech.narrator import Narrator
from bot.core.speech.types import EDGE, PIPER
from bot.errors import NarrationError
from tests.core.speech.conftest import SUMMARY
from tests.fakes.fake_edge_tts import FakeEdgeTTS


def mp3_seconds(mp3: bytes) -> float:
    return MP3(io.BytesIO(mp3)).info.length


async def test_edge_ok_returns_decodable_mp3_and_sends_text_voice_rate(make_settings) -> None:
    settings = make_settings(tts_engine="edge", tts_voice="en-GB-RyanNeural", tts_rate="+10%")
    async with FakeEdgeTTS() as fake:
        audio = await Narrator(settings).narrate(SUMMARY)

    words = len(SUMMARY.split())
    assert audio.engine == EDGE and audio.voice == "en-GB-RyanNeural"
    assert audio.fallback_reason is None
    assert audio.duration_s == pytest.approx(words * 60 / 150, abs=0.1)
    assert mp3_seconds(audio.mp3) == pytest.approx(audio.duration_s, abs=0.2)
    [request] = fake.requests
    assert request.text == SUMMARY
    assert (request.voice, request.rate) == ("en-GB-RyanNeural", "+10%")
    assert "ConnectionId" in request.query and "Sec-MS-GEC" in request.query


async def test_long_text_is_split_by_edge_and_reassembled(make_settings) -> None:
    text = " ".join([SUMMARY] * 6)  # > 4096 bytes: edge-tts sends it over several connections
    async with FakeEdgeTTS() as fake:
        audio = await Narrator(make_settings(tts_engine="edge")).narrate(text)

    assert len(fake.requests) >= 2
    assert " ".join(r.text for r in fake.requests).split() == text.split()
    expected = len(text.split()) * 60 / 150
    assert mp3_seconds(audio.mp3) == pytest.approx(expected, rel=0.02)
    assert audio.duration_s == pytest.approx(expected, rel=0.02)


async def test_fail_then_ok_succeeds_on_our_retry(make_settings) -> None:
    async with FakeEdgeTTS("fail_then_ok") as fake:
        audio = await Narrator(make_settings(tts_engine="edge")).narrate("Retry me please.")

    assert audio.engine == EDGE and audio.fallback_reason is None
    assert fake.connections == 2 and len(fake.requests) == 1


@pytest.mark.parametrize(
    ("mode", "reason", "connections"),
    [
        # edge-tts retries a 403 itself; we do not add a second round.
        ("forbidden", "edge-tts failed: HTTP 403 on websocket handshake", 2),
        ("stall", "edge-tts failed: no answer within 0.5 s (TTS_TIMEOUT_S)", 2),
        ("no_audio", "edge-tts failed: the service sent no audio", 2),
    ],
)
async def test_auto_falls_back_to_piper_naming_the_cause(make_settings, mode, reason, connections) -> None:
    settings = make_settings(tts_engine="auto", tts_timeout_s=0.5)
    async with FakeEdgeTTS(mode) as fake:
        audio = await Narrator(settings).narrate("The cache key ignored the currency.")

    assert audio.engine == PIPER and audio.voice == "en_US-joe-medium"
    assert audio.fallback_reason == reason
    assert mp3_seconds(audio.mp3) > 1.0
    assert fake.connections == connections


async def test_edge_only_mode_raises_instead_of_falling_back(make_settings) -> None:
    async with FakeEdgeTTS("no_audio"):
        with pytest.raises(NarrationError) as caught:
            await Narrator(make_settings(tts_engine="edge")).narrate("Hello.")

    assert "edge-tts failed: the service sent no audio" in caught.value.message
    assert "piper" not in caught.value.message  # piper was never tried
    assert "TTS_ENGINE=piper" in (caught.value.fix or "")


async def test_unreachable_service_is_reported(make_settings) -> None:
    # No fake: the autouse fixture points edge-tts at a closed local port.
    with pytest.raises(NarrationError, match="cannot reach the speech service"):
        await Narrator(make_settings(tts_engine="edge")).narrate("Hello.")


async def test_invalid_voice_is_a_config_reason_not_a_retry(make_settings) -> None:
    async with FakeEdgeTTS() as fake:
        with pytest.raises(NarrationError, match="invalid voice 'Andrew'"):
            await Narrator(make_settings(tts_engine="edge", tts_voice="Andrew")).narrate("Hello.")
    assert fake.connections == 0


async def test_wait_for_requests_sees_a_stalled_request_and_narrate_can_be_cancelled(make_settings) -> None:
    async with FakeEdgeTTS("stall") as fake:
        narrator = Narrator(make_settings(tts_engine="edge", tts_timeout_s=30))
        task = asyncio.create_task(narrator.narrate("Still waiting."))
        async with asyncio.timeout(5):
            [request] = await fake.wait_for_requests(1)
        assert request.text == "Still waiting."
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_fake_rejects_unknown_mode_and_restores_url() -> None:
    before = edge_tts.communicate.WSS_URL
    async with FakeEdgeTTS() as fake:
        assert fake.url == edge_tts.communicate.WSS_URL and fake.url.startswith("ws://127.0.0.1:")
        with pytest.raises(ValueError):
            fake.mode = "flaky"
    assert before == edge_tts.communicate.WSS_URL
