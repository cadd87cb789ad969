"""An in-process fake of Ollama, llama-server, vLLM or a generic OpenAI-compatible server, for tests and benchmarks.

    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as llm:
        settings = load_settings(llm_base_url=llm.base_url, llm_model=llm.model)
        llm.script(status(503, times=2), text("## Incident Timeline ...", tokens_per_s=200))
        ...
        assert llm.chat_requests[-1]["temperature"] == 0.3

``flavor`` picks the server: "ollama" (the default; ``ollama=False`` means "generic") serves /api/tags, /api/show,
/api/ps and /api/chat (NDJSON, recording ``options.num_ctx``, ``keep_alive``, ``think``) beside /v1;
"llama.cpp" serves /props, /v1/models with ``meta.n_ctx``, /tokenize, and refuses a prompt over its context
with llama-server's 400; "vllm" serves /v1/models with ``max_model_len``, /tokenize and vLLM's 400; "generic"
serves /v1/models and chat only. ``context_length`` is the model maximum (Ollama) or the served context.

Each chat request consumes the next scripted ``Reply`` (``times`` uses each); when the script is empty,
``llm.default`` answers (a full ``sample_report()`` unless given). Streams are byte-for-byte what the server
sends: for /v1 a role chunk, content chunks, a ``finish_reason`` chunk, a usage chunk, ``data: [DONE]``; for
/api/chat one JSON line per chunk and a last ``done: true`` line with ``done_reason`` and the counts.

Reply builders: ``text()``, ``cut()`` (finish "length"), ``template_spam()``, ``broken_template()`` (tiny
prompt count), ``status()`` (optionally ``retry_after``), ``stall()``, ``reset()`` (drop mid-stream),
``empty()``, ``invalid_json()``, ``json_reply(obj)`` (a structured-output answer).
Structured-output requests (``format`` on /api/chat, ``response_format`` on /v1) are listed in
``llm.json_requests`` (``FakeLLM.schema_of(req)`` gives the schema); unscripted, they get ``llm.json_default``
(``{"tests": []}``), not the markdown report.
A guide-trusting model: ``echo_guide()`` names the digest guide's first candidate class as the primary root cause.
Small-model misbehaviour: ``echo_prompt()`` (the request's own format hints as section bodies), ``looping()``
(one sentence over and over), ``repeated_headings()`` (the whole report several times in one answer).
``gate_passing_report()`` is an answer the quality gate lets through (``sample_report()`` is repaired by it).
Progressive tests: ``text(..., gate=event, gate_at="## Root Cause")`` pauses the stream just before that
marker (or character offset) until the test sets ``event``; ``llm.at_gate`` is set while it waits.
``status(..., gate=event)`` holds an error answer the same way.
``llm.finished`` / ``llm.finished_at`` (time.monotonic()) mark the moment a stream's last byte was sent.
``await llm.go_down()`` plays a crash (new connections refused, requests on kept-alive ones cut);
``await llm.come_back()`` listens on the same port again.
"""

from tests.fakes.fake_llm.gated_report import gate_passing_report
from tests.fakes.fake_llm.guided import echo_guide
from tests.fakes.fake_llm.replies import (
    Reply,
    broken_template,
    cut,
    echo_prompt,
    empty,
    invalid_json,
    json_reply,
    looping,
    repeated_headings,
    reset,
    stall,
    status,
    template_spam,
    text,
)
from tests.fakes.fake_llm.server import FakeLLM, RecordedRequest, unused_base_url

__all__ = [
    "FakeLLM", "RecordedRequest", "Reply", "broken_template", "cut", "echo_guide", "echo_prompt", "empty", "gate_passing_report", "invalid_json",
    "json_reply", "looping",
    "repeated_headings", "reset", "stall",
    "status", "template_spam", "text", "unused_base_url",
]
