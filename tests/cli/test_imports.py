"""The CLI answers bad input before it loads the model client: openai's import alone takes about a second."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_does_not_load_the_llm_client_until_it_analyses() -> None:
    code = "import sys, bot.cli, bot.cli.analyze; print(sorted({m.split('.')[0] for m in sys.modules} & {'openai', 'edge_tts'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
