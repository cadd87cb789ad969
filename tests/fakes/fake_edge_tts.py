"""A local stand-in for Microsoft's edge-tts websocket service, speaking its real protocol.

Usage::

    async with FakeEdgeTTS() as fake:          # mode="ok" by default
        audio = await Narrator(settings).narrate("Hello there.")
        assert fake.requests[0].text == "Hello there."
        fake.mode = "forbidden"                # switch behaviour mid-test

While the context is open, ``edge_tts.communicate.WSS_URL`` points at this server (the name
edge-tts copies at import), so any ``edge_tts.Communicate`` in the process talks to it; the
original URL is restored on exit. Use one instance at a time. Only 127.0.0.1 is touched.

Modes (``FakeEdgeTTS.MODES``):
    ok            turn.start, a SentenceBoundary, real MP3 audio frames, turn.end.
    forbidden     every handshake answered with HTTP 403 (edge-tts retries a 403 once itself).
    stall         accept, read the request, then send nothing until the fake is closed.
    no_audio      turn.start then turn.end with no audio (edge-tts raises NoAudioReceived).
    fail_then_ok  the first connection after this mode is set gets HTTP 503; later ones "ok".

The audio is silence encoded by lameenc as edge's format (24 kHz mono 48 kbps CBR MP3),
``len(words) / words_per_minute`` minutes long, so mutagen can check its duration.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from types import TracebackType

import edge_tts.communicate
import lameenc
from aiohttp import WSMsgType, web

_SAMPLE_RATE = 24_000
_TICKS_PER_S = 10_000_000
_AUDIO_FRAME_BYTES = 4096  # the real service streams many small binary frames
_SSML_NS = "{http://www.w3.org/2001/10/synthesis}"
# edge-tts expands "en-US-AndrewNeural" to this long form in the SSML.
_LONG_VOICE = re.compile(r"^Microsoft Server Speech Text to Speech Voice \(([^,]+), ([^)]+)\)$")


@dataclass(frozen=True)
class SpeechRequest:
    """One synthesis request. edge-tts opens one connection per ≤ 4 KB piece of text."""

    text: str  # the spoken text, XML-unescaped
    voice: str  # short form, e.g. "en-US-AndrewNeural"
    rate: str  # e.g. "+0%"
    ssml: str  # the raw <speak> document
    query: dict[str, str] = field(default_factory=dict)  # ConnectionId, Sec-MS-GEC, ...


class FakeEdgeTTS:
    """Async context manager running the fake on a random 127.0.0.1 port (see module doc)."""

    MODES = ("ok", "forbidden", "stall", "no_audio", "fail_then_ok")

    def __init__(self, mode: str = "ok", *, words_per_minute: float = 150.0) -> None:
        self.words_per_minute = words_per_minute
        self.connections = 0  # handshakes attempted, rejected ones included
        self.requests: list[SpeechRequest] = []
        self.url = ""  # the patched WSS_URL, set on enter
        self.mode = mode
        self._received = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._saved_url = ""

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in self.MODES:
            raise ValueError(f"unknown mode {value!r}; expected one of {self.MODES}")
        self._mode = value
        self._failed_once = False  # fail_then_ok counts from when the mode is set

    async def wait_for_requests(self, count: int = 1) -> list[SpeechRequest]:
        """Wait until at least ``count`` requests have arrived (bound it with asyncio.timeout)."""
        async with self._received:
            await self._received.wait_for(lambda: len(self.requests) >= count)
            return list(self.requests)

    async def __aenter__(self) -> FakeEdgeTTS:
        app = web.Application()
        app.router.add_get("/consumer/speech/synthesize/readaloud/edge/v1", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=fake"
        self._saved_url = edge_tts.communicate.WSS_URL
        edge_tts.communicate.WSS_URL = self.url
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        edge_tts.communicate.WSS_URL = self._saved_url
        self._closing.set()  # releases stalled handlers so shutdown is prompt
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        mode = self._mode
        if mode == "forbidden":
            return web.Response(status=403, text="Forbidden")
        if mode == "fail_then_ok" and not self._failed_once:
            self._failed_once = True
            return web.Response(status=503, text="Service Unavailable")

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        ssml = await self._read_ssml(ws)
        if ssml is None:  # client went away before asking for anything
            return ws
        speech = _parse_ssml(ssml, dict(request.query))
        async with self._received:
            self.requests.append(speech)
            self._received.notify_all()

        if mode == "stall":
            await self._closing.wait()
            return ws
        request_id = uuid.uuid4().hex
        await ws.send_str(_text_frame(request_id, "turn.start", {"context": {"serviceTag": "fake"}}))
        if mode != "no_audio":
            await self._send_audio(ws, request_id, speech.text)
        await ws.send_str(_text_frame(request_id, "turn.end", {}))
        await ws.close()
        return ws

    @staticmethod
    async def _read_ssml(ws: web.WebSocketResponse) -> str | None:
        # The client sends Path:speech.config, then Path:ssml; both are headers, a blank line, a body.
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            head, _, body = msg.data.partition("\r\n\r\n")
            if "Path:ssml" in head.split("\r\n"):
                return body
        return None

    async def _send_audio(self, ws: web.WebSocketResponse, request_id: str, text: str) -> None:
        seconds = max(len(text.split()), 1) * 60.0 / self.words_per_minute
        mp3 = _silent_mp3(round(seconds, 1))
        metadata = {"Metadata": [{"Type": "SentenceBoundary", "Data": {
            "Offset": 0, "Duration": int(seconds * _TICKS_PER_S), "text": {"Text": text, "Length": len(text)},
        }}]}
        await ws.send_str(_text_frame(request_id, "audio.metadata", metadata))
        # "Path" must not be the first header line: edge-tts parses the 2 length bytes as part of it.
        header = f"X-RequestId:{request_id}\r\nContent-Type:audio/mpeg\r\nX-StreamId:{request_id}\r\nPath:audio\r\n"
        for start in range(0, len(mp3), _AUDIO_FRAME_BYTES):
            await ws.send_bytes(_binary_frame(header, mp3[start:start + _AUDIO_FRAME_BYTES]))
        # Like the real service: a final audio frame with no Content-Type and no payload.
        await ws.send_bytes(_binary_frame(f"X-RequestId:{request_id}\r\nPath:audio\r\n", b""))


def _text_frame(request_id: str, path: str, body: object) -> str:
    return (f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
            f"Path:{path}\r\n\r\n{json.dumps(body)}")


def _binary_frame(header: str, payload: bytes) -> bytes:
    encoded = header.encode()
    return len(encoded).to_bytes(2, "big") + encoded + payload


def _parse_ssml(ssml: str, query: dict[str, str]) -> SpeechRequest:
    root = ET.fromstring(ssml)
    voice = root.find(f"{_SSML_NS}voice")
    prosody = voice.find(f"{_SSML_NS}prosody") if voice is not None else None
    if voice is None or prosody is None:
        raise ValueError(f"unexpected SSML from edge-tts: {ssml[:200]}")
    long_name = voice.get("name", "")
    short = _LONG_VOICE.match(long_name)
    return SpeechRequest(
        text=prosody.text or "",
        voice=f"{short[1]}-{short[2]}" if short else long_name,
        rate=prosody.get("rate", ""),
        ssml=ssml,
        query=query,
    )


@lru_cache(maxsize=32)
def _silent_mp3(seconds: float) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(48)
    encoder.set_in_sample_rate(_SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)  # silence: speed over quality
    encoder.silence()
    return encoder.encode(bytes(2 * int(seconds * _SAMPLE_RATE))) + encoder.flush()
