"""The persistent run store (SQLite): every accepted trigger is recorded, so a restart resumes or explains."""

from bot.runs.store import RunRecord, RunStore

__all__ = ["RunRecord", "RunStore"]
