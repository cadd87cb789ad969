"""Memory's reads and writes, in SQL both databases of the run store speak, through the store's ``execute``.
Only the full-text query differs: FTS5's bm25 on SQLite, ts_rank over the GIN-indexed tsvector on PostgreSQL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.memory import PastIncident, PastTest, Recurrence, Signals
from bot.core.memory.rank import TEXT_WEIGHT, THRESHOLD, WEIGHTS, bm25, combined, kept, tokens
from bot.runs.store import RunStore
from bot.runs.tickets import TicketClaims, spec_identity

BODY_CHARS = 100_000  # a tsvector holds at most 1 MB; a postmortem is a few KB
CANDIDATES = 100  # incidents sharing the most signals (then the newest), ranked by their wording too
_STOP = frozenset((
    "the", "and", "for", "with", "from", "that", "this", "was", "were", "are", "not", "but", "has", "had", "have",
    "its", "into", "our", "out", "per", "via", "all", "any", "after", "before", "when", "then", "than", "been",
    "being", "can", "could", "would", "should", "will", "did", "does", "one", "two"
))


@dataclass(frozen=True)
class Entry:
    """A postmortem to remember. Every string is redacted before it gets here (bot/memory/entry.py)."""

    source: str  # "slack:C123/1700000000.000100", "cli:<input hash>", "file:<path>"
    title: str
    signals: Signals
    status: str
    primary_cause: str
    tests: list[dict[str, str]]
    body: str
    run_id: int | None = None
    channel: str | None = None
    thread_ts: str | None = None
    private: bool = False
    link: str | None = None
    started_at: float | None = None


@dataclass(frozen=True)
class Scope:
    """Who is asking: a run in ``channel`` may see public incidents and its own channel's private ones; no channel
    (the CLI, an import) sees public ones only. ``exclude`` is the asking incident's own source."""

    channel: str | None = None
    exclude: str | None = None


def _dialect(store: RunStore) -> str:
    from bot.runs.sqlite import SqliteRunStore

    return "sqlite" if isinstance(store, SqliteRunStore) else "postgres"


def query_words(words: list[str], limit: int = 32) -> list[str]:
    """Distinct plain words for a full-text query, stop words out: nothing a query syntax could read as an operator."""
    seen: dict[str, None] = {}
    for word in words:
        for w in tokens(word):
            if w not in _STOP:
                seen.setdefault(w, None)
    return list(seen)[:limit]


class MemoryIndex:
    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.dialect = _dialect(store)

    async def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return (await self.store.execute(sql, params))[0]

    # -- writes ----------------------------------------------------------------------------------
    async def remember(self, entry: Entry) -> int:
        """Store (or replace) one postmortem; its id."""
        await self.forget_source(entry.source)
        rows = await self._q(
            "INSERT INTO memory (source, run_id, channel, thread_ts, private, link, title, started_at, remembered_at, status,"
            " primary_cause, signals, tests, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (entry.source, entry.run_id, entry.channel, entry.thread_ts, int(entry.private), entry.link, entry.title,
             entry.started_at, time.time(), entry.status, entry.primary_cause, json.dumps(entry.signals.to_dict()),
             json.dumps(entry.tests), entry.body[:BODY_CHARS]),
        )
        memory_id = int(rows[0]["id"])
        for kind, value in sorted(set(entry.signals.pairs())):
            await self._q("INSERT INTO memory_signals (memory_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (memory_id, kind, value))
        return memory_id

    async def forget_source(self, source: str) -> int:
        return await self._forget("source = ?", (source,))

    async def forget_thread(self, channel: str, thread_ts: str) -> int:
        return await self._forget("channel = ? AND thread_ts = ?", (channel, thread_ts))

    async def prune(self, older_than_s: float) -> int:
        """Retention: forget what was remembered more than ``older_than_s`` ago; how many were forgotten."""
        return await self._forget("remembered_at < ?", (time.time() - older_than_s,))

    async def _forget(self, where: str, params: tuple[Any, ...]) -> int:
        ids = [int(r["id"]) for r in await self._q(f"SELECT id FROM memory WHERE {where}", params)]
        for memory_id in ids:
            await self._q("DELETE FROM memory_signals WHERE memory_id = ?", (memory_id,))
            await self._q("DELETE FROM memory WHERE id = ?", (memory_id,))
        return len(ids)

    # -- recall ----------------------------------------------------------------------------------
    async def similar(self, signals: Signals, scope: Scope, limit: int = 3) -> list[tuple[PastIncident, float, tuple[tuple[str, str], ...], float]]:
        """The past incidents most like ``signals`` that ``scope`` may see, best first, above the threshold:
        (incident, score, shared signals, text part of the score).

        Wording alone never clears the threshold (rank.py), so only incidents sharing enough signals to clear it with
        the text's help are candidates, and the full-text rank is computed among them: the best ``CANDIDATES`` by
        shared signals, then the newest."""
        pairs = signals.pairs()
        if not pairs:
            return []
        by_signal = {i: score for i, score in (await self._by_signal(pairs, scope)).items() if score + TEXT_WEIGHT >= THRESHOLD}
        if not by_signal:
            return []
        ids = sorted(by_signal)
        by_text = await self._by_text(query_words(signals.words()), ids)
        shared = await self._shared(ids, pairs)
        best_text = max(by_text.values(), default=0.0)
        scored = {i: combined(shared.get(i, ()), by_text.get(i, 0.0), best_text) for i in ids}
        top = kept([(i, s[0]) for i, s in scored.items()], limit)
        pasts = {p.id: p for p in await self.fetch(top)}
        return [(pasts[i], scored[i][0], tuple(shared.get(i, ())), scored[i][1]) for i in top if i in pasts]

    def _visible(self, scope: Scope, alias: str = "m") -> tuple[str, tuple[Any, ...]]:
        sql, params = f"({alias}.private = 0 OR {alias}.channel = ?)", [scope.channel or ""]
        if scope.exclude:
            sql += f" AND {alias}.source <> ?"
            params.append(scope.exclude)
        return sql, tuple(params)

    def _pair_filter(self, pairs: list[tuple[str, str]], alias: str = "s") -> tuple[str, tuple[Any, ...]]:
        kinds: dict[str, list[str]] = {}
        for kind, value in pairs:
            kinds.setdefault(kind, []).append(value)
        sql = " OR ".join(f"({alias}.kind = ? AND {alias}.value IN ({', '.join('?' * len(v))}))" for v in kinds.values())
        return f"({sql})", tuple(p for kind, values in kinds.items() for p in (kind, *values))

    async def _by_signal(self, pairs: list[tuple[str, str]], scope: Scope) -> dict[int, float]:
        """Incidents sharing signals, by weighted overlap: one index lookup per kind (an OR across kinds would scan)."""
        kinds: dict[str, list[str]] = {}
        for kind, value in pairs:
            kinds.setdefault(kind, []).append(value)
        parts = [f"SELECT memory_id, {WEIGHTS[kind]} AS weight FROM memory_signals WHERE kind = ? AND value IN ({', '.join('?' * len(v))})"
                 for kind, v in kinds.items()]
        params = tuple(p for kind, values in kinds.items() for p in (kind, *values))
        visible, visible_params = self._visible(scope)
        rows = await self._q(
            f"SELECT s.memory_id AS id, SUM(s.weight) AS score FROM ({' UNION ALL '.join(parts)}) s"
            f" JOIN memory m ON m.id = s.memory_id WHERE {visible}"
            f" GROUP BY s.memory_id ORDER BY score DESC, s.memory_id DESC LIMIT {CANDIDATES}",
            (*params, *visible_params))
        return {int(r["id"]): float(r["score"]) for r in rows}

    async def _by_text(self, words: list[str], ids: list[int]) -> dict[int, float]:
        """The full-text rank of each candidate: BM25 of ``words`` over its title, primary cause and signals, with
        the term statistics of the candidates themselves. Computed here rather than by FTS5 or ts_rank, because the
        engines rank every incident that shares a common word ("error", "timeout"): 0.2 s on 10,000 incidents."""
        if not words or not ids:
            return {}
        rows = await self._q(f"SELECT id, title, primary_cause, signals FROM memory WHERE id IN ({', '.join('?' * len(ids))})", tuple(ids))
        docs = {int(r["id"]): tokens(f"{r['title']} {r['primary_cause']} {r['signals']}") for r in rows}
        return bm25(set(words), docs)

    async def _shared(self, ids: list[int], pairs: list[tuple[str, str]]) -> dict[int, list[tuple[str, str]]]:
        if not pairs:
            return {}
        match, params = self._pair_filter(pairs)
        rows = await self._q(f"SELECT s.memory_id AS id, s.kind AS kind, s.value AS value FROM memory_signals s"
                       f" WHERE s.memory_id IN ({', '.join('?' * len(ids))}) AND {match}", (*ids, *params))
        order = {kind: n for n, kind in enumerate(WEIGHTS)}
        shared: dict[int, list[tuple[str, str]]] = {}
        for r in sorted(rows, key=lambda r: (order[r["kind"]], r["value"])):
            shared.setdefault(int(r["id"]), []).append((str(r["kind"]), str(r["value"])))
        return shared

    async def recurrences(self, signals: Signals, scope: Scope, days: int = 90) -> list[Recurrence]:
        """How often each failure class of this incident was seen in ``days``, this incident counted, with the
        service of this incident it was seen with most ("on payments-api"), else the class alone."""
        since = time.time() - days * 86400
        visible, params = self._visible(scope)
        services = list(signals.services) or [""]
        found: list[Recurrence] = []
        for failure_class in signals.classes:
            # One pass per class: the count per service of this incident (NULL: seen with none of them).
            rows = await self._q(
                "SELECT b.value AS service, COUNT(DISTINCT a.memory_id) AS n FROM memory_signals a JOIN memory m ON m.id = a.memory_id"
                f" LEFT JOIN memory_signals b ON b.memory_id = a.memory_id AND b.kind = 'service' AND b.value IN ({', '.join('?' * len(services))})"
                f" WHERE a.kind = 'class' AND a.value = ? AND COALESCE(m.started_at, m.remembered_at) >= ? AND {visible}"
                " GROUP BY b.value", (*services, failure_class, since, *params))
            per_service = sorted(((int(r["n"]), str(r["service"])) for r in rows if r["service"] is not None), key=lambda p: (-p[0], p[1]))
            if per_service:
                found.append(Recurrence(failure_class, per_service[0][1], per_service[0][0] + 1, days))
            elif rows:
                found.append(Recurrence(failure_class, None, int(rows[0]["n"]) + 1, days))
        return found

    # -- reads -----------------------------------------------------------------------------------
    async def fetch(self, ids: list[int]) -> list[PastIncident]:
        if not ids:
            return []
        rows = await self._q(f"SELECT * FROM memory WHERE id IN ({', '.join('?' * len(ids))})", tuple(ids))
        runs = [int(r["run_id"]) for r in rows if r["run_id"] is not None]
        tickets, votes = await self._tickets(rows), await self._votes(runs)
        return [self._past(r, tickets, votes) for r in rows]

    async def search(self, words: list[str], scope: Scope | None, limit: int = 20) -> list[tuple[PastIncident, bool]]:
        """History: matches of ``words`` (all of them; none: the latest), newest first, with whether each is private.
        ``scope`` None: everything (the operator's CLI); else what that channel may see."""
        terms = query_words(words)
        visible, params = self._visible(scope) if scope is not None else ("1 = 1", ())
        if not terms:
            rows = await self._q(f"SELECT m.id AS id FROM memory m WHERE {visible} ORDER BY m.remembered_at DESC LIMIT {limit}", params)
        elif self.dialect == "sqlite":
            rows = await self._q("SELECT m.id AS id FROM memory_fts JOIN memory m ON m.id = memory_fts.rowid WHERE memory_fts MATCH ?"
                           f" AND {visible} ORDER BY m.remembered_at DESC LIMIT {limit}",
                           (" AND ".join(f'"{w}"' for w in terms), *params))
        else:
            rows = await self._q(f"SELECT m.id AS id FROM memory m WHERE m.tsv @@ to_tsquery('english', ?) AND {visible}"
                           f" ORDER BY m.remembered_at DESC LIMIT {limit}", (" & ".join(terms), *params))
        ids = [int(r["id"]) for r in rows]
        private = {int(r["id"]): bool(r["private"]) for r in await self._q(
            f"SELECT id, private FROM memory WHERE id IN ({', '.join('?' * len(ids))})", tuple(ids))} if ids else {}
        pasts = {p.id: p for p in await self.fetch(ids)}
        return [(pasts[i], private[i]) for i in ids if i in pasts]

    async def count(self) -> int:
        return int((await self._q("SELECT COUNT(*) AS n FROM memory"))[0]["n"])

    async def _tickets(self, rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, tuple[str, str]]]:
        """Tickets made in each Slack thread (by any of its runs), read now: one filed after the run finished counts."""
        claims = TicketClaims(self.store)
        threads = {(str(r["channel"]), str(r["thread_ts"])) for r in rows if r["channel"] and r["thread_ts"] and r["run_id"] is not None}
        return {thread: await claims.made(*thread) for thread in threads}

    async def _votes(self, runs: list[int]) -> dict[int, tuple[int, int]]:
        if not runs:
            return {}
        rows = await self._q(f"SELECT run_id, vote, COUNT(*) AS n FROM feedback WHERE run_id IN ({', '.join('?' * len(runs))}) GROUP BY run_id, vote",
                       tuple(runs))
        votes: dict[int, list[int]] = {}
        for r in rows:
            votes.setdefault(int(r["run_id"]), [0, 0])[0 if r["vote"] == "up" else 1] += int(r["n"])
        return {run: (v[0], v[1]) for run, v in votes.items()}

    @staticmethod
    def _past(row: dict[str, Any], tickets: dict[tuple[str, str], dict[str, tuple[str, str]]],
              votes: dict[int, tuple[int, int]]) -> PastIncident:
        run_id = int(row["run_id"]) if row["run_id"] is not None else None
        made = tickets.get((str(row["channel"]), str(row["thread_ts"])), {})
        tests = []
        for test in json.loads(row["tests"]):
            name, kind = str(test.get("name") or "test"), str(test.get("type") or "")
            url, key = made.get(spec_identity(name, kind), (test.get("ticket_url"), test.get("ticket_key")))
            tests.append(PastTest(name, kind, url or None, key or None))
        when = row["started_at"] if row["started_at"] is not None else row["remembered_at"]
        return PastIncident(
            id=int(row["id"]), title=str(row["title"]), where=str(row["link"] or row["source"].partition(":")[2]),
            link=row["link"], when=datetime.fromtimestamp(float(when), tz=UTC), channel=row["channel"],
            primary_cause=str(row["primary_cause"]), signals=Signals.from_dict(json.loads(row["signals"])), tests=tuple(tests),
            votes=votes.get(run_id, (0, 0)) if run_id is not None else (0, 0),
        )
