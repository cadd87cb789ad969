"""Running `python -m bot analyze` as a user does: a real subprocess, against fakes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fakes.fake_llm import FakeLLM

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "bot" / "samples" / "checkout-incident.json"


@dataclass
class Outcome:
    code: int
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


def llm_env(llm_url: str, **extra: str) -> dict[str, str]:
    return {"LLM_BASE_URL": llm_url, "LLM_MODEL": "llama3.1:8b", "LLM_TIMEOUT_S": "20", **extra}


async def start_cli(
    *args: str, env: dict[str, str] | None = None, preexec_fn: Callable[[], None] | None = None
) -> asyncio.subprocess.Process:
    """Async subprocess, so the in-process fake servers keep serving while the CLI runs."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "analyze", *args,
        cwd=ROOT, env={**os.environ, **(env or {})}, preexec_fn=preexec_fn,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    preexec_fn: Callable[[], None] | None = None,
) -> Outcome:
    proc = await start_cli(*args, env=env, preexec_fn=preexec_fn)
    _, err = await proc.communicate(stdin)
    return Outcome(proc.returncode or 0, err.decode())


def run_record(out: Path) -> dict[str, Any]:
    return json.loads((out / "run.json").read_text())


def leftovers(out: Path) -> list[str]:
    """Temp files an interrupted atomic write would leave behind."""
    return sorted(p.name for p in out.glob(".*.tmp"))


def cli_llm() -> FakeLLM:
    """The fake Ollama every CLI test talks to (used as ``async with cli_llm() as fake``)."""
    return FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192)
