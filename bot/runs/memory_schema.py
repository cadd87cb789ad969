"""Memory's tables in the run store's own database (issue 22): no new server. Appended to the store's migrations
(bot/runs/migrations.py), so existing stores gain them at start-up like any other migration.

- ``memory``: one row per remembered postmortem (a Slack thread, a CLI input, an imported file), ``source`` unique.
- ``memory_signals``: its signals, one (kind, value) row each, indexed for the weighted-overlap lookup.
- full text: SQLite FTS5 (an external-content table kept in step by triggers); PostgreSQL a generated tsvector with
  a GIN index.
- recall's speed (migration 10): ``memory_terms``, the words BM25 ranks each incident by, tokenised once when it is
  remembered rather than for 100 candidates at every recall; and ``memory_visible``, an index holding what the
  privacy and recency checks read, so scoring a candidate never reads its ~4 KB row.
"""

from __future__ import annotations

_COLUMNS = """
    source TEXT NOT NULL UNIQUE,
    run_id BIGINT,
    channel TEXT,
    thread_ts TEXT,
    private INTEGER NOT NULL DEFAULT 0,
    link TEXT,
    title TEXT NOT NULL,
    started_at {real},
    remembered_at {real} NOT NULL,
    status TEXT NOT NULL,
    primary_cause TEXT NOT NULL DEFAULT '',
    signals TEXT NOT NULL,
    tests TEXT NOT NULL,
    body TEXT NOT NULL
"""
_SIGNALS = ("CREATE TABLE memory_signals (memory_id BIGINT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
            " PRIMARY KEY (kind, value, memory_id))")
_INDEXES = [
    "CREATE INDEX memory_signals_by_memory ON memory_signals(memory_id)",
    "CREATE INDEX memory_by_thread ON memory(channel, thread_ts)",
    "CREATE INDEX memory_by_time ON memory(remembered_at)",
]

MEMORY_SQLITE: list[str] = [
    f"CREATE TABLE memory (id INTEGER PRIMARY KEY AUTOINCREMENT, {_COLUMNS.format(real='REAL')})",
    _SIGNALS,
    *_INDEXES,
    # Porter stemming: "exhausted" finds "exhaustion". The text lives once, in ``memory``.
    "CREATE VIRTUAL TABLE memory_fts USING fts5(title, primary_cause, body, content='memory', content_rowid='id',"
    " tokenize='porter unicode61')",
    "CREATE TRIGGER memory_fts_insert AFTER INSERT ON memory BEGIN INSERT INTO memory_fts(rowid, title, primary_cause, body)"
    " VALUES (new.id, new.title, new.primary_cause, new.body); END",
    "CREATE TRIGGER memory_fts_delete AFTER DELETE ON memory BEGIN INSERT INTO memory_fts(memory_fts, rowid, title,"
    " primary_cause, body) VALUES ('delete', old.id, old.title, old.primary_cause, old.body); END",
]

MEMORY_POSTGRES: list[str] = [
    f"CREATE TABLE memory (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {_COLUMNS.format(real='DOUBLE PRECISION')},"
    " tsv tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A')"
    " || setweight(to_tsvector('english', primary_cause), 'B') || setweight(to_tsvector('english', body), 'C')) STORED)",
    _SIGNALS,
    *_INDEXES,
    "CREATE INDEX memory_fts ON memory USING GIN (tsv)",
]


# Incidents remembered before these get their words from bot/runs/migrations.py's step, which runs after them.
MEMORY_RECALL: list[str] = [
    "CREATE TABLE memory_terms (memory_id BIGINT PRIMARY KEY, terms TEXT NOT NULL)",
    "CREATE INDEX memory_visible ON memory(id, private, channel, source, started_at, remembered_at)",
]
