"""Durable state that earlier versions kept as key-value documents, moved into its stores.

Runs at every ``setup``; a store with none of it left does one read per former namespace.
Each move is idempotent (inserts that keep what is there, then the document is deleted), so
processes starting together may both run it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from engine.records import JSON
from engine.store.codec import decode
from engine.store.protocol import Store
from engine.store.state import (
    DeliveryLedger,
    JobBackoff,
    JobCheckpoint,
    JournalEntry,
    MailRecord,
    RunRecord,
    TargetState,
)
from engine.tools.custom._custom import CustomTool

type Move = Callable[[Store, str, JSON], Awaitable[Any]]

log = logging.getLogger(__name__)

#: What reading a document of the wrong shape as its record raises (a missing field, a
#: value of the wrong type, a value its type does not accept).
_MALFORMED = (KeyError, TypeError, ValueError, AttributeError)


def _job_record(doc: JSON) -> JSON:
    """Earlier job records stored a whole workspace's scope as ""."""
    return {**doc, "scope": doc.get("scope") or None}


async def _journal(store: Store, key: str, doc: JSON) -> None:
    await store.journal.record(decode(JournalEntry, {**doc, "head": key}))


async def _mail(store: Store, key: str, doc: JSON) -> None:
    await store.mail.put(decode(MailRecord, {**doc, "id": key}))


async def _tool(store: Store, key: str, doc: JSON) -> None:
    await store.tools.put(decode(CustomTool, doc), 0)


async def _run(store: Store, key: str, doc: JSON) -> None:
    await store.jobs.save_run(decode(RunRecord, _job_record(doc)))


async def _target(store: Store, key: str, doc: JSON) -> None:
    job, _, target = key.partition(":")
    await store.jobs.put_state(job, target, decode(TargetState, _job_record(doc)), None)


async def _backoff(store: Store, key: str, doc: JSON) -> None:
    await store.jobs.set_backoff(key, decode(JobBackoff, doc))


def _checkpoint(job: str) -> Move:
    async def move(store: Store, key: str, doc: JSON) -> None:
        await store.jobs.save_checkpoint(job, key, decode(JobCheckpoint, doc))

    return move


async def _slack_delivery(store: Store, key: str, doc: JSON) -> None:
    day, _, reply_id = key.partition("/")
    created = datetime.fromisoformat(day).replace(tzinfo=UTC)
    posted = tuple(str(ts) for ts in doc.get("posted", ()))
    await store.deliveries.put(
        DeliveryLedger(reply_id, "slack", str(doc.get("channel", "")), posted, created)
    )


#: Former namespace -> how its documents move.
MOVES: dict[str, Move] = {
    "turns": _journal,
    "agent_mail": _mail,
    "tools": _tool,
    "job_runs": _run,
    "job_state": _target,
    "job_backoff": _backoff,
    "consolidation": _checkpoint("consolidate"),
    "hygiene": _checkpoint("hygiene"),
    "slack.deliveries": _slack_delivery,
}


async def move_state_from_kv(store: Store) -> int:
    """Move every document of a former namespace into its store; returns how many moved.

    A document that does not read as its record is logged and left where it is, so one bad
    leftover neither stops the store from starting nor is lost.
    """
    moved = 0
    for namespace, move in MOVES.items():
        for key, doc in await store.kv.list(namespace):
            try:
                await move(store, key, doc)
            except _MALFORMED as error:
                log.warning(
                    "key-value document %s/%s could not be moved into its store (%r); it is "
                    "left in place: correct it or delete it",
                    namespace,
                    key,
                    error,
                )
                continue
            moved += await store.kv.delete(namespace, key)
    return moved
