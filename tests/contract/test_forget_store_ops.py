"""What a complete forget asks of a store: ids to follow, redaction in place, mail by id, and
no forgotten text left in searches or counts."""

from __future__ import annotations

from dataclasses import replace

from engine.records import Role, ToolCall
from engine.store.lineage import REDACTED
from engine.store.protocol import Store
from tests.contract.records import DM_ALICE, PUBLIC, axis, message, passage, visible_to
from tests.contract.test_mail import mail


async def test_a_users_message_ids_are_theirs_and_their_dms(store: Store) -> None:
    said = message("hello", PUBLIC, author="alice")
    replied = message("hi alice", DM_ALICE, author="agent-1", role=Role.ASSISTANT)
    other = message("bob here", PUBLIC, author="bob")
    await store.messages.append([said, replied, other])
    assert sorted(await store.messages.ids_of_user(PUBLIC.workspace, "alice")) == sorted(
        [said.id, replied.id]
    )
    assert await store.messages.ids_of_user("elsewhere", "alice") == []


async def test_a_users_passage_ids_are_about_them_or_from_their_dms(store: Store) -> None:
    about = passage("alice likes tea", users=("alice",))
    private = passage("from the dm", DM_ALICE)
    await store.passages.insert([about, private, passage("bob likes coffee", users=("bob",))])
    assert sorted(await store.passages.ids_of_user(PUBLIC.workspace, "alice")) == sorted(
        [about.id, private.id]
    )


async def test_a_platform_message_is_found_in_every_copy(store: Store) -> None:
    first = message("hello", platform_ref="17.1")
    copy = replace(message("hello", platform_ref="17.1", agent="agent-2"), seq=first.seq)
    await store.messages.append([first, copy, message("other", platform_ref="17.2")])
    found = await store.messages.ids_of_ref(PUBLIC.workspace, PUBLIC.channel, "17.1")
    assert sorted(found) == sorted([first.id, copy.id])
    assert await store.messages.ids_of_ref(PUBLIC.workspace, PUBLIC.channel, "") == []


async def test_redaction_replaces_text_and_arguments_and_leaves_search(store: Store) -> None:
    call = ToolCall("call-1", "core_memory_append", '{"content": "alice hums zorblax"}')
    quoting = replace(
        message("noted: zorblax", author="agent-1", role=Role.ASSISTANT),
        tool_calls=(call,),
        turn_id="turn-1",
    )
    kept = message("zorblax is also bob's word", author="bob")
    await store.messages.append([quoting, kept])
    await store.messages.set_embeddings([(quoting.id, axis(1)), (kept.id, axis(2))])
    where = visible_to(PUBLIC)
    assert len(await store.messages.search_vector(where, axis(1), 5)) == 2

    assert await store.messages.redact([quoting.id, "absent"]) == {quoting.id: "turn-1"}

    [stored] = [m for m in await store.messages.list(where, 10) if m.id == quoting.id]
    assert stored.content == REDACTED
    assert stored.tool_calls == (replace(call, arguments=REDACTED),)
    assert stored.seq == quoting.seq
    found = await store.messages.search_text(where, "zorblax", 10)
    assert [hit.record.id for hit in found] == [kept.id]
    nearest = await store.messages.search_vector(where, axis(1), 5)
    assert [hit.record.id for hit in nearest] == [kept.id]


async def test_unparsable_events_naming_a_user_are_forgotten(store: Store) -> None:
    await store.inbox.put_rejected("slack", {"event": {"user": "alice", "text": "zorblax"}}, "bad")
    await store.inbox.put_rejected("slack", {"event": {"user": "alice2", "text": "hi"}}, "bad")
    assert await store.inbox.forget_rejected("alice") == 1
    assert [kept["raw"] for kept in await store.inbox.rejected(10)] == [
        {"event": {"user": "alice2", "text": "hi"}}
    ]


async def test_mail_is_deleted_by_id(store: Store) -> None:
    await store.mail.put(mail("m-1"))
    await store.mail.put(mail("m-2"))
    assert await store.mail.delete(["m-1", "absent"]) == 1
    assert await store.mail.get("m-1") is None
    assert await store.mail.get("m-2") is not None


async def test_settling_a_forget_leaves_no_tag_of_deleted_passages(store: Store) -> None:
    secret = passage("alice's zorblax", DM_ALICE, tags=("zorblax-plans",))
    kept = passage("shared", DM_ALICE, tags=("shared",))
    await store.passages.insert([secret, kept])
    await store.passages.delete([secret.id])
    await store.settle_forget()
    assert await store.passages.tag_counts(visible_to(DM_ALICE)) == {"shared": 1}
    assert await store.passages.search_text(visible_to(DM_ALICE), "zorblax", 5) == []
