"""HybridSearch against the real embedded store, with a small deterministic embedder."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from engine.audience import Scope
from engine.records import ConversationKey, Message, Passage, Role, next_seq
from engine.search import HistoryRead, HybridSearch, SearchTuning
from engine.store import open_store
from engine.store.protocol import RecordFilter, Store

DIM = 256
NOW = datetime(2023, 11, 1, 12, 0, tzinfo=UTC)
WORKSPACE_SCOPE = Scope.workspace()
PUBLIC = RecordFilter("bot", "T1", (Scope.agent(), Scope.workspace()))
ALICE_DM = RecordFilter("bot", "T1", (Scope.agent(), Scope.workspace(), Scope.dm("alice")))


class BagOfWords:
    """Hashed word counts: texts sharing words are near, which is all these tests need."""

    name = "bag-of-words"
    dimensions = DIM

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def message(
    text: str,
    *,
    author: str = "Alice",
    at: datetime = NOW - timedelta(days=30),
    scope: Scope = WORKSPACE_SCOPE,
    channel: str = "C1",
) -> Message:
    return Message(
        id=f"m{next_seq()}",
        agent_id="bot",
        workspace="T1",
        channel=channel,
        thread="",
        scope=scope,
        role=Role.USER,
        author=author.lower(),
        author_name=author,
        content=text,
        seq=next_seq(),
        created_at=at,
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(mongodb_uri=None, data_dir=tmp_path)
    yield opened
    await opened.close()


async def remember(store: Store, search: HybridSearch, *messages: Message) -> None:
    await store.messages.append(messages)
    await search.index_messages(messages)


def texts(hits: Sequence[object]) -> list[str]:
    return [h.record.content for h in hits]  # type: ignore[attr-defined]


async def test_dm_message_never_found_from_a_public_channel(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW)
    secret = message("my salary is ninety thousand", scope=Scope.dm("alice"), channel="D1")
    await remember(store, search, secret, message("salary talks are next week"))

    public = texts(await search.messages(PUBLIC, "what is alice's salary", 10))
    private = texts(await search.messages(ALICE_DM, "what is alice's salary", 10))

    assert public == ["salary talks are next week"]
    assert private[0] == "my salary is ninety thousand"


async def test_date_in_the_query_prefers_messages_of_that_day(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW)
    await remember(
        store,
        search,
        message("we went hiking in the hills", at=datetime(2023, 6, 3, 10, tzinfo=UTC)),
        message("we went hiking by the lake", at=datetime(2023, 9, 14, 10, tzinfo=UTC)),
        message("we went hiking in the snow", at=datetime(2023, 2, 1, 10, tzinfo=UTC)),
    )

    for day, place in (("3 June", "hills"), ("14 September", "lake"), ("1 February", "snow")):
        hits = await search.messages(PUBLIC, f"Where did we go hiking on {day}, 2023?", 3)
        assert place in texts(hits)[0]


async def test_callers_date_window_is_never_widened(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW)
    await remember(
        store,
        search,
        message("concert tickets bought", at=datetime(2023, 6, 3, tzinfo=UTC)),
        message("concert was loud", at=datetime(2023, 9, 3, tzinfo=UTC)),
    )
    june = RecordFilter(
        "bot",
        "T1",
        PUBLIC.scopes,
        start=datetime(2023, 6, 1, tzinfo=UTC),
        end=datetime(2023, 7, 1, tzinfo=UTC),
    )

    hits = await search.messages(june, "the concert in September 2023", 10)

    assert texts(hits) == ["concert tickets bought"]


async def test_messages_by_the_person_named_rank_first(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW)
    await remember(
        store,
        search,
        message("Bob, I adopted a puppy", author="Alice"),
        message("Alice, I adopted a puppy", author="Bob"),
    )

    alice = await search.messages(PUBLIC, "Who did Bob say adopted a puppy?", 2)
    bob = await search.messages(PUBLIC, "Who did Alice say adopted a puppy?", 2)

    assert alice[0].record.author_name == "Bob"
    assert bob[0].record.author_name == "Alice"


async def test_a_short_reply_is_found_through_the_question_it_answers(store: Store) -> None:
    embedder = BagOfWords()
    search = HybridSearch(store, embedder, clock=lambda: NOW)
    question = message("which instrument are you learning these days?", author="Bob")
    await remember(store, search, question)
    reply = message("the cello, three lessons so far", author="Alice")
    await remember(store, search, reply)

    assert embedder.calls[-1] == [
        "Bob: which instrument are you learning these days?\nAlice: the cello, three lessons so far"
    ]
    hits = await search.messages(PUBLIC, "instrument learning", 2)

    assert reply.id in {h.record.id for h in hits}


async def test_the_turn_before_is_taken_from_what_the_turn_read(store: Store) -> None:
    embedder = BagOfWords()
    search = HybridSearch(store, embedder, clock=lambda: NOW)
    question = message("which instrument are you learning these days?", author="Bob")
    reply = message("the cello, three lessons so far", author="Alice")
    # Not stored: only what the turn read holds the question.
    seen = HistoryRead(reply.conversation, (question,), whole=True)

    await search.message_embeddings([reply], seen)

    assert embedder.calls[-1] == [
        "Bob: which instrument are you learning these days?\nAlice: the cello, three lessons so far"
    ]


async def test_a_read_cut_short_by_a_summary_leaves_the_turn_before_to_the_store(
    store: Store,
) -> None:
    embedder = BagOfWords()
    search = HybridSearch(store, embedder, clock=lambda: NOW)
    question = message("which instrument are you learning these days?", author="Bob")
    await remember(store, search, question)
    reply = message("the cello, three lessons so far", author="Alice")

    await search.message_embeddings([reply], HistoryRead(reply.conversation, (), whole=False))
    from_store = embedder.calls[-1]
    await search.message_embeddings([reply], HistoryRead(reply.conversation, (), whole=True))

    assert from_store[0].startswith("Bob: which instrument")
    assert embedder.calls[-1] == ["Alice: the cello, three lessons so far"]


async def test_tool_traffic_is_not_embedded(store: Store) -> None:
    embedder = BagOfWords()
    search = HybridSearch(store, embedder, clock=lambda: NOW)
    tool = message("{'ok': true}")
    tool = Message(**{**{f: getattr(tool, f) for f in tool.__slots__}, "role": Role.TOOL})

    await remember(store, search, tool)

    assert embedder.calls == []


async def test_passages_are_found_by_words_and_meaning_within_tags(store: Store) -> None:
    embedder = BagOfWords()
    search = HybridSearch(store, embedder, clock=lambda: NOW)
    texts_ = ["Alice is allergic to peanuts", "Bob prefers tea to coffee", "Alice runs marathons"]
    vectors = await embedder.embed(texts_)
    await store.passages.insert(
        [
            Passage(
                id=f"p{i}",
                agent_id="bot",
                workspace="T1",
                scope=Scope.workspace(),
                text=text,
                tags=("health",) if "Alice" in text else ("drinks",),
                embedding=tuple(float(x) for x in vector),
            )
            for i, (text, vector) in enumerate(zip(texts_, vectors, strict=True))
        ]
    )
    health = RecordFilter("bot", "T1", PUBLIC.scopes, tags=("health",))

    everything = await search.passages(PUBLIC, "does anyone like coffee", 1)
    tagged = await search.passages(health, "does anyone like coffee", 5)

    assert [h.record.text for h in everything] == ["Bob prefers tea to coffee"]
    assert {h.record.text for h in tagged} <= {
        "Alice is allergic to peanuts",
        "Alice runs marathons",
    }


async def test_empty_query_or_limit_finds_nothing(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW)
    await remember(store, search, message("anything at all"))

    assert await search.messages(PUBLIC, "   ", 5) == []
    assert await search.messages(PUBLIC, "anything", 0) == []


async def test_messages_of_the_conversation_asked_from_rank_first(store: Store) -> None:
    search = HybridSearch(store, BagOfWords(), clock=lambda: NOW, tuning=SearchTuning(depth=3))
    crowd = [message(f"the trip to the lake {n}", channel="C-busy") for n in range(8)]
    ours = message("we packed the tent for the trip to the lake and the hills", channel="C-ours")
    await remember(store, search, *crowd, ours)
    question = "When was the trip to the lake?"

    from_ours = await search.messages(PUBLIC, question, 3, ConversationKey("bot", "T1", "C-ours"))
    from_elsewhere = await search.messages(PUBLIC, question, 3)

    assert from_ours[0].record.id == ours.id
    assert ours.id not in [hit.record.id for hit in from_elsewhere]


async def test_a_named_persons_own_words_are_found_among_many_others(store: Store) -> None:
    def searching(speaker_weight: float) -> HybridSearch:
        tuning = SearchTuning(depth=3, speaker_weight=speaker_weight)
        return HybridSearch(store, BagOfWords(), clock=lambda: NOW, tuning=tuning)

    crowd = [message(f"Bob, what about your garden {n}", author=f"Person{n}") for n in range(8)]
    said = message("the roses in my garden bloom early this year", author="Bob")
    asked = message("what does everyone say about my garden?", author="Bob")
    await remember(store, searching(1), *crowd, said, asked)
    question = "What does Bob say about his garden?"

    hits = await searching(2).messages(PUBLIC, question, 3)
    unaided = await searching(0).messages(PUBLIC, question, 3)

    assert [hit.record.author_name for hit in hits[:2]] == ["Bob", "Bob"]
    assert said.id in [hit.record.id for hit in hits]
    assert said.id not in [hit.record.id for hit in unaided]
