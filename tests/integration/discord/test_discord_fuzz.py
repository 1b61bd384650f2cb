"""Mutated gateway events through real discord.py, the real engine and the fake Discord.

Each event of the corpus (``tests/fakes/discord_corpus.py``) is sent a few dozen times with one
field dropped, nulled, of the wrong type, huge, full of control characters or nested deep. After
each, a person's DM must still reach the engine and, in the end, every one of them is answered;
no handler may raise; and nothing is stored with a less private audience than the unmutated
event had. Seeded and bounded, so it runs in the normal suite.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from bot.wiring import running
from engine.audience import Audience, AudienceKind
from engine.ports import IntakePort, ReceiveResult
from engine.records import JSON, Inbound, InboundKind
from tests.fakes import discord_payloads as p
from tests.fakes.discord_corpus import CorpusEvent, add_forum, corpus
from tests.fakes.discord_rest import FakeDiscord
from tests.fakes.discord_world import PATIENCE, bot_config, build_world, eventually
from tests.fakes.openai_server import FakeOpenAI
from tests.harness import settings_for

SEED = 20261203
#: Mutations of each corpus event.
MUTATIONS_PER_EVENT = 36
HUGE = 100_000
DEPTH = 200
CONTROL = "\x00\x07\x1b[2J\u202e\ufeff\ud800 end"
#: How private each audience kind is: a stored record may only move up this scale.
PRIVACY = {AudienceKind.PUBLIC: 0, AudienceKind.PRIVATE: 1, AudienceKind.DM: 2}

type FieldPath = tuple[str | int, ...]
type Mutation = Callable[[Any], Any]


class RecordingIntake:
    """The engine's intake, recording what reaches it before passing it on.

    Only ``answered``'s messages ask for an answer; the rest are stored as in a "listen"
    channel, so the run spends its time on events rather than on hundreds of model turns.
    """

    def __init__(self, engine: IntakePort, answered: str) -> None:
        self._engine = engine
        self._answered = answered
        self.received: list[Inbound] = []
        self.rejected: list[tuple[str, JSON, str]] = []
        self._arrived = asyncio.Condition()

    async def receive(self, inbound: Inbound) -> ReceiveResult:
        self.received.append(inbound)
        async with self._arrived:
            self._arrived.notify_all()
        if inbound.author.id != self._answered:
            inbound = dataclasses.replace(inbound, respond=False)
        return await self._engine.receive(inbound)

    async def reject(self, platform: str, raw: JSON, error: str) -> None:
        self.rejected.append((platform, raw, error))
        async with self._arrived:
            self._arrived.notify_all()
        await self._engine.reject(platform, raw, error)

    async def arrival(self, message_ref: str) -> Inbound | None:
        """The message once it reached the engine, or None once it was refused."""
        async with asyncio.timeout(PATIENCE), self._arrived:
            await self._arrived.wait_for(lambda: self._settled(message_ref))
        return self.find(message_ref)

    def _settled(self, message_ref: str) -> bool:
        refused = any(raw.get("id") == message_ref for _, raw, _ in self.rejected)
        return refused or self.find(message_ref) is not None

    def find(self, message_ref: str) -> Inbound | None:
        return next((i for i in reversed(self.received) if i.message_ref == message_ref), None)


@dataclass
class Tally:
    events: int = 0
    rejected: int = 0


# -- mutations ------------------------------------------------------------------------------


def _paths(value: Any, prefix: FieldPath = (), depth: int = 3) -> Iterator[FieldPath]:
    """Every key and list index down to ``depth`` levels."""
    if depth == 0:
        return
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value[:2]))
    for key, child in items:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key), depth - 1)


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true"
    if isinstance(value, str):
        return 1234567
    if isinstance(value, int):
        return f"{value}x"
    if isinstance(value, list):
        return {"0": value[:1]}
    if isinstance(value, dict):
        return [value.get("id", "x")]
    return {"unexpected": True}


def _deep(_: Any) -> Any:
    nested: Any = {"id": "1"}
    for _level in range(DEPTH):
        nested = [nested]
    return nested


DROP = "drop"
MUTATIONS: dict[str, Mutation] = {
    "null": lambda _: None,
    "wrong type": _wrong_type,
    "huge": lambda _: "a" * HUGE,
    "control characters": lambda _: CONTROL,
    "deep nesting": _deep,
}


def mutated(payload: Any, path: FieldPath, kind: str) -> Any:
    changed = copy.deepcopy(payload)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if kind == DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = MUTATIONS[kind](parent[path[-1]])
    return changed


def plan(event: CorpusEvent, rng: random.Random) -> list[tuple[FieldPath, str]]:
    """Half the mutations on top-level fields (the ones discord.py reads first), half deeper."""
    sample = event.build()
    kinds = [DROP, *MUTATIONS]
    top = [((key,), kind) for key in sample for kind in kinds]
    deeper = [
        (path, kind)
        for path in _paths(sample)
        if len(path) > 1
        for kind in kinds
        # An item dropped from a list is a valid event that says something else (an overwrite
        # removed makes a channel public), not a malformed one.
        if not (kind == DROP and isinstance(path[-1], int))
    ]
    half = MUTATIONS_PER_EVENT // 2
    chosen = rng.sample(top, min(half, len(top)))
    return chosen + rng.sample(deeper, min(MUTATIONS_PER_EVENT - len(chosen), len(deeper)))


# -- the run --------------------------------------------------------------------------------


def _message_ref(payload: Any) -> str | None:
    message_id = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(message_id, str) and message_id.isdigit():
        return str(int(message_id))
    return None


def _at_most_as_public(stored: Audience, base: Audience) -> bool:
    """Stored no more publicly: a more private kind, or the same kind with the same people
    (a DM with the same person, the same private channel, a public channel of the guild)."""
    if PRIVACY[stored.kind] != PRIVACY[base.kind]:
        return PRIVACY[stored.kind] > PRIVACY[base.kind]
    if stored.kind is AudienceKind.PRIVATE:
        return stored == base
    return stored.workspace == base.workspace


async def test_mutated_gateway_events_never_deafen_the_bot_or_widen_an_audience(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    fake = FakeDiscord()
    world = build_world(fake)
    forum = add_forum(fake, world)
    tally = Tally()
    # Whole replies: the fuzzing is about what comes in, not how replies are shown.
    whole_replies = {"MNEMO_STREAM_REPLIES": False}
    async with (
        FakeOpenAI() as llm,
        fake.running(),
        running(settings_for(tmp_path, llm, **whole_replies)) as runtime,
    ):
        intake = RecordingIntake(runtime.engine, answered=world.bob["id"])
        adapter = DiscordAdapter(
            bot_config(fake, agent_id=runtime.default_agent.id), intake, runtime.user_data
        )
        runtime.engine.register_platform(adapter.platform_port)
        await adapter.start()
        gateway = fake.gateway
        probes: set[str] = set()

        async def probe_place(place: p.Payload) -> Inbound | None:
            """A mention in ``place``: stored with its audience, or refused when the damaged
            event left the place unknown."""
            said = p.message(
                place["id"],
                world.alice,
                f"{p.mention(fake.bot)} who hears this?",
                guild_id=world.guild_id,
                mentions=[fake.bot],
            )
            probes.add(said["id"])
            await gateway.dispatch("MESSAGE_CREATE", said)
            return await intake.arrival(said["id"])

        async def probe_dm() -> None:
            said = p.message(world.bob_dm["id"], world.bob, f"still there? {len(probes)}")
            probes.add(said["id"])
            await gateway.dispatch("MESSAGE_CREATE", said)
            assert await intake.arrival(said["id"]) is not None
            await eventually(
                lambda: any(r.reply_to == said["id"] for r in fake.posted(world.bob_dm["id"])),
                f"an answer to the DM sent after {tally.events} mutated events",
            )

        try:
            base: dict[str, Audience] = {}
            for event in corpus(fake, world, forum):
                payload = event.build()
                await gateway.dispatch(event.name, payload)
                if event.place is not None:
                    placed = await probe_place(event.place)
                    assert placed is not None
                    base[event.label + event.name] = placed.audience
                await probe_dm()
                if (ref := _message_ref(payload)) is not None and (
                    found := intake.find(ref)
                ) is not None:
                    base[event.label + event.name] = found.audience
            assert intake.rejected == [], "an unmutated corpus event was refused"

            stored_by_case: list[tuple[str, Inbound]] = []
            for event in corpus(fake, world, forum):
                for path, kind in plan(event, rng):
                    original = event.build()
                    payload = mutated(original, path, kind)
                    refused_before = len(intake.rejected)
                    await gateway.dispatch(event.name, payload)
                    tally.events += 1
                    if event.place is not None:
                        if (placed := await probe_place(event.place)) is not None:
                            stored_by_case.append((event.label + event.name, placed))
                        await gateway.dispatch(event.name, original)  # restore the place
                    await probe_dm()
                    refused = intake.rejected[refused_before:]
                    tally.rejected += any(raw.get("id") not in probes for _, raw, _ in refused)
                    if (ref := _message_ref(payload)) is not None and (
                        found := intake.find(ref)
                    ) is not None:
                        stored_by_case.append((event.label + event.name, found))
        finally:
            await adapter.stop()

    compared = [
        (case, inbound.audience, base[case])
        for case, inbound in stored_by_case
        if inbound.kind is not InboundKind.DELETE and case in base
    ]
    print(  # the figures of the run, for the record (pytest -s)
        f"\ndiscord fuzz: {tally.events} mutated events, {tally.rejected} refused, "
        f"{tally.events - tally.rejected} parsed; {adapter.gateway_restarts} gateway restarts; "
        f"{len(compared)} stored audiences compared"
    )
    widened = [c for c in compared if not _at_most_as_public(c[1], c[2])]
    assert widened == []
    assert len(compared) >= 150
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [f"{r.name}: {r.getMessage()}" for r in errors] == []
    assert adapter.gateway_restarts == 0
    assert tally.events >= 18 * 30
