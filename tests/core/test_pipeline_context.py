"""The pipeline fits the prompt to the context the server really has: its tokenizer's count, and one automatic
retry with a smaller incident when the server refuses the prompt as too long. Also the answer checks it records."""

from __future__ import annotations

import sys

from bot.core.incident.model import Incident, Message
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.core.run import RunState
from bot.settings import load_settings
from tests.fakes.fake_llm import FakeLLM, cut, gate_passing_report, status, text
from tests.fakes.fake_llm.replies import prompt_tokens
from tests.fakes.sample_reports import sample_report

sys.path.insert(0, "bench")
from gen_incident import chat_thread


def pipeline_for(llm: FakeLLM, **overrides: object) -> Pipeline:
    values: dict[str, object] = {"llm_model": "m", "llm_timeout_s": 10, "tts_engine": "none", **overrides}
    settings = load_settings(llm_base_url=llm.base_url, **values)
    return Pipeline(settings, llm=LLMClient(settings, retry_attempts=2, retry_base_delay_s=0.001))


async def test_a_denser_tokenizer_than_our_estimate_shrinks_the_incident_before_sending() -> None:
    # 2.5 characters a token: our 3.6-character estimate would overflow this llama-server's 8192-token context.
    async with FakeLLM(model="m", flavor="llama.cpp", context_length=8192, chars_per_token=2.5) as llm:
        pipeline = pipeline_for(llm)
        result = await pipeline.run(chat_thread(2_000))
        await pipeline.aclose()
    [request] = llm.chat_requests  # accepted first time: no 400, no retry
    assert prompt_tokens(request["messages"], 2.5) + pipeline.settings.llm_max_tokens <= 8192
    assert any("tokenizer counted" in f for f in result.facts.fallbacks)
    assert result.run.status is RunState.POSTING


async def test_prompt_refused_as_too_long_is_shrunk_and_sent_once_more() -> None:
    refusal = "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it"
    async with FakeLLM(model="m", flavor="generic", context_length=8192) as llm:
        llm.script(status(400, refusal), text(gate_passing_report()))
        pipeline = pipeline_for(llm, llm_context_tokens=8192)
        result = await pipeline.run(chat_thread(2_000))
        await pipeline.aclose()
    first, second = llm.chat_requests
    assert len(second["messages"][1]["content"]) < len(first["messages"][1]["content"])
    assert any("refused the prompt as too long" in f for f in result.facts.fallbacks)
    assert len(result.sections) == 6


async def test_an_answer_cut_at_the_token_limit_is_marked_where_it_stops() -> None:
    report = sample_report()
    # The repair call (for the sample's unlabelled root cause) gets an answer with no section: nothing changes.
    async with FakeLLM(model="llama3.1:8b", ollama=True, default="I cannot help with that.") as llm:
        llm.script(cut(report[: report.index("## Recommended Test Suite") - 40]))
        pipeline = pipeline_for(llm, llm_model="llama3.1:8b")
        result = await pipeline.run(Incident([Message("alice", "checkout 5xx after the deploy of v2.31, rolled back")]))
        await pipeline.aclose()
    assert result.facts.finish_reason == "length"
    assert result.sections[-1].body.endswith("_(Cut here: the answer reached LLM_MAX_TOKENS.)_")
    assert any("LLM_MAX_TOKENS" in w for w in result.facts.warnings)


async def test_lone_surrogates_in_the_thread_and_the_answer_do_not_fail_the_run() -> None:
    broken = "\ud83d"  # half an emoji, as a bot that cuts text in UTF-16 units leaves it
    incident = Incident([Message(f"alice{broken}", f"checkout 5xx after deploy v2.31 {broken} rolled back at 14:40")],
                        title=f"inc{broken}")
    async with FakeLLM(model="llama3.1:8b", ollama=True) as llm:
        llm.script(text(sample_report().replace("## Testing Gap", f"{broken}\n\n## Testing Gap")))
        pipeline = pipeline_for(llm, llm_model="llama3.1:8b")
        result = await pipeline.run(incident)
        await pipeline.aclose()
    assert len(result.sections) == 6 and result.facts.input_hash
    result.report_markdown.encode("utf-8")  # encodable: it can be stored, uploaded and written
    assert "\ufffd" in result.report_markdown


async def test_an_answer_line_over_the_http_client_limit_is_a_malformed_response_not_a_crash() -> None:
    async with FakeLLM(model="llama3.1:8b", ollama=True) as llm:
        llm.script(text("word " * 150_000, chunk_chars=750_000))  # one 750 KB NDJSON line
        pipeline = pipeline_for(llm, llm_model="llama3.1:8b")
        result = await pipeline.run(Incident([Message("alice", "checkout 5xx after the deploy of v2.31, rolled back")]))
        await pipeline.aclose()
    # Nothing usable arrived: the run ends degraded, with the cause, instead of crashing.
    assert result.run.mode == "degraded" and "malformed response" in (result.run.cause or "")
