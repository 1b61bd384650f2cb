"""How long a complete forget takes on the embedded store: a user with many messages, and the
records derived from them, among other users' memories.

Builds one SQLite store with the user's messages (channels, threads and their DM), as many
messages from other people, and derived records linked to both: block lines in channel blocks,
passages (some with embeddings and tags), digests, the agent's own messages quoting them,
summaries, agent mail. Then times ``UserDataService.forget_user`` (settling the files included)
and prints the seconds and what it removed. The target is under 5 s for 10,000 messages.

    .venv/bin/python -m bench.forget [--messages 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine import (
    Agent,
    Audience,
    AudienceKind,
    Block,
    Derived,
    Message,
    Passage,
    Role,
    Scope,
    Store,
    Summary,
    UserDataService,
    new_id,
    render_forget,
)
from engine.store.lineage import Link, block_line_id, links
from engine.store.sqlite import SQLiteStore
from engine.store.state import MailMode, MailRecord

WORKSPACE = "bench:W1"
AGENT = "agent-bench"
CHANNELS = 20
DIM = 8
START = datetime(2026, 1, 1, tzinfo=UTC)
#: Lines of each channel block, and the share of derived records built on the user's words.
BLOCK_LINES = 60
THEIRS = 0.5


def audiences(user: str) -> list[Audience]:
    return [Audience(WORKSPACE, AudienceKind.PUBLIC, f"C{i:02d}") for i in range(CHANNELS)] + [
        Audience(WORKSPACE, AudienceKind.DM, f"D-{user}", user=user)
    ]


def said(author: str, audience: Audience, i: int) -> Message:
    return Message(
        id=new_id(),
        agent_id=AGENT,
        workspace=WORKSPACE,
        channel=audience.channel,
        thread=f"17.{i % 7}" if i % 5 == 0 else "",
        scope=audience.write_scope,
        role=Role.USER,
        author=author,
        author_name=author.title(),
        content=f"{author} note {i}: the plan for item {i} is ready, ask me about part {i % 97}",
        seq=i,
        created_at=START + timedelta(seconds=i),
    )


async def populate(store: Store, messages: int, rng: random.Random) -> None:
    """The user ``alice``'s messages and ``bob``'s, and records derived from both."""
    await store.agents.put(Agent(AGENT, "Bench", "m", "", ()))
    alice = [said("alice", rng.choice(audiences("alice")), i) for i in range(messages)]
    bob = [said("bob", rng.choice(audiences("bob")), messages + i) for i in range(messages)]
    for start in range(0, messages, 1000):
        await store.messages.append(alice[start : start + 1000] + bob[start : start + 1000])
    await store.messages.set_embeddings(
        [(m.id, [rng.random() for _ in range(DIM)]) for m in alice[::4] + bob[::4]]
    )
    sources = [m.id for m in alice]
    others = [m.id for m in bob]
    derived: list[Link] = []

    def pick() -> list[str]:
        """The sources of one derived record: mostly one person's, sometimes both."""
        mine = rng.random() < THEIRS
        picked = rng.sample(sources if mine else others, rng.randint(1, 3))
        return picked + (rng.sample(others, 1) if rng.random() < 0.1 else [])

    for channel in range(CHANNELS):
        lines = [f"Channel fact {channel}.{n}: item {n} matters" for n in range(BLOCK_LINES)]
        block = await store.blocks.create(
            Block(
                new_id(), AGENT, WORKSPACE, "channel", f"C{channel:02d}", Scope.workspace(),
                "\n".join(lines), 20_000,
            )
        )  # fmt: skip
        for line in lines:
            derived += links(Derived.BLOCK_LINE, block_line_id(block.id, line), pick(), WORKSPACE)
        summary = Summary(
            AGENT, WORKSPACE, f"C{channel:02d}", "", Scope.workspace(), "so far...", 10, 0
        )
        await store.summaries.put(summary, 0)
        derived += links(Derived.SUMMARY, str(summary.conversation), pick(), WORKSPACE)

    passages = [
        Passage(
            new_id(), AGENT, WORKSPACE, Scope.workspace(), f"kept fact {i}", tags=(f"t{i % 30}",),
            embedding=tuple(rng.random() for _ in range(DIM)) if i % 2 else None,
        )
        for i in range(messages // 5)
    ]  # fmt: skip
    await store.passages.insert(passages)
    for i, kept in enumerate(passages):
        kind = Derived.DIGEST if i % 20 == 0 else Derived.PASSAGE
        derived += links(kind, kept.id, pick(), WORKSPACE)

    agent_said = [
        Message(
            id=new_id(), agent_id=AGENT, workspace=WORKSPACE, channel="C00", thread="",
            scope=Scope.workspace(), role=Role.ASSISTANT, author=AGENT, author_name="Bench",
            content=f"as you said, item {i}", seq=3 * messages + i,
            created_at=START + timedelta(seconds=3 * messages + i), turn_id=f"turn-{i}",
        )
        for i in range(messages // 3)
    ]  # fmt: skip
    await store.messages.append(agent_said)
    for message in agent_said:
        derived += links(Derived.MESSAGE, message.id, pick(), WORKSPACE)
    public = audiences("alice")[0]
    for i in range(messages // 100):
        await store.mail.put(
            MailRecord(f"mail-{i}", AGENT, "Bench", "peer", public, 1, MailMode.WAIT)
        )
        derived += links(Derived.MAIL, f"mail-{i}", pick(), WORKSPACE)
    for start in range(0, len(derived), 5000):
        await store.lineage.link(derived[start : start + 5000])


async def run(messages: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "bench.sqlite3")
        await store.setup()
        try:
            built = time.perf_counter()
            await populate(store, messages, random.Random(15))
            print(f"built the store in {time.perf_counter() - built:.1f} s")
            started = time.perf_counter()
            report = await UserDataService(store).forget_user(WORKSPACE, "alice")
            seconds = time.perf_counter() - started
        finally:
            await store.close()
    print(f"removed: {render_forget(report)}")
    print(f"forget of a user with {messages} messages: {seconds:.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(run(args.messages))


if __name__ == "__main__":
    main()
