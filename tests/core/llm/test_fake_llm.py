"""The fake's own contract, for the other suites that build on it."""

from __future__ import annotations

import json

import aiohttp

from bot.core.sections import SECTION_TITLES
from tests.fakes.fake_llm import FakeLLM, status
from tests.fakes.sample_reports import sample_report, summary_prose


async def test_native_endpoints_and_non_streaming_reply():
    async with FakeLLM(model="llama3.1:8b", default="plain answer") as llm, aiohttp.ClientSession() as http:
        async with http.get(llm.url + "/") as resp:
            assert await resp.text() == "Ollama is running"
        async with http.post(llm.url + "/api/show", json={"model": "nope"}) as resp:
            assert resp.status == 404 and "not found" in (await resp.json())["error"]
        body = {"model": "llama3.1:8b", "messages": [{"role": "user", "content": "12345678"}]}
        async with http.post(llm.base_url + "/chat/completions", json=body) as resp:
            answer = await resp.json()
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "plain answer"
    assert answer["usage"]["prompt_tokens"] == 2


async def test_stream_wire_format_and_script_order():
    async with FakeLLM(default="ok") as llm, aiohttp.ClientSession() as http:
        llm.script(status(503))
        body = {"model": "llama3.1", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
        async with http.post(llm.base_url + "/chat/completions", json=body) as resp:
            assert resp.status == 404  # an unpulled model is refused before the script is consumed
        body["model"] = "llama3.1:8b"
        async with http.post(llm.base_url + "/chat/completions", json=body) as resp:
            assert resp.status == 503
        async with http.post(llm.base_url + "/chat/completions", json=body) as resp:
            events = (await resp.text()).split("\n\n")
    assert events[0].startswith('data: {') and '"role": "assistant"' in events[0]
    assert '"content": "ok"' in events[1]
    assert '"finish_reason": "stop"' in events[2]
    assert '"choices": []' in events[3] and '"usage"' in events[3]
    assert events[4:] == ["data: [DONE]", ""]


def test_sample_report_has_six_sections_and_a_sized_summary():
    report = sample_report(words_in_summary=170)
    assert [line[3:] for line in report.splitlines() if line.startswith("## ")] == list(SECTION_TITLES.values())
    assert len(report.split("## Audio Summary\n\n")[1].split()) == 170
    assert len(summary_prose(40).split()) == 40


async def test_ollama_native_chat_wire_format():
    async with FakeLLM(default="ok", loaded_context=None) as llm, aiohttp.ClientSession() as http:
        body = {"model": "llama3.1:8b", "messages": [{"role": "user", "content": "hi"}], "options": {"num_ctx": 8192}}
        async with http.post(llm.url + "/api/chat", json=body) as resp:
            assert resp.headers["Content-Type"].startswith("application/x-ndjson")
            lines = [json.loads(line) for line in (await resp.text()).splitlines()]
        async with http.get(llm.url + "/api/ps") as resp:
            ps = await resp.json()
    assert [line["message"]["content"] for line in lines] == ["ok", ""]
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop" and lines[-1]["prompt_eval_count"] == 1
    assert ps["models"][0]["context_length"] == 8192 and llm.loads == 1
    assert llm.chat_requests[0]["messages"] == body["messages"] and llm.native_chats[0]["options"]["num_ctx"] == 8192
