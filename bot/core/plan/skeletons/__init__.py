"""Runnable test skeletons, one file a test in the usual tool for its type, rendered from Jinja2 templates (never
by a model): load → k6 with ``thresholds``; unit, integration, contract → pytest; e2e → Playwright for Python
(pytest-playwright: the same runner and language as the other skeletons, and checkable with ``ast``); chaos →
pytest driving Toxiproxy's HTTP API (the toxic is the setup fixture); canary → an Argo Rollouts AnalysisTemplate.
The fault injection is the setup and the success criterion the assertion or threshold."""

from __future__ import annotations

import io
import json
import zipfile
from functools import lru_cache
from typing import Any

import jinja2

from bot.core.plan.model import TestPlan, TestSpec
from bot.core.plan.skeletons.criteria import assertions, k6_thresholds, limits, prometheus_conditions, toxic
from bot.core.plan.skeletons.escape import FILTERS, Escaped, guard, ident

__all__ = ["archive", "plan_json", "render_skeleton", "render_skeletons"]

# type → (template, folder, file name pattern)
_LAYOUT: dict[str, tuple[str, str]] = {
    "load": ("k6.js.j2", "load/{slug}.js"),
    "unit": ("pytest.py.j2", "unit/test_{slug}.py"),
    "integration": ("pytest.py.j2", "integration/test_{slug}.py"),
    "contract": ("pytest.py.j2", "contract/test_{slug}.py"),
    "e2e": ("playwright.py.j2", "e2e/test_{slug}.py"),
    "chaos": ("toxiproxy.py.j2", "chaos/test_{slug}.py"),
    "canary": ("analysis-template.yaml.j2", "canary/{slug}.analysis-template.yaml"),
}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.core.plan.skeletons", "templates"),
        autoescape=False,  # not HTML: each value is escaped for its own language by the filters
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        finalize=guard,
    )
    env.filters.update(FILTERS)
    return env


def _context(test: TestSpec, file: str) -> dict[str, Any]:
    found = limits(test.success_criteria)
    checks = [(key, Escaped(op), limit) for key, op, limit in assertions(found)]
    return {
        "t": test,
        "file": file,
        "kind_label": test.type.capitalize(),
        "thresholds": k6_thresholds(found),
        "defaults": found.empty,
        "checks": checks,
        "metrics": prometheus_conditions(found),
        "toxic": toxic(test.fault_injection),
    }


def render_skeleton(test: TestSpec, path: str) -> str:
    template, _ = _LAYOUT[test.type]
    return _env().get_template(template).render(_context(test, path))


def render_skeletons(plan: TestPlan) -> dict[str, str]:
    """Relative path → file text, in plan order; two tests with the same name get ``_2``, ``_3`` …"""
    files: dict[str, str] = {}
    for test in plan.tests:
        _, pattern = _LAYOUT[test.type]
        slug, n = ident(test.name), 1
        path = pattern.format(slug=slug)
        while path in files:
            n += 1
            path = pattern.format(slug=f"{slug}_{n}")
        files[path] = render_skeleton(test, path)
    return files


def plan_json(plan: TestPlan) -> str:
    return json.dumps(plan.model_dump(), indent=2, ensure_ascii=False) + "\n"


def archive(plan: TestPlan) -> bytes:
    """One zip: ``tests.json`` and every skeleton under ``tests/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tests.json", plan_json(plan))
        for path, text in render_skeletons(plan).items():
            zf.writestr(f"tests/{path}", text)
    return buffer.getvalue()
