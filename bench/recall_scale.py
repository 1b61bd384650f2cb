"""Recall at scale: LoCoMo's conversations mixed into generated chat noise in one agent's memory.

The five LoCoMo conversations (see bench/locomo_retrieval.py) go into one agent and workspace, a
channel each, among generated chat noise: messages of random length whose words are drawn from
LoCoMo's own vocabulary, by 200 speakers in 50 channels, at times spread over the same months,
all indexed the way the engine indexes new messages. At each size every question of categories
1-4 is asked from the conversation's channel, as the agent would search while talking there
(and, for the ranked messages, once more from elsewhere), and the benchmark prints recall@10 of
the evidence (ranked messages, and the exchanges ``conversation_search`` returns), search
latency, how closely the vector graph agrees with the exact scan, the graph's build rate, the
cost of indexing one new message and the process's resident memory.

    .venv/bin/python bench/recall_scale.py [--sizes 10000 100000] [--data PATH]

``--sizes 1000000`` stores and embeds a million messages in 2,000-message batches (about 8
minutes on 2 busy cores, 1.7 GB of disk), then builds the graph (20 minutes at 850 rows/s there).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from locomo_retrieval import DATA, TRAIN, WORKSPACE, Conversation, Question, load, refs_of

from engine import LocalEmbedder, Message, RecordFilter, Role, Scope
from engine.records import ConversationKey
from engine.search import HistoryRead, HybridSearch
from engine.store.sqlite import SQLiteStore
from engine.store.sqlite._ann import GraphSettings
from engine.store.sqlite._database import snapshot
from engine.store.sqlite._vectors import VectorIndex
from engine.store.sqlite.messages import VECTOR_COLUMNS

AGENT = "scale"
WHERE = RecordFilter(AGENT, WORKSPACE, (Scope.agent(), Scope.workspace()))
SPEAKERS = [f"Person{i:03d}" for i in range(200)]
CHANNELS = [f"noise-{i:02d}" for i in range(50)]
BATCH = 2_000


def mixed_in(conversations: Sequence[Conversation]) -> list[list[Message]]:
    """Each conversation's sessions, moved into the one agent, a channel per conversation."""
    return [
        [dataclasses.replace(m, agent_id=AGENT, channel=c.agent_id) for m in session]
        for c in conversations
        for session in c.sessions
    ]


class Noise:
    """Generated chat: ``count`` messages drawn up front as a few numpy arrays, made into
    messages a slice at a time, so the benchmark's own memory stays small beside the store's."""

    def __init__(
        self,
        count: int,
        vocabulary: Sequence[str],
        first: datetime,
        last: datetime,
        numbered_from: int = 0,
    ) -> None:
        rng = np.random.default_rng(numbered_from + count)
        self.numbered_from = numbered_from
        self.vocabulary = vocabulary
        self.first = first
        self.seconds = np.sort(rng.uniform(0, (last - first).total_seconds(), count))
        lengths = rng.integers(4, 30, count)
        self.picks = rng.integers(0, len(vocabulary), int(lengths.sum())).astype(np.int32)
        self.starts = np.concatenate([[0], np.cumsum(lengths)])
        sizes = (len(SPEAKERS), len(CHANNELS))
        who = np.array([rng.integers(n) for _ in range(count) for n in sizes], np.int16)
        self.speakers, self.channels = who[0::2], who[1::2]

    def __len__(self) -> int:
        return len(self.seconds)

    def slice(self, start: int, stop: int) -> list[Message]:
        out = []
        for n in range(start, stop):
            at = self.first + timedelta(seconds=float(self.seconds[n]))
            speaker = SPEAKERS[self.speakers[n]]
            words = self.picks[self.starts[n] : self.starts[n + 1]].tolist()
            out.append(
                Message(
                    id=f"noise-{self.numbered_from + n}",
                    agent_id=AGENT,
                    workspace=WORKSPACE,
                    channel=CHANNELS[self.channels[n]],
                    thread="",
                    scope=Scope.workspace(),
                    role=Role.USER,
                    author=speaker.lower(),
                    author_name=speaker,
                    content=" ".join(self.vocabulary[i] for i in words),
                    seq=int(at.timestamp() * 10**9) + (self.numbered_from + n) % 1000,
                    created_at=at,
                )
            )
        return out


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def timed[T](operation: Awaitable[T], spent: list[tuple[float, float]]) -> T:
    """Await ``operation`` (a coroutine does not start before), noting its wall and CPU
    milliseconds: on a shared machine the wall time includes waiting for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    result = await operation
    spent.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return result


async def build_graph(store: SQLiteStore, search_probe: Sequence[float]) -> tuple[float, int]:
    """Drive the graph's build through searches (it grows a few ms per store operation);
    returns the seconds it took and the rows it holds."""
    index = store.messages._vectors
    started = time.perf_counter()
    await store.messages.search_vector(WHERE, search_probe, 10)
    while index.building:
        await store.messages.search_vector(WHERE, search_probe, 10)
    held = sum(len(m.graph.positions()) for m in index._matrices.values() if m.graph)
    return time.perf_counter() - started, held


def float32_top(path: Path, queries: np.ndarray) -> list[set[int]]:
    """Positions of the 10 nearest by the float32 vectors as stored, a chunk of rows at a time."""
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT pos, embedding FROM messages WHERE agent_id = ? AND embedding IS NOT NULL",
        (AGENT,),
    )
    best = np.full((len(queries), 10), -np.inf, np.float32)
    best_pos = np.zeros((len(queries), 10), np.int64)
    while chunk := rows.fetchmany(20_000):
        pos = np.array([p for p, _ in chunk], np.int64)
        raw = np.frombuffer(b"".join(b for _, b in chunk), np.float32).reshape(len(pos), -1)
        vectors = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
        scores = np.concatenate([best, queries @ vectors.T], axis=1)
        positions = np.concatenate([best_pos, np.broadcast_to(pos, (len(queries), len(pos)))], 1)
        top = np.argpartition(-scores, 9, axis=1)[:, :10]
        best = np.take_along_axis(scores, top, 1)
        best_pos = np.take_along_axis(positions, top, 1)
    conn.close()
    return [set(row.tolist()) for row in best_pos]


def overlap(found: Sequence[set[int]], truth: Sequence[set[int]]) -> float:
    return statistics.fmean(len(f & t) / max(len(t), 1) for f, t in zip(found, truth, strict=True))


def index_mb(store: SQLiteStore) -> tuple[float, float]:
    """Megabytes held by the vector matrices (vectors and their fields) and by their graphs."""
    matrices = store.messages._vectors._matrices.values()
    held = sum(
        m.vectors.nbytes + m.scales.nbytes + m.fields.nbytes + m.pos.nbytes + m.created.nbytes
        for m in matrices
    )
    graphs = sum(m.graph.index.memory_usage for m in matrices if m.graph is not None)
    return held / 2**20, graphs / 2**20


def exact_top(path: Path, queries: np.ndarray) -> tuple[list[set[int]], dict[str, int]]:
    """Positions of the exact 10 nearest, from a second in-memory copy without a graph, and
    the position of each message id."""
    exact = VectorIndex("messages", VECTOR_COLUMNS, graphs=GraphSettings(min_rows=10**12))
    conn = sqlite3.connect(path)
    while True:
        with snapshot(conn):
            if exact.refresh(conn):
                break
    positions = dict(conn.execute("SELECT id, pos FROM messages").fetchall())
    conn.close()
    return [{pos for pos, _ in exact.search(WHERE, q.tolist(), 10)} for q in queries], positions


async def measure(
    store: SQLiteStore,
    search: HybridSearch,
    embedder: LocalEmbedder,
    questions: Sequence[Question],
    channels: Sequence[str],
    size: int,
) -> None:
    """``channels[i]`` is where conversation ``i`` was mixed in, and its questions asked."""
    seconds, held = await build_graph(store, np.ones(embedder.dimensions).tolist())
    rate = f"{held / seconds:,.0f} rows/s" if held else "no graph (exact scan)"
    print(f"  vector graph: {held:,} rows built in {seconds:.1f} s ({rate})")

    queries = embedder.embed_now([q.text for q in questions])
    vector_ms: list[tuple[float, float]] = []
    graph_top = []
    for q in queries:
        hits = await timed(store.messages.search_vector(WHERE, q.tolist(), 10), vector_ms)
        graph_top.append({h.record.id for h in hits})
    matrix_mb, graph_mb = index_mb(store)
    resident = (
        f"  resident memory {resident_mb():,.0f} MB at {size:,} messages (vector matrix "
        f"{matrix_mb:,.0f} MB, graph {graph_mb:,.0f} MB)"
    )
    truth, positions = exact_top(store.path, queries)
    by_graph = [{positions[i] for i in got} for got in graph_top]
    stored = float32_top(store.path, queries)

    hybrid_ms: list[tuple[float, float]] = []
    exchange_ms: list[tuple[float, float]] = []
    ranked: list[frozenset[str]] = []
    shown: list[frozenset[str]] = []
    elsewhere: list[frozenset[str]] = []
    for question in questions:
        where_asked = ConversationKey(AGENT, WORKSPACE, channels[question.conversation])
        hits = await timed(search.messages(WHERE, question.text, 10, where_asked), hybrid_ms)
        ranked.append(frozenset(h.record.platform_ref for h in hits))
        found = await timed(
            search.exchanges(WHERE, question.text, 10, asked_in=where_asked), exchange_ms
        )
        shown.append(refs_of(found))
        hits = await search.messages(WHERE, question.text, 10)
        elsewhere.append(frozenset(h.record.platform_ref for h in hits))

    def recall(refs: Sequence[frozenset[str]], held_out: bool) -> float:
        rows = [
            (q, r)
            for q, r in zip(questions, refs, strict=True)
            if not held_out or q.conversation not in TRAIN
        ]
        return statistics.fmean(bool(r & q.evidence) for q, r in rows)

    print(
        f"  recall@10 asked in its conversation: ranked {recall(ranked, False):.3f} (held out "
        f"{recall(ranked, True):.3f}), exchanges {recall(shown, False):.3f} (held out "
        f"{recall(shown, True):.3f}); asked elsewhere: ranked {recall(elsewhere, False):.3f} "
        f"(held out {recall(elsewhere, True):.3f})"
    )
    for name, spent in (
        ("vector search", vector_ms),
        ("hybrid search", hybrid_ms),
        ("exchanges", exchange_ms),
    ):
        wall, cpu = [w for w, _ in spent], [c for _, c in spent]
        print(
            f"  {name:<14} wall p50 {percentile(wall, 0.5):6.2f} ms  p95 "
            f"{percentile(wall, 0.95):6.2f} ms   cpu p50 {percentile(cpu, 0.5):6.2f} ms  "
            f"p95 {percentile(cpu, 0.95):6.2f} ms"
        )
    print(
        f"  vector search vs exact int8 scan: recall@10 {overlap(by_graph, truth):.3f}; "
        f"vs exact float32: {overlap(by_graph, stored):.3f}; int8 scan vs float32 scan: "
        f"{overlap(truth, stored):.3f}"
    )
    print(resident)


async def per_message_indexing(
    store: SQLiteStore,
    search: HybridSearch,
    dimensions: int,
    vocabulary: Sequence[str],
    when: datetime,
) -> None:
    """A new message, step by step: stored; embedded with the turn before it (taken from what
    its turn's context read holds, as the pipeline does); its vector attached; taken into the
    in-memory matrix and graph (the refresh that the next vector search starts with, here a
    search for nothing)."""
    fresh = Noise(200, vocabulary, when, when + timedelta(hours=1)).slice(0, 200)
    fresh = [dataclasses.replace(m, id=f"fresh-{n}", channel="fresh") for n, m in enumerate(fresh)]
    steps: dict[str, list[tuple[float, float]]] = {}
    probe = np.ones(dimensions).tolist()
    read: dict[ConversationKey, tuple[Message, ...]] = {}
    for message in fresh:
        key = message.conversation
        seen = HistoryRead(key, read.get(key, ()), whole=True)
        read[key] = (*seen.messages, message)
        await timed(store.messages.append([message]), steps.setdefault("store", []))
        embedding = search.message_embeddings([message], seen)
        found = await timed(embedding, steps.setdefault("embed", []))
        await timed(store.messages.set_embeddings(found), steps.setdefault("attach", []))
        await timed(store.messages.search_vector(WHERE, probe, 0), steps.setdefault("take in", []))
    cells = []
    for name, spent in steps.items():
        wall, cpu = [w for w, _ in spent], [c for _, c in spent]
        cells.append(f"{name} {percentile(wall, 0.5):.2f}/{percentile(cpu, 0.5):.2f}")
    indexing = [sum(s[i][1] for n, s in steps.items() if n != "store") for i in range(len(fresh))]
    print(
        f"  one new message, p50 ms wall/cpu: {', '.join(cells)}; indexing (embed, attach, "
        f"take in) cpu p50 {percentile(indexing, 0.5):.2f} ms, mean "
        f"{statistics.fmean(indexing):.2f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()

    conversations = load(args.data)
    questions = [q for c in conversations for q in c.questions]
    sessions = mixed_in(conversations)
    turns = [m for session in sessions for m in session]
    vocabulary = [w for m in turns for w in re.findall(r"[A-Za-z']+", m.content)]
    first, last = min(m.created_at for m in turns), max(m.created_at for m in turns)
    embedder = LocalEmbedder()
    print(
        f"{len(turns):,} LoCoMo turns in {len(conversations)} channels, {len(questions)} "
        f"questions; noise in {len(CHANNELS)} channels; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )

    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "scale.sqlite3")
        await store.setup()
        search = HybridSearch(store, embedder, clock=lambda: last + timedelta(days=1))
        for session in sessions:
            await store.messages.append(session)
            await search.index_messages(session)
        have = len(turns)
        for size in sorted(args.sizes):
            started = time.perf_counter()
            noise = Noise(size - have, vocabulary, first, last, numbered_from=have - len(turns))
            for i in range(0, len(noise), BATCH):
                batch = noise.slice(i, min(i + BATCH, len(noise)))
                await store.messages.append(batch)
                await search.index_messages(batch)
            del noise
            loaded = time.perf_counter() - started
            print(
                f"\n{size:,} messages (stored and embedded {size - have:,} in {loaded:.0f} s, "
                f"{(size - have) / loaded:,.0f}/s):"
            )
            have = size
            channels = [c.agent_id for c in conversations]
            await measure(store, search, embedder, questions, channels, size)
        await per_message_indexing(
            store, search, embedder.dimensions, vocabulary, last + timedelta(days=2)
        )
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
