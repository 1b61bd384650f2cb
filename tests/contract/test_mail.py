"""Agent mail: messages kept by id, one answer per message, forgotten with the DM's user."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from engine.audience import Audience
from engine.store.protocol import Store
from engine.store.state import MailMode, MailRecord, Origin
from engine.user_data import UserDataService
from tests.contract.conftest import OpenReplica
from tests.contract.records import DM_ALICE, DM_BOB, OTHER_WS, PUBLIC


def mail(
    message_id: str, audience: Audience = PUBLIC, mode: MailMode = MailMode.WAIT
) -> MailRecord:
    return MailRecord(
        id=message_id,
        sender="agent-a",
        sender_name="Ada",
        recipient="agent-b",
        audience=audience,
        hops=1,
        mode=mode,
        origin=Origin("slack", "1700.1", "general"),
    )


async def test_a_message_round_trips_and_is_stored_once(store: Store) -> None:
    sent = mail("m-1")
    plain = replace(mail("m-2", DM_ALICE, MailMode.MESSAGE), origin=None)
    await store.mail.put(sent)
    await store.mail.put(plain)
    await store.mail.put(replace(sent, hops=7))
    assert await store.mail.get("m-1") == sent
    assert await store.mail.get("m-2") == plain
    assert await store.mail.get("absent") is None


async def test_the_first_answer_wins(store: Store) -> None:
    await store.mail.put(mail("m-1"))
    answered = await store.mail.answer("m-1", "r-1")
    assert answered is not None
    assert answered.answered_by == "r-1"
    again = await store.mail.answer("m-1", "r-2")
    assert again is not None
    assert again.answered_by == "r-1"
    assert await store.mail.answer("absent", "r-1") is None


async def test_racing_answers_agree_on_one(store: Store, open_replica: OpenReplica) -> None:
    other = await open_replica()
    await store.mail.put(mail("m-1"))
    stores = [store, other] * 3
    results = await asyncio.gather(*(s.mail.answer("m-1", f"r-{i}") for i, s in enumerate(stores)))
    winners = {r.answered_by for r in results if r is not None}
    assert len(winners) == 1
    assert winners <= {f"r-{i}" for i in range(6)}
    stored = await other.mail.get("m-1")
    assert stored is not None
    assert {stored.answered_by} == winners


async def test_forgetting_a_user_drops_mail_sent_from_their_dms(store: Store) -> None:
    elsewhere = replace(DM_ALICE, workspace=OTHER_WS)
    for record in (
        mail("m-alice", DM_ALICE),
        mail("m-bob", DM_BOB),
        mail("m-public", PUBLIC),
        mail("m-elsewhere", elsewhere),
    ):
        await store.mail.put(record)
    assert await store.mail.delete_user(DM_ALICE.workspace, "alice") == 1
    assert await store.mail.get("m-alice") is None
    for kept in ("m-bob", "m-public", "m-elsewhere"):
        assert await store.mail.get(kept) is not None


async def test_forget_reaches_agent_mail(store: Store) -> None:
    await store.mail.put(mail("m-alice", DM_ALICE))
    await store.mail.put(mail("m-public", PUBLIC))
    removed = await UserDataService(store).forget_user(DM_ALICE.workspace, "alice")
    assert removed.mail >= 1
    assert await store.mail.get("m-alice") is None
    assert await store.mail.get("m-public") is not None
