"""Incident preparation: everything done to the incident text before it reaches the model."""

from bot.core.prepare.budget import Fitted, MessageBlock, Rank, Unit, estimate_tokens, fit_to_budget
from bot.core.prepare.fold import Folded, Folder, fold_log
from bot.core.prepare.pipeline import PreparedIncident, prepare_incident
from bot.core.prepare.traces import Chunk, split_traces
from bot.core.redact import redact

__all__ = [
    "Chunk",
    "Fitted",
    "Folded",
    "Folder",
    "MessageBlock",
    "PreparedIncident",
    "Rank",
    "Unit",
    "estimate_tokens",
    "fit_to_budget",
    "fold_log",
    "prepare_incident",
    "redact",
    "split_traces",
]
