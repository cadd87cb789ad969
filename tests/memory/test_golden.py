"""Golden recall: a folder of short postmortems written for this test (paraphrased, no real incident's text) is
imported, then each one with a sibling of the same failure class and service asks for its similar incidents: the
sibling must be in the top 3 for at least 80 % of them. Distractors share only the class or only the service."""

from __future__ import annotations

from pathlib import Path

from bot.memory.imports import entry_for_file, read_folder
from bot.memory.index import MemoryIndex, Scope
from bot.runs.sql import SqlRunStore

GOLDEN = Path(__file__).with_name("golden")
# Each file's failure class and service, labelled by hand when the incident was written.
LABELS = {
    "pool-orders-2026-03.md": ("connection-pool-exhaustion", "orders-api"),
    "pool-orders-2026-09.md": ("connection-pool-exhaustion", "orders-api"),
    "pool-ledger-2026-05.txt": ("connection-pool-exhaustion", "ledger-api"),
    "cert-auth-2026-02.md": ("certificate-expiry", "auth-gateway"),
    "cert-auth-2026-10.md": ("certificate-expiry", "auth-gateway"),
    "cert-cdn-2026-06.md": ("certificate-expiry", "cdn"),
    "disk-metrics-2026-01.md": ("disk-full", "metrics-db"),
    "disk-metrics-2026-08.txt": ("disk-full", "metrics-db"),
    "disk-kafka-2026-04.md": ("disk-full", "kafka"),
    "dns-search-2026-03.md": ("dns-failure", "search-api"),
    "dns-search-2026-11.md": ("dns-failure", "search-api"),
    "dns-auth-2026-07.md": ("dns-failure", "auth-gateway"),
    "oom-image-2026-02.md": ("oomkilled", "image-worker"),
    "oom-image-2026-09.txt": ("oomkilled", "image-worker"),
    "oom-search-2026-05.md": ("oomkilled", "search-api"),
    "retry-billing-2026-04.md": ("retry-storm", "billing-service"),
    "retry-billing-2026-10.md": ("retry-storm", "billing-service"),
    "retry-orders-2026-06.md": ("retry-storm", "orders-api"),
}


def siblings(name: str) -> set[str]:
    return {other for other, label in LABELS.items() if label == LABELS[name] and other != name}


def test_every_golden_file_is_labelled() -> None:
    assert {p.name for p in GOLDEN.iterdir()} == set(LABELS)


async def test_siblings_are_recalled(store: SqlRunStore) -> None:
    index = MemoryIndex(store)
    for result, entry in read_folder(GOLDEN):
        assert entry is not None, result.error
        await index.remember(entry)
    asked = found = 0
    missed = []
    for name in LABELS:
        if not siblings(name):
            continue
        asked += 1
        query = entry_for_file(GOLDEN / name)
        top = [Path(past.where).name for past, *_ in await index.similar(query.signals, Scope(None, exclude=query.source))]
        if siblings(name) & set(top):
            found += 1
        else:
            missed.append(f"{name} → {top}")
    assert asked == 12
    print(f"golden recall: {found}/{asked}", missed)
    assert found / asked >= 0.8, missed
