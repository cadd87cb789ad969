"""``execute_all``: several statements in one transaction, on SQLite and on a real PostgreSQL. A fault between two
statements (a conflict, a database error) leaves none of them applied, and the caller gets a StoreError."""

from __future__ import annotations

import pytest

from bot.runs import StoreError
from bot.runs.sql import SqlRunStore


async def deliveries(store: SqlRunStore) -> list[tuple[str, int | None]]:
    rows, _ = await store.execute("SELECT delivery_id, run_id FROM deliveries ORDER BY delivery_id")
    return [(str(r["delivery_id"]), r["run_id"]) for r in rows]


async def test_every_statement_applies_with_its_rows_and_counts(store: SqlRunStore) -> None:
    done = await store.execute_all([
        ("INSERT INTO deliveries (delivery_id, seen_at) VALUES (?, 1), (?, 2)", ("a", "b")),
        ("UPDATE deliveries SET run_id = 7 WHERE seen_at > ?", (0,)),
        ("SELECT delivery_id, run_id FROM deliveries ORDER BY delivery_id", ()),
    ])
    assert [count for _, count in done[:2]] == [2, 2]
    assert done[2][0] == [{"delivery_id": "a", "run_id": 7}, {"delivery_id": "b", "run_id": 7}]


@pytest.mark.parametrize("fault", [
    ("INSERT INTO deliveries (delivery_id, seen_at) VALUES ('kept', 0)", "UNIQUE|unique|duplicate"),  # a conflict
    ("INSERT INTO no_such_table (x) VALUES (1)", "no_such_table"),  # the database refuses
])
async def test_a_fault_between_statements_applies_none(store: SqlRunStore, fault: tuple[str, str]) -> None:
    await store.execute("INSERT INTO deliveries (delivery_id, seen_at) VALUES ('kept', 0)")
    statement, reason = fault
    with pytest.raises(StoreError, match=reason):
        await store.execute_all([
            ("INSERT INTO deliveries (delivery_id, seen_at) VALUES ('first', 0)", ()),
            ("UPDATE deliveries SET run_id = 9 WHERE delivery_id = 'kept'", ()),
            (statement, ()),
            ("INSERT INTO deliveries (delivery_id, seen_at) VALUES ('never', 0)", ()),
        ])
    assert await deliveries(store) == [("kept", None)]
    await store.execute_all([("INSERT INTO deliveries (delivery_id, seen_at) VALUES ('next', 0)", ())])  # the store still works
    assert await deliveries(store) == [("kept", None), ("next", None)]
