"""Memory's reads and writes, in SQL both databases of the run store speak, through the store's ``execute``.
Only the full-text query differs: FTS5's bm25 on SQLite, ts_rank over the GIN-indexed tsvector on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.core.memory import PastIncident, PastTest, Recurrence, Signals
from bot.core.memory.rank import TEXT_WEIGHT, THRESHOLD, WEIGHTS, bm25, combined, document, kept, tokens
from bot.runs.store import RunStore
from bot.tickets.claims import spec_identity

A = TypeVar("A")
B = TypeVar("B")
BODY_CHARS = 100_000  # a tsvector holds at most 1 MB; a postmortem is a few KB
CANDIDATES = 100  # incidents sharing the most signals (then the newest), ranked by their wording too
_ORDER = {kind: n for n, kind in enumerate(WEIGHTS)}  # shared signals are listed by weight, then value
_BITS = 30  # shared signals per integer column: sums of distinct bits stay below 2**31 (PostgreSQL's integer)
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


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Two reads at once (PostgreSQL answers them on two connections; SQLite takes them in turn). Either's error is
    raised once both have ended, so nothing is left running."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    if isinstance(a, BaseException):
        raise a
    if isinstance(b, BaseException):
        raise b
    return a, b


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
        # ``memory m`` where a query only checks an incident's privacy and time: through the index that holds them.
        # PostgreSQL picks that index-only scan itself; SQLite without ANALYZE statistics reads the ~4 KB rows.
        self._checked = "memory m INDEXED BY memory_visible" if self.dialect == "sqlite" else "memory m"

    async def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return (await self.store.execute(sql, params))[0]

    # -- writes ----------------------------------------------------------------------------------
    async def remember(self, entry: Entry) -> int:
        """Store (or replace) one postmortem; its id. One transaction: a crash or an error midway leaves the store as
        it was, never an incident without its signals or words."""
        signals_json = json.dumps(entry.signals.to_dict())
        pairs = sorted(set(entry.signals.pairs()))
        forget = self._forgetting("source = ?", (entry.source,))
        statements = [*forget, (
            "INSERT INTO memory (source, run_id, channel, thread_ts, private, link, title, started_at, remembered_at, status,"
            " primary_cause, signals, tests, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (entry.source, entry.run_id, entry.channel, entry.thread_ts, int(entry.private), entry.link, entry.title,
             entry.started_at, time.time(), entry.status, entry.primary_cause, signals_json, json.dumps(entry.tests),
             entry.body[:BODY_CHARS]),
        ), (
            "INSERT INTO memory_terms (memory_id, terms) SELECT id, ? FROM memory WHERE source = ?",
            (document(entry.title, entry.primary_cause, signals_json), entry.source),
        )]
        if pairs:
            # VALUES' columns are column1, column2 in both databases; the WHERE lets SQLite parse the ON CONFLICT.
            statements.append((
                "INSERT INTO memory_signals (memory_id, kind, value) SELECT m.id, v.column1, v.column2 FROM memory m"
                f" CROSS JOIN (VALUES {', '.join(['(?, ?)'] * len(pairs))}) v WHERE m.source = ? ON CONFLICT DO NOTHING",
                (*(p for pair in pairs for p in pair), entry.source)))
        done = await self.store.execute_all(statements)
        return int(done[len(forget)][0][0]["id"])

    async def forget_source(self, source: str) -> int:
        return await self._forget("source = ?", (source,))

    async def forget_thread(self, channel: str, thread_ts: str) -> int:
        return await self._forget("channel = ? AND thread_ts = ?", (channel, thread_ts))

    async def prune(self, older_than_s: float) -> int:
        """Retention: forget what was remembered more than ``older_than_s`` ago; how many were forgotten."""
        return await self._forget("remembered_at < ?", (time.time() - older_than_s,))

    async def _forget(self, where: str, params: tuple[Any, ...]) -> int:
        return (await self.store.execute_all(self._forgetting(where, params)))[-1][1]

    @staticmethod
    def _forgetting(where: str, params: tuple[Any, ...]) -> list[tuple[str, tuple[Any, ...]]]:
        """The statements that forget the incidents ``where`` selects, with everything kept about them."""
        ids = f"SELECT id FROM memory WHERE {where}"
        return [(f"DELETE FROM memory_signals WHERE memory_id IN ({ids})", params),
                (f"DELETE FROM memory_terms WHERE memory_id IN ({ids})", params),
                (f"DELETE FROM memory WHERE {where}", params)]

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
        candidates = await self._candidates(pairs, scope)
        by_text = bm25(set(query_words(signals.words())), {i: words.split() for i, (_, words) in candidates.items()})
        best_text = max(by_text.values(), default=0.0)
        scored = {i: combined(shared, by_text.get(i, 0.0), best_text) for i, (shared, _) in candidates.items()}
        top = kept([(i, s[0]) for i, s in scored.items()], limit)
        pasts = {p.id: p for p in await self.fetch(top)}
        return [(pasts[i], scored[i][0], candidates[i][0], scored[i][1]) for i in top if i in pasts]

    def _visible(self, scope: Scope, alias: str = "m") -> tuple[str, tuple[Any, ...]]:
        sql, params = f"({alias}.private = 0 OR {alias}.channel = ?)", [scope.channel or ""]
        if scope.exclude:
            sql += f" AND {alias}.source <> ?"
            params.append(scope.exclude)
        return sql, tuple(params)

    async def _candidates(self, pairs: list[tuple[str, str]], scope: Scope) -> dict[int, tuple[tuple[tuple[str, str], ...], str]]:
        """Incidents sharing signals, by weighted overlap computed in the database, with the signals they share and
        their words: one statement. One index lookup per signal (an OR would scan); the privacy check reads the
        ``memory_visible`` index, not the rows; only the best ``CANDIDATES`` have their words read. What a candidate
        shares comes back as bits (signal n of ``wanted`` is bit n % _BITS of column n // _BITS), summed like the
        weights: integer sums, where a string or JSON aggregate per candidate cost more than the rest of the query."""
        wanted = sorted(set(pairs), key=lambda p: (_ORDER[p[0]], p[1]))
        columns = range((len(wanted) + _BITS - 1) // _BITS)
        hits = " UNION ALL ".join(
            f"SELECT memory_id, {WEIGHTS[kind]:g} AS weight, "
            + ", ".join(f"{1 << n % _BITS if n // _BITS == c else 0} AS b{c}" for c in columns)
            + " FROM memory_signals WHERE kind = ? AND value = ?" for n, (kind, _) in enumerate(wanted))
        visible, visible_params = self._visible(scope)
        rows = await self._q(
            # A SELECT first, not a WITH: the store tells a failed read from a failed write by the first word.
            f"SELECT best.*, COALESCE(t.terms, '') AS terms FROM (SELECT h.memory_id AS id, SUM(h.weight) AS score,"
            f" {', '.join(f'SUM(h.b{c}) AS b{c}' for c in columns)} FROM ({hits}) h JOIN {self._checked} ON m.id = h.memory_id"
            f" WHERE {visible} GROUP BY h.memory_id HAVING SUM(h.weight) >= ? ORDER BY score DESC, h.memory_id DESC LIMIT {CANDIDATES})"
            " best LEFT JOIN memory_terms t ON t.memory_id = best.id",
            (*(p for pair in wanted for p in pair), *visible_params, THRESHOLD - TEXT_WEIGHT))
        return {int(r["id"]): (tuple(wanted[n] for n in range(len(wanted)) if int(r[f"b{n // _BITS}"]) >> n % _BITS & 1), str(r["terms"]))
                for r in rows}

    async def recurrences(self, signals: Signals, scope: Scope, days: int = 90) -> list[Recurrence]:
        """How often each failure class of this incident was seen in ``days``, this incident counted, with the
        service of this incident it was seen with most ("on payments-api"), else the class alone."""
        if not signals.classes:
            return []
        since = time.time() - days * 86400
        visible, params = self._visible(scope)
        services = list(signals.services) or [""]
        # One pass for every class: the count per class and per service of this incident (NULL: seen with none of them).
        rows = await self._q(
            "SELECT a.value AS class, b.value AS service, COUNT(DISTINCT a.memory_id) AS n FROM memory_signals a"
            f" JOIN {self._checked} ON m.id = a.memory_id LEFT JOIN memory_signals b ON b.memory_id = a.memory_id AND b.kind = 'service'"
            f" AND b.value IN ({', '.join('?' * len(services))}) WHERE a.kind = 'class' AND a.value IN ({', '.join('?' * len(signals.classes))})"
            f" AND COALESCE(m.started_at, m.remembered_at) >= ? AND {visible} GROUP BY a.value, b.value",
            (*services, *signals.classes, since, *params))
        found: list[Recurrence] = []
        for failure_class in signals.classes:
            of_class = [r for r in rows if r["class"] == failure_class]
            per_service = sorted(((int(r["n"]), str(r["service"])) for r in of_class if r["service"] is not None), key=lambda p: (-p[0], p[1]))
            if per_service:
                found.append(Recurrence(failure_class, per_service[0][1], per_service[0][0] + 1, days))
            elif of_class:
                found.append(Recurrence(failure_class, None, int(of_class[0]["n"]) + 1, days))
        return found

    # -- reads -----------------------------------------------------------------------------------
    async def fetch(self, ids: list[int]) -> list[PastIncident]:
        """The incidents ``ids`` with their votes and the tickets made in their Slack threads (by any of their runs,
        read now: one filed after the run finished counts), in one statement: a row per ticket."""
        if not ids:
            return []
        rows = await self._q(
            "SELECT m.id, m.run_id, m.channel, m.thread_ts, m.link, m.source, m.title, m.started_at, m.remembered_at,"
            " m.primary_cause, m.signals, m.tests,"
            " (SELECT COUNT(*) FROM feedback f WHERE f.run_id = m.run_id AND f.vote = 'up') AS up,"
            " (SELECT COUNT(*) FROM feedback f WHERE f.run_id = m.run_id AND f.vote <> 'up') AS down,"
            " t.test AS made_test, t.url AS made_url, t.key AS made_key FROM memory m"  # thread_tickets: bot/tickets/claims.py
            " LEFT JOIN thread_tickets t ON m.run_id IS NOT NULL AND t.channel = m.channel AND t.thread = m.thread_ts AND t.url IS NOT NULL"
            f" WHERE m.id IN ({', '.join('?' * len(ids))})", tuple(ids))
        made: dict[int, dict[str, tuple[str, str]]] = {}
        first: dict[int, dict[str, Any]] = {}
        for r in rows:
            first.setdefault(int(r["id"]), r)
            tickets = made.setdefault(int(r["id"]), {})
            if r["made_test"] is not None:
                tickets[str(r["made_test"])] = (str(r["made_url"]), str(r["made_key"]))
        return [self._past(r, made[i]) for i, r in first.items()]

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

    @staticmethod
    def _past(row: dict[str, Any], made: dict[str, tuple[str, str]]) -> PastIncident:
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
            votes=(int(row["up"]), int(row["down"])),
        )
