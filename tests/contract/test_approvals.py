"""Tool calls waiting for approval: kept whole, decided once (by compare-and-set, so two
presses or two replicas decide it once), and found when their time runs out."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from engine.store.approvals import ApprovalRequest, ApprovalStatus
from engine.store.protocol import Store
from engine.user_data import UserDataService
from tests.contract.conftest import OpenReplica
from tests.contract.records import AGENT, BASE_TIME, DM_BOB, OTHER_WS, WS, inbox_item


def request(request_id: str, *, expires_in: int = 10) -> ApprovalRequest:
    return ApprovalRequest(
        id=request_id,
        agent_id=AGENT,
        workspace=WS,
        channel="C-general",
        thread="",
        tool="tickets__close",
        arguments='{"ticket": 42}',
        requester="alice",
        approvers=("alice", "admin"),
        inbound=inbox_item("ev-1").inbound,
        created_at=BASE_TIME,
        expires_at=BASE_TIME + timedelta(minutes=expires_in),
    )


async def test_a_pending_request_is_kept_whole_once(store: Store) -> None:
    assert await store.approvals.put(request("ap-1"))
    assert not await store.approvals.put(request("ap-1", expires_in=99))
    assert await store.approvals.get("ap-1") == request("ap-1")
    assert await store.approvals.get("ap-unknown") is None


async def test_a_request_is_decided_once(store: Store) -> None:
    await store.approvals.put(request("ap-1"))
    at = BASE_TIME + timedelta(minutes=1)
    decided = await store.approvals.decide("ap-1", ApprovalStatus.APPROVED, "admin", at)
    assert decided is not None
    assert (decided.status, decided.decided_by, decided.decided_at) == (
        ApprovalStatus.APPROVED,
        "admin",
        at,
    )
    assert await store.approvals.decide("ap-1", ApprovalStatus.DENIED, "alice", at) is None
    assert await store.approvals.get("ap-1") == decided
    assert await store.approvals.decide("ap-unknown", ApprovalStatus.DENIED, "alice", at) is None


async def test_two_replicas_deciding_at_once_decide_once(
    store: Store, open_replica: OpenReplica
) -> None:
    other = await open_replica()
    await store.approvals.put(request("ap-1"))
    results = await asyncio.gather(
        store.approvals.decide("ap-1", ApprovalStatus.APPROVED, "alice", BASE_TIME),
        other.approvals.decide("ap-1", ApprovalStatus.DENIED, "admin", BASE_TIME),
    )
    assert sum(result is not None for result in results) == 1


async def test_overdue_requests_are_the_pending_ones_past_their_time(store: Store) -> None:
    await store.approvals.put(request("ap-soon", expires_in=1))
    await store.approvals.put(request("ap-later", expires_in=30))
    await store.approvals.put(request("ap-decided", expires_in=1))
    await store.approvals.decide("ap-decided", ApprovalStatus.DENIED, "alice", BASE_TIME)
    now = BASE_TIME + timedelta(minutes=5)
    assert [r.id for r in await store.approvals.overdue(now, 10)] == ["ap-soon"]
    later = BASE_TIME + timedelta(hours=1)
    assert [r.id for r in await store.approvals.overdue(later, 10)] == ["ap-soon", "ap-later"]
    assert [r.id for r in await store.approvals.overdue(later, 1)] == ["ap-soon"]


async def test_forgetting_a_person_removes_their_requests_and_those_of_their_dms(
    store: Store,
) -> None:
    asked_by_alice = request("ap-alice")
    in_bobs_dm = dataclasses.replace(
        request("ap-bob-dm"), requester="carol", inbound=inbox_item("ev-2", audience=DM_BOB).inbound
    )
    by_carol = dataclasses.replace(request("ap-carol"), requester="carol")
    elsewhere = dataclasses.replace(request("ap-other-ws"), workspace=OTHER_WS)
    for kept in (asked_by_alice, in_bobs_dm, by_carol, elsewhere):
        await store.approvals.put(kept)
    assert await store.approvals.delete_user(WS, "alice") == 1
    assert await store.approvals.delete_user(WS, "bob") == 1
    assert await store.approvals.get("ap-alice") is None
    assert await store.approvals.get("ap-bob-dm") is None
    assert await store.approvals.get("ap-carol") == by_carol
    assert await store.approvals.get("ap-other-ws") == elsewhere


async def test_forget_user_removes_the_requests_they_made(store: Store) -> None:
    await store.approvals.put(request("ap-alice"))
    await UserDataService(store).forget_user(WS, "alice")
    assert await store.approvals.get("ap-alice") is None


async def test_decided_requests_whose_conversation_was_never_told_are_found(
    store: Store,
) -> None:
    for request_id in ("ap-told", "ap-untold", "ap-pending", "ap-recent"):
        await store.approvals.put(request(request_id))
    for request_id, minute in (("ap-told", 1), ("ap-untold", 2), ("ap-recent", 9)):
        at = BASE_TIME + timedelta(minutes=minute)
        await store.approvals.decide(request_id, ApprovalStatus.APPROVED, "alice", at)
    await store.approvals.keep_result("ap-untold", "ticket 42 closed")
    await store.approvals.mark_resumed("ap-told", BASE_TIME + timedelta(minutes=3))
    found = await store.approvals.unresumed(BASE_TIME + timedelta(minutes=5), 10)
    assert [r.id for r in found] == ["ap-untold"]
    assert found[0].result == "ticket 42 closed"
    told = await store.approvals.get("ap-told")
    assert told is not None
    assert (told.result, told.resumed_at) == (None, BASE_TIME + timedelta(minutes=3))
