"""A seeded, bounded fuzz run of the production Slack app: every payload of the collection
(``tests/fakes/slack_payloads.py``) sent as Slack sends it, then mutated 60 ways, each
variant with one to three fields dropped or replaced (nulls, wrong types, huge strings,
control characters, deep nesting).

Whatever arrives, Slack gets a 200 (never a 404 or 5xx it would retry), no handler raises
(nothing is logged at ERROR), and nothing is kept with a less private audience than the
unmutated payload had.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.audience import AudienceKind
from engine.ports import ReceiveOutcome
from tests.fakes import slack_payloads as p
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_socket import FakeSocketMode
from tests.fakes.slack_world import SlackWorld, collection_api, slack_bot

SEED = 16
MUTATIONS_PER_PAYLOAD = 60
#: Socket Mode shares bolt and the listeners with HTTP: fewer variants check its own door.
SOCKET_MUTATIONS = 12
#: Stands for a value nested deeper than any JSON parser's recursion limit.
_DEEP = "\x00deep\x00"
_DEEP_JSON = "[" * 3_000 + "]" * 3_000

type Step = str | int
type Mutation = Callable[[Any], Any]

#: What a field may become: each one a way real payloads (or broken proxies) go wrong.
_REPLACEMENTS: tuple[tuple[str, Mutation], ...] = (
    ("null", lambda _: None),
    ("int", lambda _: 7),
    ("float", lambda _: 1e308),
    ("bool", lambda _: True),
    ("list", lambda value: [value]),
    ("object", lambda value: {"id": value}),
    ("empty string", lambda _: ""),
    ("huge string", lambda _: "x" * 200_000),
    ("control characters", lambda _: "\x00\x07\x1b[31m\u202e\ud800 \r\n"),
    ("nan", lambda _: "nan"),
    ("overflow", lambda _: "1e309"),
    ("negative", lambda _: "-1700000000.000100"),
    ("nested", lambda _: {"a": [{"b": [{"c": [1, {"d": None}]}]}]}),
    ("deep nesting", lambda _: _DEEP),
)


@dataclass
class FuzzCounts:
    requests: int = 0
    rejected: int = 0
    answered: int = 0
    ignored: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


def leaf_paths(value: Any, prefix: tuple[Step, ...] = ()) -> list[tuple[Step, ...]]:
    """Every field and list item of ``value``, parents before children."""
    found: list[tuple[Step, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += leaf_paths(child, (*prefix, index))
    return found


def mutated(payload: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """A copy of ``payload`` with one to three fields dropped or replaced; what was done."""
    copied, done = copy.deepcopy(payload), []
    for _ in range(rng.choice((1, 1, 2, 3))):
        if not leaf_paths(copied):
            break
        done.append(_mutate_one(copied, rng))
    return copied, "; ".join(done)


def _mutate_one(copied: dict[str, Any], rng: random.Random) -> str:
    path = rng.choice(leaf_paths(copied))
    parent: Any = copied
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if isinstance(parent, dict) and rng.random() < 0.25:
        del parent[last]
        return f"dropped {path}"
    name, replace = rng.choice(_REPLACEMENTS)
    parent[last] = replace(parent[last])
    return f"{name} at {path}"


def encoded(payload: Any) -> str:
    return json.dumps(payload).replace(json.dumps(_DEEP), _DEEP_JSON)


class Fuzzer:
    """Sends payloads to the app and keeps the counts and the audiences it saw."""

    def __init__(self, world: SlackWorld) -> None:
        self.world = world
        self.counts = FuzzCounts()
        self.failures: list[str] = []

    async def send(self, kind: str, payload: Any, what: str) -> list[AudienceKind]:
        """Send one payload; the audiences of what reached the engine because of it."""
        intake = self.world.intake
        received, rejected = len(intake.received), len(intake.rejected)
        if kind == "event":
            status = await self.world.post_raw(encoded(payload), "application/json")
        elif kind == "interactive":
            status, _ = await self.world.submit({"payload": encoded(payload)})
        else:
            # A form is UTF-8 on the wire: what cannot be encoded never arrives as it was.
            form = {k: str(v).encode("utf-8", "replace").decode() for k, v in payload.items()}
            status, _ = await self.world.submit(form)
        counts = self.counts
        counts.requests += 1
        counts.by_status[status] = counts.by_status.get(status, 0) + 1
        if status != 200:
            self.failures.append(f"{status} for {what}")
        arrived = intake.received[received:]
        counts.rejected += len(intake.rejected) - rejected
        counts.answered += sum(r.outcome is ReceiveOutcome.ACCEPTED for _, r in arrived)
        counts.ignored += len(arrived) == 0 and len(intake.rejected) == rejected
        return [inbound.audience.kind for inbound, _ in arrived]


def collection(world: SlackWorld) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, name, payload) for every payload of the collection."""
    answer_to = world.api.response_url("fuzz")
    found = [("event", name, body) for name, body in p.event_payloads().items()]
    found += [
        ("interactive", name, body | {"response_url": answer_to})
        for name, body in p.interactive_payloads().items()
    ]
    found += [
        ("command", name, {**form, "response_url": answer_to})
        for name, form in p.command_payloads().items()
    ]
    return found


async def test_mutated_slack_payloads_never_fail_slack_or_widen_an_audience(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    with caplog.at_level(logging.ERROR):
        async with (
            FakeOpenAI() as llm,
            collection_api() as api,
            slack_bot(tmp_path, llm, api, turns=False) as world,
        ):
            fuzzer = Fuzzer(world)
            for kind, name, payload in collection(world):
                if kind == "event":
                    payload = payload | {"event_id": f"Ev-{name}"}
                baseline = await fuzzer.send(kind, payload, name)
                widest = min((_openness(k) for k in baseline), default=0)
                for i in range(MUTATIONS_PER_PAYLOAD):
                    if kind == "event":
                        payload = payload | {"event_id": f"Ev-{name}-{i}"}
                    variant, what = mutated(payload, rng)
                    for audience in await fuzzer.send(kind, variant, f"{name}: {what}"):
                        if _openness(audience) > widest:
                            fuzzer.failures.append(f"{audience} audience for {name}: {what}")
            # Buttons and commands finish their work after the ack.
            await world.quiet(1.0)
    counts = fuzzer.counts
    print(
        f"\nslack fuzz: {counts.requests} requests, {counts.rejected} rejected, "
        f"{counts.answered} answered, {counts.ignored} ignored, statuses {counts.by_status}"
    )
    errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
    assert fuzzer.failures == []
    assert errors == []
    assert counts.requests == len(collection(world)) * (MUTATIONS_PER_PAYLOAD + 1)
    assert counts.rejected > 0
    assert counts.answered > 0


def _openness(kind: AudienceKind) -> int:
    """How many people an audience can include: a public channel is the widest."""
    return 1 if kind is AudienceKind.PUBLIC else 0


async def test_mutated_events_over_socket_mode_are_all_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    socket = FakeSocketMode()
    await socket.start()
    try:
        with caplog.at_level(logging.ERROR):
            async with (
                FakeOpenAI() as llm,
                collection_api() as api,
            ):
                api.socket_url = socket.url
                async with slack_bot(
                    tmp_path, llm, api, turns=False, app_token="xapp-fuzz", signing_secret=""
                ) as world:
                    await world.adapter.start()
                    await socket.wait_connected()
                    sent = 0
                    for name, body in p.event_payloads().items():
                        for i in range(SOCKET_MUTATIONS):
                            variant, _ = mutated(body | {"event_id": f"Ev-{name}-{i}"}, rng)
                            await socket.wait_acked(await socket.send_event(variant))
                            sent += 1
        rejected = len(world.intake.rejected)
        print(
            f"\nslack socket fuzz: {sent} envelopes, {len(socket.acks)} acknowledged, "
            f"{rejected} rejected"
        )
        errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == []
        assert len(socket.acks) == sent
        assert world.intake.rejected
    finally:
        await socket.stop()
