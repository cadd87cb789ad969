"""A run: its state machine (state.py), the Run that owns it (run.py) and what it measured (facts.py)."""

from bot.core.run.facts import RunFacts
from bot.core.run.run import Part, Run, RunSink, Target, Unsaved
from bot.core.run.state import TERMINAL, UNFINISHED, InvalidTransition, RunState, check_transition

__all__ = ["TERMINAL", "UNFINISHED", "InvalidTransition", "Part", "Run", "RunFacts", "RunSink", "RunState", "Target",
           "Unsaved", "check_transition"]
