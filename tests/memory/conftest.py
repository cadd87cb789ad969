"""Memory's tests run on both run-store backends, like the store's own (tests/runs/conftest.py)."""

from tests.runs.conftest import open_store, store

__all__ = ["open_store", "store"]
