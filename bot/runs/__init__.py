"""The persistent run store: every accepted trigger is recorded, so a restart (or another replica) resumes or explains.
SQLite in DATA_DIR by default; PostgreSQL when DATABASE_URL is set (several replicas)."""

from bot.runs.open import open_store
from bot.runs.store import Claimed, RunRecord, RunStore, StoreError, ThreadBusy

__all__ = ["Claimed", "RunRecord", "RunStore", "StoreError", "ThreadBusy", "open_store"]
