"""Embedded store search and insert figures at 10k and 100k records (DESIGN §8 budget:
archival and recall search p95 <= 20 ms at 100k records), vector searches measured once the
nearest-neighbour graphs are built (their build time is printed).

Usage: .venv/bin/python bench/store_search.py [--sizes 10000 100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from engine import Audience, AudienceKind, Message, Passage, RecordFilter, Role, Scope, new_id
from engine.store.sqlite import SQLiteStore

DIM = 384
BATCH = 500
AGENT = "agent-1"
WORKSPACE = "T1"
USERS = [f"U{i:03d}" for i in range(50)]
CHANNELS = [f"C{i:02d}" for i in range(20)]
START = datetime(2026, 1, 1, tzinfo=UTC)

rng = random.Random(7)
vectors = np.random.default_rng(7)
VOCABULARY = [
    "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
    for _ in range(5000)
]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]  # Zipf-like word frequencies


def sentence(words: int) -> str:
    return " ".join(rng.choices(VOCABULARY, WEIGHTS, k=words))


def unit_vectors(count: int) -> np.ndarray:
    block = vectors.standard_normal((count, DIM)).astype(np.float32)
    normalized: np.ndarray = block / np.linalg.norm(block, axis=1, keepdims=True)
    return normalized


def scope_of(user: str) -> Scope:
    """Most records are public; one in five was learned in a DM."""
    return Scope.dm(user) if rng.random() < 0.2 else Scope.workspace()


def make_messages(start: int, count: int) -> list[Message]:
    out = []
    for i in range(start, start + count):
        user = rng.choice(USERS)
        out.append(
            Message(
                id=new_id(),
                agent_id=AGENT,
                workspace=WORKSPACE,
                channel=rng.choice(CHANNELS),
                thread="",
                scope=scope_of(user),
                role=Role.USER,
                author=user,
                author_name=user,
                content=sentence(rng.randint(5, 30)),
                seq=i + 1,
                created_at=START + timedelta(seconds=i),
            )
        )
    return out


def make_passages(count: int) -> list[Passage]:
    embeddings = unit_vectors(count)
    return [
        Passage(
            id=new_id(),
            agent_id=AGENT,
            workspace=WORKSPACE,
            scope=scope_of(user),
            text=sentence(rng.randint(8, 40)),
            tags=(rng.choice(["work", "food", "people", "plans"]),),
            users=(user,),
            created_at=START + timedelta(seconds=i),
            embedding=tuple(embeddings[i].tolist()),
        )
        for i, user in enumerate(rng.choices(USERS, k=count))
    ]


async def timed(
    operation: Callable[[], Awaitable[object]], runs: int
) -> tuple[float, float, float]:
    """p50 and p95 wall milliseconds, and mean CPU milliseconds (all threads) per run.

    On a shared machine wall time includes waiting for a core; CPU time does not.
    """
    samples = []
    cpu_begin = time.process_time()
    for _ in range(runs):
        begin = time.perf_counter()
        await operation()
        samples.append((time.perf_counter() - begin) * 1000)
    cpu = (time.process_time() - cpu_begin) * 1000 / runs
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94], cpu


def report(name: str, figures: tuple[float, float, float]) -> None:
    p50, p95, cpu = figures
    print(f"  {name:<28} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  cpu {cpu:6.2f} ms")


async def grow(store: SQLiteStore, have: int, want: int) -> None:
    added = want - have
    messages = make_messages(have, added)
    begin = time.perf_counter()
    for i in range(0, added, BATCH):
        await store.messages.append(messages[i : i + BATCH])
    appended = time.perf_counter() - begin

    embeddings = unit_vectors(added)
    begin = time.perf_counter()
    for i in range(0, added, BATCH):
        chunk = messages[i : i + BATCH]
        await store.messages.set_embeddings(
            [(m.id, embeddings[i + j]) for j, m in enumerate(chunk)]
        )
    embedded = time.perf_counter() - begin

    passages = make_passages(added)
    begin = time.perf_counter()
    for i in range(0, added, BATCH):
        await store.passages.insert(passages[i : i + BATCH])
    inserted = time.perf_counter() - begin
    print(
        f"  insert ({added:,} records, batches of {BATCH}): messages {added / appended:,.0f}/s, "
        f"message embeddings {added / embedded:,.0f}/s, passages with embeddings "
        f"{added / inserted:,.0f}/s"
    )


async def per_turn_writes(store: SQLiteStore, seq: int, turns: int) -> None:
    """A turn appends about four messages in one call: its latency is what a turn pays."""

    async def one_turn() -> None:
        nonlocal seq
        await store.messages.append(make_messages(seq, 4))
        seq += 4

    report("append one turn (4 messages)", await timed(one_turn, turns))


async def searches(store: SQLiteStore, queries: int) -> None:
    audience = Audience(WORKSPACE, AudienceKind.DM, "D-U001", user="U001")
    where = RecordFilter.for_audience(AGENT, audience)
    texts = [f"what did we say about {sentence(4)}?" for _ in range(queries)]
    probes = unit_vectors(queries)
    text_iter, probe_iter, passage_iter = iter(texts), iter(probes), iter(unit_vectors(queries))

    begin = time.perf_counter()
    await store.messages.search_vector(where, probes[0], 10)
    await store.passages.search_vector(where, probes[0], 10)
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"  first vector searches (load both in-memory matrices): "
        f"{(time.perf_counter() - begin) * 1000:.0f} ms"
    )
    begin = time.perf_counter()
    # the graphs grow a few ms per store operation; searches scan exactly until they are built
    while store.messages._vectors.building or store.passages._vectors.building:
        await store.messages.search_vector(where, probes[0], 10)
        await store.passages.search_vector(where, probes[0], 10)
    print(f"  nearest-neighbour graphs built in {time.perf_counter() - begin:.1f} s")

    for name, operation in (
        ("messages.search_text", lambda: store.messages.search_text(where, next(text_iter), 10)),
        (
            "messages.search_vector",
            lambda: store.messages.search_vector(where, next(probe_iter), 10),
        ),
        (
            "passages.search_vector",
            lambda: store.passages.search_vector(where, next(passage_iter), 10),
        ),
    ):
        report(name, await timed(operation, queries))

    async def turn_stats() -> None:
        await store.messages.count(where)
        await store.passages.count(where)
        await store.passages.tag_counts(where)

    report("turn stats (3 counts)", await timed(turn_stats, queries))

    tagged = RecordFilter(AGENT, WORKSPACE, where.scopes, tags=("food",))

    async def search_tagged() -> None:
        await store.passages.search_vector(tagged, probes[1], 10)

    report("passages (tag filter)", await timed(search_tagged, queries))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = SQLiteStore(Path(directory) / "bench.sqlite3")
        await store.setup()
        have = 0
        for size in sorted(args.sizes):
            print(f"{size:,} messages + {size:,} passages ({DIM}-dim embeddings):")
            await grow(store, have, size)
            have = size
            await searches(store, args.queries)
            await per_turn_writes(store, 10**9 + have, 200)
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
