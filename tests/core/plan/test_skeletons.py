"""Skeletons: one per type, each file parses in its own language (ast, node --check, yaml), the success criterion
becomes the threshold or assertion, the fault the setup, and hostile model text cannot break out of a literal."""

from __future__ import annotations

import ast
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import jinja2
import pytest
import yaml

from bot.core.plan import TEST_TYPES, TestPlan, TestSpec
from bot.core.plan.skeletons import archive, render_skeletons
from bot.core.plan.skeletons.criteria import k6_thresholds, limits, toxic
from bot.core.plan.skeletons.escape import FILTERS, guard

# Closes every kind of literal and comment the templates use, opens Jinja syntax, and breaks lines every way.
HOSTILE = "x */ /* \"\"\" ''' ' \" ` ${process.exit(1)} {{ 7*7 }} {% raw %} </script> \\ \u2028\u2029\x85\r\n# boom é 😀 \x00"
NODE = shutil.which("node")


def spec(kind: str, *, name: str = "Pool saturation", criterion: str = "p99 < 300 ms and error rate under 1%",
         fault: str = "add 700 ms latency to the database", text: str = "") -> TestSpec:
    return TestSpec(name=name + text, type=kind, scope="checkout-api" + text, fault_injection=fault + text,  # type: ignore[arg-type]
                    success_criteria=criterion + text, catches="CheckoutLatencyHigh" + text)


def node_check(source: str, tmp_path: Path) -> None:
    """node parses k6's ES module syntax with --check (it resolves no import); node ships with the image and CI."""
    assert NODE, "node is needed to check the k6 skeletons (it is part of the machine image)"
    script = tmp_path / "check.mjs"
    script.write_text(source)
    done = subprocess.run([NODE, "--check", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def parses(path: str, source: str, tmp_path: Path) -> object:
    if path.endswith(".py"):
        return ast.parse(source)
    if path.endswith(".yaml"):
        return yaml.safe_load(source)
    assert path.endswith(".js")
    node_check(source, tmp_path)
    return source


@pytest.mark.parametrize("text", ["", HOSTILE], ids=["plain", "hostile"])
def test_every_type_renders_a_file_that_parses(text: str, tmp_path: Path) -> None:
    plan = TestPlan(tests=[spec(kind, text=text) for kind in TEST_TYPES])
    files = render_skeletons(plan)
    assert sorted(p.split("/")[0] for p in files) == sorted(TEST_TYPES)
    for path, source in files.items():
        assert path.isascii() and ".." not in path
        parsed = parses(path, source, tmp_path)
        if text and path.endswith(".py"):
            # The model's text is data: the module's constants hold it exactly, no statement was injected.
            consts = {t.id: n.value.value for n in ast.walk(parsed) if isinstance(n, ast.Assign)  # type: ignore[arg-type]
                      for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
            assert consts["NAME"] == "Pool saturation" + text
            assert consts["SUCCESS_CRITERIA"].endswith(text)
        if text and path.endswith(".yaml"):
            assert parsed["metadata"]["annotations"]["postmortem-bot/test"] == "Pool saturation" + text  # type: ignore[index]
        if text and path.endswith(".js"):
            assert "49" not in source and "process.exit(1)} " in source  # {{ 7*7 }} was never evaluated


@pytest.mark.parametrize(("criterion", "expected"), [
    ("p99 < 300 ms", {"http_req_duration": ["p(99)<300"]}),
    ("p99 latency under 2 s and p95 below 800ms", {"http_req_duration": ["p(99)<2000", "p(95)<800"]}),
    ("99th percentile response time within 1.5 s", {"http_req_duration": ["p(99)<1500"]}),
    ("latency under 250 ms", {"http_req_duration": ["p(95)<250"]}),
    ("error rate under 1%", {"http_req_failed": ["rate<0.01"]}),
    ("the error rate stays below 0.5 %", {"http_req_failed": ["rate<0.005"]}),
    ("zero pool timeouts", {"http_req_failed": ["rate==0"]}),
    ("sustains at least 500 rps, no 5xx", {"http_req_failed": ["rate==0"], "http_reqs": ["rate>=500"]}),
    ("the pool never runs dry", {"http_req_failed": ["rate<0.01"], "http_req_duration": ["p(95)<1000"]}),
])
def test_k6_thresholds_come_from_the_success_criterion(criterion: str, expected: dict[str, list[str]], tmp_path: Path) -> None:
    assert k6_thresholds(limits(criterion)) == expected
    (_, source), = render_skeletons(TestPlan(tests=[spec("load", criterion=criterion)])).items()
    node_check(source, tmp_path)
    for metric, rules in expected.items():
        assert f"{json.dumps(metric)}: {json.dumps(rules)}," in source
    assert ("defaults" in source) is (criterion == "the pool never runs dry")


@pytest.mark.parametrize("kind", ["unit", "integration", "contract", "chaos"])
def test_pytest_skeletons_assert_the_criterion_and_set_up_the_fault(kind: str) -> None:
    (_, source), = render_skeletons(TestPlan(tests=[spec(kind)])).items()
    tree = ast.parse(source)
    asserts = [ast.unparse(n.test) for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    assert asserts == ["measured['p99_ms'] < 300", "measured['error_rate'] < 0.01"]
    fixture = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "fault")
    assert "pytest.fixture" in ast.unparse(fixture.decorator_list[0])
    test = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))
    assert test.name == "test_pool_saturation" and [a.arg for a in test.args.args] == ["fault"]


@pytest.mark.parametrize(("fault", "kind", "attributes"), [
    ("add 700 ms latency to the database", "latency", {"latency": 700, "jitter": 0}),
    ("gateway responds in 2 s", "latency", {"latency": 2000, "jitter": 0}),
    ("the upstream returns 503 for 60 s", "timeout", {"timeout": 0}),
    ("the gateway times out after a 5 s delay", "latency", {"latency": 5000, "jitter": 0}),
    ("pause the replica for 30 s", "latency", {"latency": 30000, "jitter": 0}),
    ("the upstream is down", "timeout", {"timeout": 0}),
    ("connection reset by the load balancer", "reset_peer", {"timeout": 0}),
    ("throttle the network bandwidth", "bandwidth", {"rate": 64}),
    ("kill the primary", "timeout", {"timeout": 0}),
    ("something odd", "latency", {"latency": 1000, "jitter": 0}),
])
def test_the_fault_becomes_a_toxiproxy_toxic(fault: str, kind: str, attributes: dict[str, int]) -> None:
    found = toxic(fault)
    assert (found["type"], found["attributes"]) == (kind, attributes)
    (_, source), = render_skeletons(TestPlan(tests=[spec("chaos", fault=fault)])).items()
    assert f"TOXIC = {found!r}" in source


def test_canary_template_is_an_argo_analysis_template_gating_on_the_criterion() -> None:
    (path, source), = render_skeletons(TestPlan(tests=[spec("canary")])).items()
    doc = yaml.safe_load(source)
    assert path == "canary/pool_saturation.analysis-template.yaml"
    assert (doc["apiVersion"], doc["kind"], doc["metadata"]["name"]) == ("argoproj.io/v1alpha1", "AnalysisTemplate", "pool-saturation")
    conditions = {m["name"]: m["successCondition"] for m in doc["spec"]["metrics"]}
    assert conditions == {"p99-latency": "result[0] < 0.3", "error-rate": "result[0] < 0.01"}
    assert all("{{args.service-name}}" in m["provider"]["prometheus"]["query"] for m in doc["spec"]["metrics"])


def test_e2e_is_a_playwright_test_with_the_fault_routed_and_the_latency_asserted() -> None:
    (path, source), = render_skeletons(TestPlan(tests=[spec("e2e")])).items()
    tree = ast.parse(source)
    assert path == "e2e/test_pool_saturation.py" and "from playwright.sync_api import" in source
    assert 'page.route("**/api/**", inject)' in source
    assert [ast.unparse(n.test) for n in ast.walk(tree) if isinstance(n, ast.Assert)] == ["elapsed_ms < 300"]


def test_same_names_get_distinct_files_and_the_archive_holds_them_with_the_plan() -> None:
    plan = TestPlan(tests=[spec("unit"), spec("unit"), spec("load", name="Ünïcode ☃ name")])
    data = zipfile.ZipFile(io.BytesIO(archive(plan)))
    assert sorted(data.namelist()) == ["tests.json", "tests/load/unicode_name.js", "tests/unit/test_pool_saturation.py",
                                       "tests/unit/test_pool_saturation_2.py"]
    assert TestPlan.model_validate_json(data.read("tests.json")) == plan


def test_a_template_that_prints_model_text_without_a_filter_fails_loudly() -> None:
    env = jinja2.Environment(finalize=guard, undefined=jinja2.StrictUndefined)
    env.filters.update(FILTERS)
    with pytest.raises(TypeError, match="unescaped text"):
        env.from_string("name = {{ name }}").render(name="x")
    assert env.from_string("name = {{ name | py }}  # {{ name | comment }}").render(name="a'\nb") == "name = \"a'\\nb\"  # a' b"
