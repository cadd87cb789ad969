"""The plan from a test-suite section through the real LLM client against the fake server: the JSON call is made
once, only when the markdown lacks fields, with the schema on the wire of each API; a bad answer never costs what
was parsed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.llm import LLMClient
from bot.core.plan import TestPlan
from bot.core.plan.build import build_plan, make_test_plan, plan_from_record
from bot.core.plan.complete import schema
from bot.core.run import RunFacts
from bot.core.sections import Section, SectionId
from bot.settings import load_settings
from tests.core.redact.secret_cases import POSITIVE
from tests.fakes.fake_llm import FakeLLM, gate_passing_report, json_reply, status
from tests.fakes.sample_reports import sample_report

INCIDENT = "[FIRING] CheckoutLatencyHigh: checkout-api p99 latency 2.4s\nerror rate 18%\ndb-primary connections 100/100"
INCOMPLETE = "### Pool saturation\n- Type: load\n- Scope: checkout-api\n\n### Gateway slowness\n- Success criteria: p99 < 300 ms\n"
ANSWER = {"tests": [
    {"name": "Pool saturation", "type": "chaos", "scope": "ignored: the markdown said it", "fault_injection": "cap connections at 100",
     "success_criteria": "zero pool timeouts at 2x peak", "catches": "", "priority": 1},
    {"name": "Gateway slowness", "type": "fault injection", "scope": "payment gateway client", "fault_injection": "add 700 ms latency",
     "success_criteria": "ignored", "catches": "CheckoutLatencyHigh", "priority": 2},
]}


@pytest.fixture(params=["ollama", "generic"])
async def llm(request: pytest.FixtureRequest) -> AsyncIterator[FakeLLM]:
    async with FakeLLM(model="llama3.1:8b", flavor=request.param, context_length=8192) as fake:
        yield fake


@pytest.fixture
async def client(llm: FakeLLM) -> AsyncIterator[LLMClient]:
    settings = load_settings(llm_base_url=llm.base_url, llm_model="llama3.1:8b", llm_timeout_s=10)
    async with LLMClient(settings, retry_attempts=1, retry_base_delay_s=0.001) as c:
        yield c


def suite_of(report: str) -> str:
    return report.split("## Recommended Test Suite", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("report", [sample_report(), gate_passing_report()], ids=["sample", "gate-passing"])
async def test_the_fakes_default_reports_parse_complete_without_a_call(llm: FakeLLM, client: LLMClient, report: str) -> None:
    plan, notes = await build_plan(suite_of(report), INCIDENT, client)
    assert llm.chat_requests == [] and notes == []
    assert plan.source == "parsed" and plan.missing_fields == [] and len(plan.tests) == 3
    assert all(t.scope and t.fault_injection and t.success_criteria for t in plan.tests)
    assert any(t.catches for t in plan.tests)


async def test_missing_fields_make_one_json_call_that_fills_only_the_gaps(llm: FakeLLM, client: LLMClient) -> None:
    llm.script(json_reply(ANSWER))
    plan, notes = await build_plan(INCOMPLETE, INCIDENT, client)
    assert len(llm.chat_requests) == len(llm.json_requests) == 1
    sent = llm.json_requests[0]
    assert FakeLLM.schema_of(sent) == schema()  # "format" on /api/chat, "response_format" on /v1
    assert ("format" in sent) is (llm.flavor == "ollama")
    # Only the section goes to the model, fenced as data.
    user = sent["messages"][-1]["content"]
    assert "Pool saturation" in user and "SECTION>>>" in user and "CheckoutLatencyHigh" not in user
    pool, gateway = plan.tests
    assert (pool.type, pool.scope, pool.fault_injection, pool.success_criteria, pool.priority) == (
        "load", "checkout-api", "cap connections at 100", "zero pool timeouts at 2x peak", 1)
    assert (gateway.type, gateway.scope, gateway.success_criteria, gateway.catches) == (
        "chaos", "payment gateway client", "p99 < 300 ms", "CheckoutLatencyHigh")
    assert plan.source == "structured" and plan.missing_fields == []
    assert notes == ["test plan: 5 field(s) missing from the markdown, asked the model once in JSON"]


@pytest.mark.parametrize("answer", [
    json_reply("this is not json {"), json_reply(["a list"]), json_reply({"tests": "none"}), json_reply({"tests": [{"name": ["x"]}]}),
    status(500, "boom"),
], ids=["not-json", "not-an-object", "tests-not-a-list", "malformed-record", "server-500"])
async def test_a_bad_structured_answer_keeps_what_was_parsed(llm: FakeLLM, client: LLMClient, answer: object) -> None:
    llm.script(answer)  # type: ignore[arg-type]
    plan, notes = await build_plan(INCOMPLETE, INCIDENT, client)
    assert len(llm.json_requests) == 1
    assert [(t.name, t.type, t.scope) for t in plan.tests] == [("Pool saturation", "load", "checkout-api"),
                                                                ("Gateway slowness", "integration", "")]
    assert plan.missing_fields == ["Pool saturation: fault_injection", "Pool saturation: success_criteria",
                                   "Gateway slowness: type (guessed integration)", "Gateway slowness: scope", "Gateway slowness: fault_injection"]
    assert len(notes) == 2 and "kept what the markdown gave" in notes[1]


async def test_a_section_with_no_parsable_test_takes_the_models_records(llm: FakeLLM, client: LLMClient) -> None:
    llm.script(json_reply(ANSWER))
    plan, _ = await build_plan("We should load test the pool and slow the gateway down in staging.", INCIDENT, client)
    assert [t.name for t in plan.tests] == ["Pool saturation", "Gateway slowness"]
    assert plan.tests[1].type == "chaos"
    assert len(llm.json_requests) == 1


async def test_secrets_in_the_structured_answer_are_redacted(llm: FakeLLM, client: LLMClient) -> None:
    secrets = [case for case in POSITIVE if case.secret == case.text.strip()][:3]
    leaky = {"tests": [{"name": f"Pool {secrets[0].secret}", "fault_injection": f"log in with {secrets[1].text}",
                        "success_criteria": f"no 5xx; token {secrets[2].text}"}]}
    llm.script(json_reply(leaky))
    plan, _ = await build_plan("Test the pool somehow.", INCIDENT, client)
    dumped = plan.model_dump_json()
    assert plan.tests and [c.id for c in secrets if c.secret in dumped] == []
    assert "[REDACTED" in plan.tests[0].name and "[REDACTED" in plan.tests[0].success_criteria


async def test_the_pipeline_hook_records_the_plan_and_skips_a_missing_section(llm: FakeLLM, client: LLMClient) -> None:
    info = RunFacts(prompt_version="p", model="m")
    assert await make_test_plan([Section(SectionId.ROOT_CAUSE, "Root Cause", "x")], INCIDENT, client, info) is None
    assert info.tests == [] and llm.requests == []
    plan = await make_test_plan([Section(SectionId.TEST_SUITE, "Recommended Test Suite", suite_of(gate_passing_report()))],
                                INCIDENT, client, info)
    assert isinstance(plan, TestPlan) and info.tests == [t.model_dump() for t in plan.tests]
    assert RunFacts.from_dict(info.to_dict()).tests == info.tests  # survives run.json and the run store
    assert plan_from_record(info) == TestPlan(tests=plan.tests)
