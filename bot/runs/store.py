"""SQLite run store. Standard library only; one file at DATA_DIR/runs.db, no server.

Calls are short local transactions (well under a millisecond), so they run inline on the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.sections import Section, SectionId

UNFINISHED = ("queued", "collecting", "analysing", "narrating", "posting")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    trigger TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread_ts TEXT,
    invoker TEXT NOT NULL,
    response_url TEXT,
    status TEXT NOT NULL,
    input_hash TEXT,
    message_count INTEGER,
    prompt_version TEXT,
    model TEXT,
    tts_engine TEXT,
    timings TEXT NOT NULL DEFAULT '{}',
    status_ts TEXT,
    sections TEXT,
    summary TEXT,
    report TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS posted (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    item TEXT NOT NULL,
    ts TEXT,
    PRIMARY KEY (run_id, item)
);
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY,
    run_id INTEGER,
    seen_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status);
"""


@dataclass
class RunRecord:
    id: int
    created_at: float
    trigger: str
    channel: str
    thread_ts: str | None
    invoker: str
    status: str
    response_url: str | None = None
    input_hash: str | None = None
    message_count: int | None = None
    prompt_version: str | None = None
    model: str | None = None
    tts_engine: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    status_ts: str | None = None
    sections: list[Section] | None = None
    summary: str | None = None
    report: str | None = None
    error: str | None = None
    posted: dict[str, str] = field(default_factory=dict)


class RunStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # A kill -9 between statements must never leave a half-written run behind.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    @classmethod
    def in_dir(cls, data_dir: Path) -> RunStore:
        return cls(data_dir / "runs.db")

    def close(self) -> None:
        self.db.close()

    # -- writes ------------------------------------------------------------------------------
    def create(self, *, trigger: str, channel: str, thread_ts: str | None, invoker: str, response_url: str | None = None) -> int:
        now = time.time()
        cur = self.db.execute(
            "INSERT INTO runs (created_at, updated_at, trigger, channel, thread_ts, invoker, response_url, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'queued')",
            (now, now, trigger, channel, thread_ts, invoker, response_url),
        )
        return int(cur.lastrowid or 0)

    def update(self, run_id: int, **fields: Any) -> None:
        if "timings" in fields:
            fields["timings"] = json.dumps(fields["timings"])
        if "sections" in fields:
            fields["sections"] = json.dumps([[s.id.value if s.id else None, s.title, s.body] for s in fields["sections"]])
        cols = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE runs SET {cols}, updated_at = ? WHERE id = ?", (*fields.values(), time.time(), run_id))

    def mark_posted(self, run_id: int, item: str, ts: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO posted (run_id, item, ts) VALUES (?, ?, ?)", (run_id, item, ts))

    def claim_delivery(self, delivery_id: str) -> bool:
        """True the first time a Slack delivery id is seen; False for a re-delivery."""
        try:
            self.db.execute("INSERT INTO deliveries (delivery_id, seen_at) VALUES (?, ?)", (delivery_id, time.time()))
        except sqlite3.IntegrityError:
            return False
        return True

    # -- reads -------------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord | None:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def recent(self, limit: int = 20) -> list[RunRecord]:
        rows = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [self._record(r) for r in rows]

    def latest_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        row = self.db.execute(
            "SELECT * FROM runs WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT 1", (channel, thread_ts)
        ).fetchone()
        return self._record(row) if row else None

    def unfinished(self) -> list[RunRecord]:
        marks = ",".join("?" * len(UNFINISHED))
        rows = self.db.execute(f"SELECT * FROM runs WHERE status IN ({marks}) ORDER BY id", UNFINISHED).fetchall()
        return [self._record(r) for r in rows]

    def _record(self, row: sqlite3.Row) -> RunRecord:
        posted = {r["item"]: r["ts"] for r in self.db.execute("SELECT item, ts FROM posted WHERE run_id = ?", (row["id"],))}
        sections = None
        if row["sections"]:
            sections = [Section(SectionId(sid) if sid else None, title, body) for sid, title, body in json.loads(row["sections"])]
        return RunRecord(
            id=row["id"], created_at=row["created_at"], trigger=row["trigger"], channel=row["channel"],
            thread_ts=row["thread_ts"], invoker=row["invoker"], status=row["status"], response_url=row["response_url"],
            input_hash=row["input_hash"], message_count=row["message_count"], prompt_version=row["prompt_version"],
            model=row["model"], tts_engine=row["tts_engine"], timings=json.loads(row["timings"] or "{}"),
            status_ts=row["status_ts"], sections=sections, summary=row["summary"], report=row["report"],
            error=row["error"], posted=posted,
        )
