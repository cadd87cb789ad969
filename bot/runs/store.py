"""SQLite run store. Standard library only; one file at DATA_DIR/runs.db, no server.

Calls are short local transactions (well under a millisecond), so they run inline on the event loop. The run's
RunInfo is stored whole as JSON (``info``), so a resumed run keeps redaction counts, omissions and warnings.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.core.report import RunInfo
from bot.core.run import UNFINISHED, RunState
from bot.core.sections import Section, SectionId
from bot.errors import PostmortemError

log = logging.getLogger(__name__)

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
    error TEXT,
    status_ts TEXT,
    info TEXT,
    sections TEXT,
    summary TEXT,
    report TEXT
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


class StoreError(PostmortemError):
    """The run store cannot be opened or written. Carries the file's path so the message says where."""

    exit_code = 2  # a setting or the machine needs fixing, like a ConfigError


@dataclass
class RunRecord:
    id: int
    created_at: float
    trigger: str
    channel: str
    thread_ts: str | None
    invoker: str
    status: RunState
    response_url: str | None = None
    error: str | None = None
    status_ts: str | None = None
    info: RunInfo | None = None
    sections: list[Section] | None = None
    summary: str | None = None
    report: str | None = None
    posted: dict[str, str] = field(default_factory=dict)


# 0.1 recorded narration as its own status; it is part of posting now.
_LEGACY_STATUS = {"narrating": RunState.POSTING}


def _status(value: str) -> RunState:
    return _LEGACY_STATUS.get(value) or RunState(value)


def _move_aside(path: Path) -> Path:
    """A corrupt store is kept for inspection, never deleted: runs.db → runs.db.corrupt-20261123T104500Z."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


class RunStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # Set when a corrupt file was moved aside at start-up; the app logs it where an operator looks.
        self.moved_aside: Path | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            if "not a database" not in str(exc) and "malformed" not in str(exc):
                raise self._error("open", exc) from None
            self.moved_aside = _move_aside(path)
            log.warning("run store %s was corrupt: moved aside to %s; starting a new one", path, self.moved_aside)
            try:
                self.db = self._open()
            except sqlite3.Error as again:
                raise self._error("open", again) from None
        except OSError as exc:
            raise self._error("open", exc) from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            # A kill -9 between statements must never leave a half-written run behind.
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._upgrade(db)
            # Catches a store that opens but cannot be written (read-only file or folder) now, not mid-run.
            db.execute("BEGIN IMMEDIATE")
            db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        return db

    @staticmethod
    def _upgrade(db: sqlite3.Connection) -> None:
        """Stores written by 0.1 lack the JSON column; old per-field columns stay but are no longer read."""
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        if "info" not in columns:
            db.execute("ALTER TABLE runs ADD COLUMN info TEXT")

    def _error(self, action: str, exc: BaseException) -> StoreError:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return StoreError(
            f"cannot {action} the run store {self.path} ({reason})",
            "make DATA_DIR a writable folder with free space (or set DATA_DIR elsewhere); a corrupt file is moved aside automatically",
        )

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error("write" if not sql.lstrip().upper().startswith("SELECT") else "read", exc) from None

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """One statement for a companion table (bot/runs/tickets.py), with the store's one-line errors."""
        return self._exec(sql, params)

    @classmethod
    def in_dir(cls, data_dir: Path) -> RunStore:
        return cls(data_dir / "runs.db")

    def close(self) -> None:
        self.db.close()

    # -- writes ------------------------------------------------------------------------------
    def create(self, *, trigger: str, channel: str, thread_ts: str | None, invoker: str, response_url: str | None = None) -> int:
        now = time.time()
        cur = self._exec(
            "INSERT INTO runs (created_at, updated_at, trigger, channel, thread_ts, invoker, response_url, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (now, now, trigger, channel, thread_ts, invoker, response_url, RunState.QUEUED.value),
        )
        return int(cur.lastrowid or 0)

    def update(self, run_id: int, **values: Any) -> None:
        """Set columns; ``info`` takes a RunInfo (its status and error are mirrored into their columns)."""
        info = values.pop("info", None)
        if isinstance(info, RunInfo):
            values.update(info=json.dumps(info.to_dict()), status=info.status.value, error=info.error)
        if isinstance(values.get("status"), RunState):
            values["status"] = values["status"].value
        if "sections" in values:
            values["sections"] = json.dumps([[s.id.value if s.id else None, s.title, s.body] for s in values["sections"]])
        cols = ", ".join(f"{name} = ?" for name in values)
        self._exec(f"UPDATE runs SET {cols}, updated_at = ? WHERE id = ?", (*values.values(), time.time(), run_id))

    def mark_posted(self, run_id: int, item: str, ts: str | None) -> None:
        self._exec("INSERT OR REPLACE INTO posted (run_id, item, ts) VALUES (?, ?, ?)", (run_id, item, ts))

    def claim_delivery(self, delivery_id: str) -> bool:
        """True the first time a Slack delivery id is seen; False for a re-delivery."""
        try:
            self.db.execute("INSERT INTO deliveries (delivery_id, seen_at) VALUES (?, ?)", (delivery_id, time.time()))
        except sqlite3.IntegrityError:
            return False
        except sqlite3.Error as exc:
            raise self._error("write", exc) from None
        return True

    # -- reads -------------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord | None:
        row = self._exec("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def recent(self, limit: int = 20) -> list[RunRecord]:
        rows = self._exec("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [self._record(r) for r in rows]

    def latest_for_thread(self, channel: str, thread_ts: str) -> RunRecord | None:
        row = self._exec(
            "SELECT * FROM runs WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT 1", (channel, thread_ts)
        ).fetchone()
        return self._record(row) if row else None

    def digest_posted(self, channel: str, thread_ts: str) -> bool:
        """Some run already put the rule-based digest into this thread (whatever became of that run)."""
        return self._exec(
            "SELECT 1 FROM posted JOIN runs ON runs.id = posted.run_id WHERE runs.channel = ? AND runs.thread_ts = ? "
            "AND posted.item LIKE 'digest/%' LIMIT 1", (channel, thread_ts)
        ).fetchone() is not None

    def unfinished(self) -> list[RunRecord]:
        states = tuple(s.value for s in UNFINISHED)
        marks = ",".join("?" * len(states))
        rows = self._exec(f"SELECT * FROM runs WHERE status IN ({marks}) ORDER BY id", states).fetchall()
        return [self._record(r) for r in rows]

    def _record(self, row: sqlite3.Row) -> RunRecord:
        posted = {r["item"]: r["ts"] for r in self._exec("SELECT item, ts FROM posted WHERE run_id = ?", (row["id"],))}
        sections = None
        if row["sections"]:
            sections = [Section(SectionId(sid) if sid else None, title, body) for sid, title, body in json.loads(row["sections"])]
        return RunRecord(
            id=row["id"], created_at=row["created_at"], trigger=row["trigger"], channel=row["channel"],
            thread_ts=row["thread_ts"], invoker=row["invoker"], status=_status(row["status"]),
            response_url=row["response_url"], error=row["error"], status_ts=row["status_ts"],
            info=RunInfo.from_dict(json.loads(row["info"])) if row["info"] else None,
            sections=sections, summary=row["summary"], report=row["report"], posted=posted,
        )
