"""The bench helpers are scripts' modules (bench/ on sys.path, as when a bench runs); the tests import them the same way."""

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
