"""The rule never broken (DESIGN §3): every read path returns only what the audience may see.

One record of each kind is stored in each place: a DM with Alice, a DM with Bob, a private
channel, a public channel, and a public channel of another workspace. Every record contains
the same word and the same embedding, so only the scope filter can tell them apart.
"""

from __future__ import annotations

import pytest

from engine.audience import Audience
from engine.store.protocol import Store
from tests.contract.records import (
    AGENT,
    DM_ALICE,
    DM_BOB,
    OTHER_PUBLIC,
    PRIVATE,
    PUBLIC,
    axis,
    block,
    message,
    passage,
    persona,
    visible_to,
)

PLACES = {
    "alice-dm": DM_ALICE,
    "bob-dm": DM_BOB,
    "private": PRIVATE,
    "public": PUBLIC,
    "foreign": OTHER_PUBLIC,
}
EXPECTED = [
    (PUBLIC, {"public"}),
    (DM_ALICE, {"public", "alice-dm"}),
    (DM_BOB, {"public", "bob-dm"}),
    (PRIVATE, {"public", "private"}),
    (OTHER_PUBLIC, {"foreign"}),
]


@pytest.fixture
async def world(store: Store) -> Store:
    await store.blocks.create(persona())
    for place, audience in PLACES.items():
        note = f"{place} pineapple"
        await store.blocks.create(
            block(
                "human",
                note,
                workspace=audience.workspace,
                subject="alice",
                scope=audience.write_scope,
            )
        )
        kept = message(note, audience)
        await store.messages.append([kept])
        await store.messages.set_embeddings([(kept.id, axis(0))])
        await store.passages.insert([passage(note, audience, tags=(place,), embedding=axis(0))])
    return store


def _places(texts: list[str]) -> set[str]:
    return {text.removesuffix(" pineapple") for text in texts}


@pytest.mark.parametrize(("audience", "expected"), EXPECTED)
async def test_each_audience_reads_only_what_it_may_see(
    world: Store, audience: Audience, expected: set[str]
) -> None:
    where = visible_to(audience)
    messages, passages = world.messages, world.passages

    blocks = await world.blocks.visible([AGENT], audience.workspace, audience.readable_scopes)
    assert _places([b.value for b in blocks if b.label == "human"]) == expected
    assert [b.label for b in blocks if b.label != "human"] == ["persona"]

    assert _places([m.content for m in await messages.list(where, 50)]) == expected
    assert await messages.count(where) == len(expected)
    found = await messages.search_text(where, "pineapple", 50)
    assert _places([s.record.content for s in found]) == expected
    found = await messages.search_vector(where, axis(0), 50)
    assert _places([s.record.content for s in found]) == expected

    assert _places([p.text for p in await passages.list(where, 50)]) == expected
    assert await passages.count(where) == len(expected)
    assert set(await passages.tag_counts(where)) == expected
    texts = [s.record.text for s in await passages.search_text(where, "pineapple", 50)]
    assert _places(texts) == expected
    texts = [s.record.text for s in await passages.search_vector(where, axis(0), 50)]
    assert _places(texts) == expected


async def test_narrowing_a_filter_never_widens_it(world: Store) -> None:
    """Asking for another user's records or tags from a public audience still finds nothing."""
    where = visible_to(PUBLIC, tags=("alice-dm", "private"))
    assert await world.passages.list(where, 50) == []
    assert await world.passages.search_vector(where, axis(0), 50) == []
    by_alice = visible_to(PUBLIC, user="alice")
    assert _places([m.content for m in await world.messages.list(by_alice, 50)]) == {"public"}
    dm_channel = visible_to(PUBLIC, channel=DM_ALICE.channel)
    assert await world.messages.search_text(dm_channel, "pineapple", 50) == []
