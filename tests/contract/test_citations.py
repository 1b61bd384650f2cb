"""Citations and "why": memories name the messages they came from, only where the asker may read
them; a user forgets one of their items alone; their export shows which of their words each
memory came from."""

from __future__ import annotations

import json

from engine.audience import Audience, AudienceKind
from engine.citations import Citations, PlatformLinks, readable_by
from engine.records import Agent, Message, Passage, Role
from engine.store.lineage import Derived, block_line_id, links
from engine.store.protocol import Store
from engine.user_data import UserDataService
from engine.user_memory import UserMemoryService
from engine.why import MemoryExplainer
from tests.contract.records import AGENT, DM_ALICE, DM_BOB, PUBLIC, WS, block, message, passage
from tests.fakes.memory_items import ExampleLinks


async def remembered(
    store: Store, *sources: Message, text: str = "Alice's birthday is 12 March"
) -> Passage:
    """A public passage derived from ``sources``."""
    kept = passage(text)
    await store.passages.insert([kept])
    await store.lineage.link(links(Derived.PASSAGE, kept.id, [m.id for m in sources], WS))
    return kept


async def with_agent(store: Store) -> None:
    await store.agents.put(Agent(AGENT, "ada", "model", "", ()))


async def test_why_in_a_public_channel_never_shows_a_dm_source(store: Store) -> None:
    await with_agent(store)
    said = message("my birthday is on 12 March", PUBLIC, minutes=1)
    told = message("keep it secret: birthday 12 March", DM_ALICE, minutes=2)
    await store.messages.append([said, told])
    notes = block("channel", "Planning the party\nAlice's birthday is 12 March", subject="C")
    await store.blocks.create(notes)
    line = block_line_id(notes.id, "Alice's birthday is 12 March")
    await store.lineage.link(links(Derived.BLOCK_LINE, line, [said.id, told.id], WS))
    kept = await remembered(store, said, told)
    explainer = MemoryExplainer(store, Citations(store))

    public = await explainer.why(PUBLIC, "birthday")
    assert [(i.kind, i.record_id) for i in public] == [
        (Derived.BLOCK_LINE, line),
        (Derived.PASSAGE, kept.id),
    ]
    for item in public:
        assert [s.message_id for s in item.sources] == [said.id]
        assert "secret" not in repr(item)

    in_dm = await explainer.why(DM_ALICE, "birthday")
    assert [s.message_id for s in in_dm[0].sources] == [said.id, told.id]
    assert in_dm[0].sources[1].channel == "direct messages"


async def test_why_never_shows_a_memory_the_audience_may_not_read(store: Store) -> None:
    await with_agent(store)
    await store.blocks.create(
        block("human", "Alice is allergic to peanuts", subject="alice", scope=DM_ALICE.write_scope)
    )
    await store.passages.insert([passage("Alice is allergic to peanuts", DM_ALICE)])
    explainer = MemoryExplainer(store, Citations(store))
    assert await explainer.why(PUBLIC, "peanuts allergic") == []
    assert await explainer.why(DM_BOB, "peanuts") == []
    assert len(await explainer.why(DM_ALICE, "peanuts")) == 2
    assert await explainer.why(DM_ALICE, "the of") == []


async def test_citations_carry_channel_names_and_links_within_a_timeout(store: Store) -> None:
    where = Audience("test:W1", AudienceKind.PUBLIC, "C-general")
    quick = message("tea at four", where, platform_ref="1.1")
    slow = message("coffee at five", where, platform_ref="2.2")
    unlinked = message("no ref here", where)
    platform_links = PlatformLinks(timeout=0.2)
    platform_links.register(ExampleLinks(slow_ref="2.2", names={"C-general": "#general"}))
    cited = await Citations(store, platform_links).cite([quick, slow, unlinked])
    assert [(s.channel, s.link) for s in cited] == [
        ("#general", "https://chat.example/test:W1/C-general/1.1"),
        ("#general", None),
        ("#general", None),
    ]
    assert (cited[0].author, cited[0].text, cited[0].said_at) == (
        "Alice",
        "tea at four",
        quick.created_at,
    )


async def test_passage_sources_leave_out_what_the_audience_may_not_read(store: Store) -> None:
    said = message("the launch is on Friday", PUBLIC)
    told = message("the launch is on Friday, don't tell", DM_ALICE)
    await store.messages.append([said, told])
    kept = await remembered(store, said, told, text="Launch on Friday")
    citations = Citations(store)
    public = await citations.sources(Derived.PASSAGE, [kept.id], readable_by(PUBLIC))
    assert [s.message_id for s in public[kept.id]] == [said.id]
    only_dm = await remembered(store, told, text="A secret launch")
    assert await citations.sources(Derived.PASSAGE, [only_dm.id], readable_by(PUBLIC)) == {}


async def test_a_user_forgets_one_of_their_items_and_nobody_elses(store: Store) -> None:
    await with_agent(store)
    said = message("I live in Lyon", DM_ALICE)
    await store.messages.append([said])
    human = block("human", "Lives in Lyon\nLikes tea", subject="alice", scope=DM_ALICE.write_scope)
    await store.blocks.create(human)
    bobs = passage("Bob plays chess", DM_BOB, users=("bob",))
    await store.passages.insert([bobs])
    memory = UserMemoryService(UserDataService(store), store)

    items = await memory.memory_items(WS, "alice")
    assert [i.text for i in items] == ["Lives in Lyon", "Likes tea"]
    assert (await memory.forget_item(WS, "alice", f"passage:{bobs.id}")).total == 0
    assert await store.passages.get(bobs.id) is not None

    assert (await memory.forget_item(WS, "alice", items[0].key)).total >= 1
    kept = await store.blocks.get(human.id)
    assert kept is not None
    assert kept.value == "Likes tea"
    assert [i.text for i in await memory.memory_items(WS, "alice")] == ["Likes tea"]


async def test_export_shows_which_of_the_users_messages_each_memory_came_from(
    store: Store,
) -> None:
    await with_agent(store)
    hers = message("I moved to Lyon last spring", PUBLIC, author="alice")
    his = message("Alice moved to Lyon, I heard", PUBLIC, author="bob")
    await store.messages.append([hers, his])
    kept = passage("Alice moved to Lyon", users=("alice",))
    await store.passages.insert([kept])
    await store.lineage.link(links(Derived.PASSAGE, kept.id, [hers.id, his.id], WS))

    memory = UserMemoryService(UserDataService(store), store)
    document = json.loads(await memory.export_user(WS, "alice"))
    [exported] = [m for m in document["memories"] if m["id"] == kept.id]
    assert exported["text"] == "Alice moved to Lyon"
    assert [s["text"] for s in exported["from_your_messages"]] == ["I moved to Lyon last spring"]
    assert "I heard" not in json.dumps(document)


async def test_citations_follow_the_agents_messages_and_summaries_back_to_people(
    store: Store,
) -> None:
    said = message("the offsite is in Porto", PUBLIC)
    told = message("offsite budget is secret", DM_ALICE)
    reply = message("Noted: Porto it is.", PUBLIC, author=AGENT, role=Role.ASSISTANT)
    folded = message("we fly on the 4th", PUBLIC, author="bob")
    await store.messages.append([said, told, reply, folded])
    summary = "agent-1/T1/C-general/"
    await store.lineage.link(
        [
            *links(Derived.MESSAGE, reply.id, [said.id, told.id], WS),
            *links(Derived.SUMMARY, summary, [folded.id], WS),
            *links(Derived.PASSAGE, "p-porto", [reply.id], WS),
            *links(Derived.PASSAGE, "p-flight", [summary], WS),
        ]
    )
    found = await Citations(store).sources(
        Derived.PASSAGE, ["p-porto", "p-flight"], readable_by(PUBLIC)
    )
    assert {k: [s.message_id for s in v] for k, v in found.items()} == {
        "p-porto": [said.id],
        "p-flight": [folded.id],
    }
