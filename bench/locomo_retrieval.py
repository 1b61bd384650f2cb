"""Recall quality on LoCoMo: does conversation_search find the turns that answer a question?

Loads the five LoCoMo conversations (Maharana et al., ACL 2024; CC BY-NC 4.0, evaluation only)
into recall memory through Mnemo's own store, one agent per conversation, with each session's
date as the time of its messages, the speakers as authors, the turn ids as ``platform_ref``,
and a shared photo's caption in the text of its turn (for every system alike). Then asks every
question of categories 1-4 (5 is adversarial) and prints recall@1/5/10/20 of the evidence
turns ("any": at least one found, "all": every one found), per category, and search latency,
for Mnemo's hybrid search, for the exchanges ``conversation_search`` returns (each hit with the
turns around it: a question counts as answered when the evidence is anywhere in the text the
tool returns, printed with that text's tokens), and for two baselines computed here on the same
data: plain BM25 over the turns (bm25s, Snowball stemming) and plain dense search with the same
local embedding model. Archival search is measured over LoCoMo's own session observations
loaded as passages.

The ranking's defaults were chosen on conversations 1-2 only (``--sweep`` reruns that
selection); figures are printed for all five and for the held-out 3-5 apart. Messages are
ordered by ``seq`` taken from their time, as the engine's own ``next_seq`` is.

    .venv/bin/python bench/locomo_retrieval.py [--data PATH] [--sweep]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

from engine import Embedder, LocalEmbedder, RecordFilter, Scope, Store, open_store
from engine.records import ConversationKey, Message, Passage, Role
from engine.search import Exchange, HybridSearch, SearchTuning, render_exchanges
from engine.tokens import TokenCounter

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "locomo" / "locomo-dev.json"
WORKSPACE = "locomo"
CHANNEL = "conversation"
KS = (1, 5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
#: Conversations the ranking's defaults were chosen on; the rest are held out.
TRAIN = frozenset({0, 1})
WHERE_SCOPES = (Scope.agent(), Scope.workspace())

type Vectors = npt.NDArray[np.float32]


# -- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Question:
    conversation: int
    text: str
    category: int
    evidence: frozenset[str]


@dataclass(slots=True)
class Conversation:
    index: int
    agent_id: str
    sessions: list[list[Message]]
    questions: list[Question]
    #: When the questions are asked: a day after the last session.
    asked_at: datetime
    turns: list[Message] = field(default_factory=list)
    #: LoCoMo's own per-session observations, each with the turns it came from.
    observations: list[Observation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Observation:
    text: str
    speaker: str
    said_at: datetime
    evidence: frozenset[str]


def session_time(text: str) -> datetime:
    """LoCoMo's "1:56 pm on 8 May, 2023"."""
    return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turn_text(turn: dict[str, Any]) -> str:
    """The turn as its reader saw it: the words, and the photo when one was shared."""
    text = str(turn["text"])
    caption = turn.get("blip_caption")
    return f"{text} [shares a photo: {caption}]" if caption else text


def evidence_ids(raw: Sequence[str]) -> frozenset[str]:
    """Evidence lists hold the odd "D8:6; D9:17" in one string."""
    return frozenset(part.strip() for item in raw for part in item.replace(",", ";").split(";"))


def load(path: Path) -> list[Conversation]:
    conversations = []
    for index, sample in enumerate(json.loads(path.read_text())):
        agent_id = f"locomo-{sample['sample_id']}"
        convo = sample["conversation"]
        sessions: list[list[Message]] = []
        number = 1
        last = datetime.min.replace(tzinfo=UTC)
        while f"session_{number}" in convo:
            start = session_time(convo[f"session_{number}_date_time"])
            messages = []
            for offset, turn in enumerate(convo[f"session_{number}"]):
                speaker = str(turn["speaker"])
                at = start + timedelta(seconds=30 * offset)
                messages.append(
                    Message(
                        id=f"{agent_id}:{turn['dia_id']}",
                        agent_id=agent_id,
                        workspace=WORKSPACE,
                        channel=CHANNEL,
                        thread="",
                        scope=Scope.workspace(),
                        role=Role.USER,
                        author=speaker.lower(),
                        author_name=speaker,
                        content=turn_text(turn),
                        seq=int(at.timestamp()) * 10**9 + index,
                        created_at=at,
                        platform_ref=str(turn["dia_id"]),
                    )
                )
                last = max(last, at)
            sessions.append(messages)
            number += 1
        questions = [
            Question(index, str(q["question"]), int(q["category"]), evidence_ids(q["evidence"]))
            for q in sample["qa"]
            if int(q["category"]) in CATEGORIES
        ]
        conversation = Conversation(index, agent_id, sessions, questions, last + timedelta(days=1))
        conversation.turns = [m for s in sessions for m in s]
        for number in range(1, len(sessions) + 1):
            said_at = session_time(convo[f"session_{number}_date_time"])
            facts = sample["observation"].get(f"session_{number}_observation", {})
            conversation.observations.extend(
                Observation(str(text), speaker, said_at, evidence_ids([str(evidence)]))
                for speaker, items in facts.items()
                for text, evidence in items
            )
        conversations.append(conversation)
    return conversations


# -- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """What a system shows for one question when asked for k results, for each k of KS."""

    #: The turn ids in what is shown.
    shown: dict[int, frozenset[str]]
    #: Tokens of the text shown, where the system answers with text.
    tokens: dict[int, int] = field(default_factory=dict)


def ranked(refs: Sequence[frozenset[str]], tokens: dict[int, int] | None = None) -> Answer:
    """A ranked list: asked for k results, it shows the turns of its first k."""
    return Answer({k: frozenset().union(*refs[:k]) for k in KS}, tokens or {})


@dataclass(slots=True)
class Scores:
    """What was shown per question, and how long each search took."""

    found: list[tuple[Question, Answer]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    #: CPU seconds of the whole process (store thread included): the latency on an idle core.
    cpu: list[float] = field(default_factory=list)

    def recall(self, k: int, mode: str, questions: Sequence[Question] | None = None) -> float:
        rows = self._rows(questions)
        hit = 0
        for question, answer in rows:
            top = answer.shown[k] & question.evidence
            hit += bool(top) if mode == "any" else top == question.evidence
        return hit / len(rows) if rows else 0.0

    def tokens(self, k: int, questions: Sequence[Question] | None = None) -> float | None:
        """Mean tokens shown per question when asked for k results; None if not text."""
        counts = [a.tokens[k] for _, a in self._rows(questions) if k in a.tokens]
        return statistics.fmean(counts) if counts else None

    def _rows(self, questions: Sequence[Question] | None) -> list[tuple[Question, Answer]]:
        wanted = None if questions is None else set(questions)
        return [(q, a) for q, a in self.found if wanted is None or q in wanted]


type Searcher = Callable[[Conversation, Question], Awaitable[Answer]]


async def run_questions(conversations: Sequence[Conversation], search: Searcher) -> Scores:
    scores = Scores()
    for conversation in conversations:
        for question in conversation.questions:
            started, cpu = time.perf_counter(), time.process_time()
            answer = await search(conversation, question)
            scores.latencies.append(time.perf_counter() - started)
            scores.cpu.append(time.process_time() - cpu)
            scores.found.append((question, answer))
    return scores


# -- systems ---------------------------------------------------------------------------------


class BenchClock:
    """The search's "now": the day after the conversation being asked about."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


COUNTER = TokenCounter("")


def refs_of(exchanges: Sequence[Exchange]) -> frozenset[str]:
    return frozenset(m.platform_ref for exchange in exchanges for m in exchange.turns)


def asked_in(conversation: Conversation) -> ConversationKey:
    """Questions are asked in the conversation they are about, as the agent would search."""
    return ConversationKey(conversation.agent_id, WORKSPACE, CHANNEL)


def mnemo_searcher(search: HybridSearch, clock: BenchClock) -> Searcher:
    """The ranked messages alone, shown one line each as the tool used to."""

    async def ask(conversation: Conversation, question: Question) -> Answer:
        clock.now = conversation.asked_at
        where = RecordFilter(conversation.agent_id, WORKSPACE, WHERE_SCOPES)
        hits = await search.messages(where, question.text, max(KS), asked_in(conversation))
        alone = [Exchange((hit.record,), frozenset({hit.record.id})) for hit in hits]
        tokens = {k: COUNTER.count(render_exchanges(alone[:k])) for k in KS}
        return ranked([frozenset({hit.record.platform_ref}) for hit in hits], tokens)

    return ask


def exchange_searcher(search: HybridSearch, clock: BenchClock) -> Searcher:
    """What ``conversation_search`` returns when asked for k results: exchanges, as text."""

    async def ask(conversation: Conversation, question: Question) -> Answer:
        clock.now = conversation.asked_at
        where = RecordFilter(conversation.agent_id, WORKSPACE, WHERE_SCOPES)
        shown, tokens = {}, {}
        for k in KS:
            exchanges = await search.exchanges(
                where, question.text, k, asked_in=asked_in(conversation)
            )
            shown[k] = refs_of(exchanges)
            tokens[k] = COUNTER.count(render_exchanges(exchanges))
        return Answer(shown, tokens)

    return ask


def bm25_searcher(conversations: Sequence[Conversation]) -> Searcher:
    stemmer = Stemmer.Stemmer("english")
    indexes = {}
    for conversation in conversations:
        corpus = [m.content for m in conversation.turns]
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False),
            show_progress=False,
        )
        indexes[conversation.index] = retriever

    async def ask(conversation: Conversation, question: Question) -> Answer:
        tokens = bm25s.tokenize(
            [question.text], stopwords="en", stemmer=stemmer, show_progress=False
        )
        retriever = indexes[conversation.index]
        k = min(max(KS), len(conversation.turns))
        docs, _ = retriever.retrieve(tokens, k=k, show_progress=False)
        return ranked([frozenset({conversation.turns[int(i)].platform_ref}) for i in docs[0]])

    return ask


async def dense_searcher(conversations: Sequence[Conversation], embedder: Embedder) -> Searcher:
    matrices: dict[int, Vectors] = {}
    for conversation in conversations:
        matrices[conversation.index] = await embedder.embed([m.content for m in conversation.turns])

    async def ask(conversation: Conversation, question: Question) -> Answer:
        query = (await embedder.embed([question.text]))[0]
        scores = matrices[conversation.index] @ query
        best = np.argsort(-scores, kind="stable")[: max(KS)]
        return ranked([frozenset({conversation.turns[int(i)].platform_ref}) for i in best])

    return ask


async def load_recall(
    store: Store, search: HybridSearch, conversations: Sequence[Conversation]
) -> None:
    for conversation in conversations:
        for session in conversation.sessions:
            await store.messages.append(session)
            await search.index_messages(session)


async def load_archival(
    store: Store, embedder: Embedder, conversations: Sequence[Conversation]
) -> dict[str, frozenset[str]]:
    """Observations as archival passages; returns passage id -> the turns it came from."""
    covers: dict[str, frozenset[str]] = {}
    for conversation in conversations:
        items = conversation.observations
        vectors = await embedder.embed([o.text for o in items])
        passages = []
        for n, (item, vector) in enumerate(zip(items, vectors, strict=True)):
            passage_id = f"{conversation.agent_id}:observation:{n}"
            covers[passage_id] = item.evidence
            passages.append(
                Passage(
                    id=passage_id,
                    agent_id=conversation.agent_id,
                    workspace=WORKSPACE,
                    scope=Scope.workspace(),
                    text=item.text,
                    users=(item.speaker.lower(),),
                    created_at=item.said_at,
                    embedding=tuple(float(x) for x in vector),
                )
            )
        await store.passages.insert(passages)
    return covers


def archival_searcher(
    search: HybridSearch, clock: BenchClock, covers: dict[str, frozenset[str]]
) -> Searcher:
    async def ask(conversation: Conversation, question: Question) -> Answer:
        clock.now = conversation.asked_at
        where = RecordFilter(conversation.agent_id, WORKSPACE, WHERE_SCOPES)
        hits = await search.passages(where, question.text, max(KS))
        return ranked([covers[hit.record.id] for hit in hits])

    return ask


# -- report ----------------------------------------------------------------------------------


def table(title: str, systems: dict[str, Scores], questions: Sequence[Question]) -> None:
    print(f"\n{title} ({len(questions)} questions)")
    head = "  ".join(f"R@{k:<2} any  all" for k in KS)
    tokens = "  ".join(f"tok@{k:<2}" for k in KS)
    print(f"  {'system':<22}{'category':<13}{head}   {tokens}")
    groups: list[tuple[str, Sequence[Question]]] = [("all", questions)]
    for number, name in CATEGORIES.items():
        groups.append((f"{number} {name}", [q for q in questions if q.category == number]))
    for system, scores in systems.items():
        for label, group in groups:
            cells = "  ".join(
                f"     {scores.recall(k, 'any', group):.3f} {scores.recall(k, 'all', group):.3f}"
                for k in KS
            )
            counts = [scores.tokens(k, group) for k in KS]
            spent = "  ".join("     -" if n is None else f"{n:6.0f}" for n in counts)
            print(f"  {system:<22}{label:<13}{cells}   {spent}")


def mean_p95(seconds: Sequence[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"mean {statistics.fmean(ms):6.2f} ms  p95 {p95:6.2f} ms"


def latency_line(name: str, scores: Scores) -> str:
    return f"  {name:<22} wall {mean_p95(scores.latencies)}   cpu {mean_p95(scores.cpu)}"


# -- tuning on the training split ------------------------------------------------------------


async def sweep(
    search_for: Callable[[SearchTuning], HybridSearch],
    clock: BenchClock,
    train: Sequence[Conversation],
) -> None:
    """Recall@10 (any) and @1 on conversations 1-2 for one knob at a time around the defaults:
    of the ranked messages for the ranking's knobs, of the exchanges for their shape."""
    base = SearchTuning()
    grid: dict[str, Sequence[Any]] = {
        "depth": (20, 30, 50, 80),
        "rrf_k": (10, 20, 40, 60),
        "lexical_weight": (0.6, 0.8, 1.0, 1.3),
        "span_boost": (0.0, 0.5, 1.0, 2.0),
        "span_fade_days": (1.0, 3.0, 7.0, 14.0),
        "speaker_boost": (0.0, 0.5, 1.0, 2.0, 4.0),
        "recency_weight": (0.0, 0.25, 0.5, 1.0),
    }
    print("\nsweep on the training split (conversations 1-2): R@10 any / R@1 any")
    for knob, values in grid.items():
        cells = []
        for value in values:
            tuning = dataclasses.replace(base, **{knob: value})
            scores = await run_questions(train, mnemo_searcher(search_for(tuning), clock))
            cells.append(f"{value}: {scores.recall(10, 'any'):.3f}/{scores.recall(1, 'any'):.3f}")
        print(f"  {knob:<16}" + "   ".join(cells))
    shapes: dict[str, Sequence[Any]] = {
        "before": (0, 1, 2, 3),
        "after": (0, 1, 2, 3),
        "token_cap": (600, 900, 1200, 1600),
    }
    print("exchanges: R@10 any / R@1 any / tokens@10")
    for knob, values in shapes.items():
        cells = []
        for value in values:
            shape = dataclasses.replace(base.exchange, **{knob: value})
            tuning = dataclasses.replace(base, exchange=shape)
            scores = await run_questions(train, exchange_searcher(search_for(tuning), clock))
            cells.append(
                f"{value}: {scores.recall(10, 'any'):.3f}/{scores.recall(1, 'any'):.3f}"
                f"/{scores.tokens(10) or 0:.0f}"
            )
        print(f"  {knob:<16}" + "   ".join(cells))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--sweep", action="store_true", help="tune on conversations 1-2")
    args = parser.parse_args()

    conversations = load(args.data)
    embedder = LocalEmbedder()
    train = [c for c in conversations if c.index in TRAIN]
    held_out = [c for c in conversations if c.index not in TRAIN]
    print(
        f"LoCoMo: {len(conversations)} conversations, "
        f"{sum(len(c.turns) for c in conversations)} turns, "
        f"{sum(len(c.questions) for c in conversations)} questions (categories 1-4)"
    )

    with tempfile.TemporaryDirectory() as data_dir:
        store = await open_store(mongodb_uri=None, data_dir=Path(data_dir))
        try:
            clock = BenchClock()
            search = HybridSearch(store, embedder, clock=clock)
            started = time.perf_counter()
            await load_recall(store, search, conversations)
            print(f"loaded and indexed in {time.perf_counter() - started:.1f} s")

            def search_for(tuning: SearchTuning) -> HybridSearch:
                return HybridSearch(store, embedder, clock=clock, tuning=tuning)

            if args.sweep:
                await sweep(search_for, clock, train)
            systems = {
                "mnemo exchanges": await run_questions(
                    conversations, exchange_searcher(search, clock)
                ),
                "mnemo hybrid": await run_questions(conversations, mnemo_searcher(search, clock)),
                "bm25 (bm25s)": await run_questions(conversations, bm25_searcher(conversations)),
                "dense": await run_questions(
                    conversations, await dense_searcher(conversations, embedder)
                ),
            }
            covers = await load_archival(store, embedder, conversations)
            archival = {
                "mnemo archival": await run_questions(
                    conversations, archival_searcher(search, clock, covers)
                )
            }
        finally:
            await store.close()

    every = [q for c in conversations for q in c.questions]
    table("all five conversations", systems, every)
    table("held out: conversations 3-5", systems, [q for c in held_out for q in c.questions])
    print(
        "\nsearch latency per question, all five (wall clock; CPU time of the process);"
        "\nmnemo exchanges asks four times per question (k = 1, 5, 10, 20)"
    )
    for name, scores in systems.items():
        print(latency_line(name, scores))
    print(
        "\narchival search over LoCoMo's own session observations (facts an LLM drew from each"
        "\nsession, with the turns they came from), standing in for Mnemo's consolidation pass,"
        "\nwhich needs a live LLM; a passage counts as finding the turns it came from."
    )
    table("archival, all five conversations", archival, every)
    table(
        "archival, held out: conversations 3-5",
        archival,
        [q for c in held_out for q in c.questions],
    )
    print(latency_line("mnemo archival", archival["mnemo archival"]))


if __name__ == "__main__":
    asyncio.run(main())
