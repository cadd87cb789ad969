"""The fake LLM replays small-model misbehaviour through a real HTTP request, on both chat endpoints."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from bot.core.gate import CheckId, evaluate
from bot.core.prompt import SYSTEM_PROMPT, build_user_prompt
from bot.core.sections import SECTION_TITLES
from bot.core.sections.parse import parse_sections
from tests.core.gate.reports import as_markdown, good_sections, incident_text, prompt_text
from tests.fakes.fake_llm import FakeLLM, Reply, echo_prompt, gate_passing_report, looping, repeated_headings, template_spam

ENDPOINTS = ["/v1/chat/completions", "/api/chat"]


async def ask(llm: FakeLLM, endpoint: str, reply: Reply, user: str = "hello") -> str:
    """One streamed chat request through aiohttp; the concatenated content of the answer."""
    llm.script(reply)
    body = {"model": llm.model, "stream": True, "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]}
    out: list[str] = []
    async with aiohttp.ClientSession() as http, http.post(llm.url + endpoint, json=body) as resp:
        assert resp.status == 200
        async for raw in resp.content:
            line = raw.decode().strip().removeprefix("data: ")
            if not line or line == "[DONE]":
                continue
            chunk: dict[str, Any] = json.loads(line)
            if "message" in chunk:
                out.append(chunk["message"]["content"])
            else:
                out += [c["delta"].get("content") or "" for c in chunk["choices"]]
    return "".join(out)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_echo_prompt_answers_with_the_requests_own_hints(endpoint: str) -> None:
    user = build_user_prompt(incident_text(), title="#inc-checkout")
    async with FakeLLM() as llm:
        answer = await ask(llm, endpoint, echo_prompt(), user)
    sections = parse_sections(answer)
    assert [s.title for s in sections] == list(SECTION_TITLES.values())
    for s in sections:
        assert s.body and f"## {s.title}\n{s.body}" in user  # each body is the prompt's hint under that heading
    result = evaluate(sections, incident_text=incident_text(), prompt_text=SYSTEM_PROMPT + "\n" + user)
    assert {f.section for f in result.failed(CheckId.ECHO)} == set(SECTION_TITLES)
    assert not result.usable


async def test_echo_prompt_follows_a_different_prompt() -> None:
    user = "Write it like this:\n\n## Findings\nlist every finding with its evidence line.\n"
    async with FakeLLM() as llm:
        answer = await ask(llm, "/v1/chat/completions", echo_prompt(), user)
    assert answer == "## Findings\n\nlist every finding with its evidence line.\n"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_looping_repeats_one_sentence(endpoint: str) -> None:
    sentence = "The connection pool was exhausted by retries."
    async with FakeLLM() as llm:
        answer = await ask(llm, endpoint, looping(sentence, 40))
    [timeline] = parse_sections(answer)
    assert timeline.body.count(sentence) == 40 and timeline.body.replace(sentence, "").strip() == ""
    result = evaluate([timeline], incident_text=incident_text(), prompt_text=prompt_text())
    assert [f.check for f in result.failures] == [CheckId.REPETITION]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_repeated_headings_repeats_the_whole_report(endpoint: str) -> None:
    report = as_markdown(good_sections())
    async with FakeLLM() as llm:
        answer = await ask(llm, endpoint, repeated_headings(5, report))
    sections = parse_sections(answer)
    assert len(sections) == 30 and [s.id for s in sections[:6]] == list(SECTION_TITLES)
    result = evaluate(sections, incident_text=incident_text(), prompt_text=prompt_text())
    assert [f.check for f in result.failures] == [CheckId.SECTIONS_ONCE] and result.dropped_sections == 24
    assert result.usable and not result.repair_targets()  # the first copy is kept whole: nothing to re-ask


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_template_spam_fails_only_the_template_check(endpoint: str) -> None:
    async with FakeLLM() as llm:
        answer = await ask(llm, endpoint, template_spam(as_markdown(good_sections())))
    assert answer.count("<|im_end|>") > 10
    # The bot's stream client strips these tokens; here the raw answer reaches the gate, which must catch them.
    result = evaluate(parse_sections(answer), incident_text=incident_text(), prompt_text=prompt_text())
    assert {f.check for f in result.failures} == {CheckId.TEMPLATE_TOKENS}
    assert not result.usable


@pytest.mark.parametrize("incident", [
    incident_text(),
    "[2025-11-17T09:00:00Z] PagerDuty:\n[FIRING] api error rate > 5%\n[2025-11-17T09:02:00Z] ana: cpu is flat, memory fine",
    "[2025-11-17T09:00:00Z] ana: checkout is down",
], ids=["bundled-sample", "alerts-and-resources", "chat-only"])
async def test_gate_passing_report_passes_through_the_fake(incident: str) -> None:
    async with FakeLLM(default=gate_passing_report()) as llm:
        answer = await ask(llm, "/api/chat", llm.default)
    sections = parse_sections(answer)
    prompt = SYSTEM_PROMPT + "\n" + build_user_prompt(incident, title="#inc")
    result = evaluate(sections, incident_text=incident, prompt_text=prompt)
    assert result.passed, result.closing_line()
    assert [s.id for s in sections] == list(SECTION_TITLES)
