"""Two agents in one channel, each with its own bot user, answering each other's mentions until
the traffic policy stops them, through the real engine, pipeline and agent runtime.

``Room`` stands for the chat platform: what an agent posts is seen by every other agent in the
room, handed through each bot's intake chain the way the Slack and Discord adapters do.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters.intake import Arrival, intake_chain
from adapters.policy import ChannelPolicies
from engine.messaging.channels import PeerAgent
from engine.ports import ReceiveOutcome
from engine.records import Author, ConversationKey, Inbound, Outbound, new_id, utcnow
from tests.fakes.openai_server import FakeOpenAI, Step, tool_call
from tests.harness import Bot, bot_running, public, settings_for

JSON = dict[str, Any]
CHANNEL = public("C-room")


def agents_file(max_hops: int) -> str:
    return f"""\
traffic: {{max_hops: {max_hops}}}
agents:
  - name: alpha
    system_prompt: You are alpha.
  - name: beta
    system_prompt: You are beta.
"""


@dataclass
class Room:
    """One public channel where every agent's bot user sees every post."""

    bot: Bot
    peers: dict[str, PeerAgent]  # bot user id -> agent
    posts: list[tuple[str, str]] = field(default_factory=list)  # (author name, text)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    platform: str = "room"

    def bot_user(self, agent_id: str) -> str:
        return next(user for user, peer in self.peers.items() if peer.agent_id == agent_id)

    async def post(self, author: Author, text: str, thread: str) -> None:
        self.posts.append((author.name, text))
        ref = f"m{next(self.counter)}"
        for user, peer in self.peers.items():
            mentioned = f"@{peer.name}" in text
            if user == author.id or not mentioned:
                continue  # a bot never hears itself; the channel policy is "mention"
            inbound = Inbound(
                platform=self.platform,
                agent_id=peer.agent_id,
                audience=CHANNEL,
                thread=thread,
                author=author,
                text=text,
                event_id=f"{ref}-{peer.agent_id}",
                message_ref=ref,
                sent_at=utcnow(),
                mentions=(user,),
            )
            intake = intake_chain(
                self.bot.runtime.engine,
                policies=ChannelPolicies(),
                peers=self.peers,
                traffic=self.bot.runtime.channel_traffic,
            )
            heard = Arrival(inbound, user, from_bot=author.id in self.peers, addressed=True)
            result = await intake.receive(heard)
            assert result.outcome is ReceiveOutcome.ACCEPTED, result

    async def deliver(self, reply: Outbound) -> str:
        peer = self.peers[self.bot_user(reply.agent_id)]
        await self.post(Author(self.bot_user(reply.agent_id), peer.name), reply.text, reply.thread)
        return new_id()

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield


@asynccontextmanager
async def room_with_two_agents(
    tmp_path: Path, llm: FakeOpenAI, max_hops: int
) -> AsyncIterator[Room]:
    path = tmp_path / "agents.yml"
    path.write_text(agents_file(max_hops))
    settings = settings_for(tmp_path, llm, MNEMO_AGENTS_FILE=path, MNEMO_AGENT="alpha")
    async with bot_running(settings, llm) as bot:
        store = bot.runtime.store
        alpha, beta = await store.agents.by_name("alpha"), await store.agents.by_name("beta")
        assert alpha is not None
        assert beta is not None
        room = Room(
            bot, {"U_ALPHA": PeerAgent(alpha.id, "alpha"), "U_BETA": PeerAgent(beta.id, "beta")}
        )
        bot.runtime.engine.register_platform(room)
        yield room


def agent_of(body: JSON) -> str:
    return str(body["messages"][0]["content"]).removeprefix("You are ").split(".", 1)[0]


async def quiet(llm: FakeOpenAI, room: Room, posts: int) -> None:
    """Wait for ``posts`` posts in the room, then until no model request came for a second:
    the agents have stopped talking."""
    async with asyncio.timeout(30):
        while len(room.posts) < posts:  # noqa: ASYNC110 - the room offers no event
            await asyncio.sleep(0.05)
        seen = -1
        while seen != len(llm.chat_requests) or llm.in_flight:
            seen = len(llm.chat_requests)
            await asyncio.sleep(1.0)


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_two_agents_answer_each_other_and_stop_at_the_hop_limit(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    turns = itertools.count(1)

    def chatty(body: JSON) -> Step:
        me = agent_of(body)
        other = "beta" if me == "alpha" else "alpha"
        return tool_call("send_message", message=f"@{other} point {next(turns)} from {me}")

    llm.responder = chatty
    async with room_with_two_agents(tmp_path, llm, max_hops=3) as room:
        await room.post(Author("U_PERSON", "dana"), "@alpha debate with beta", thread="T1")
        await quiet(llm, room, posts=4)

        assert room.posts == [
            ("dana", "@alpha debate with beta"),
            ("alpha", "@beta point 1 from alpha"),
            ("beta", "@alpha point 2 from beta"),
            ("alpha", "@beta point 3 from alpha"),
        ]
        # The message past the limit is remembered by beta, not answered.
        beta = room.peers["U_BETA"].agent_id
        history = await room.bot.runtime.store.messages.recent(
            ConversationKey(beta, CHANNEL.workspace, CHANNEL.channel, "T1"), 0, 50
        )
        assert history[-1].content == "@beta point 3 from alpha"
        assert history[-1].author == room.peers["U_ALPHA"].agent_id

        # A person speaking in the thread lets the agents talk again.
        await room.post(Author("U_PERSON", "dana"), "@beta one more round", thread="T1")
        await quiet(llm, room, posts=8)
        assert room.posts[-1] == ("beta", "@alpha point 6 from beta")
        assert len(room.posts) == 8


async def test_agents_repeating_themselves_are_stopped_as_a_loop(
    tmp_path: Path, llm: FakeOpenAI
) -> None:
    def parrot(body: JSON) -> Step:
        other = "beta" if agent_of(body) == "alpha" else "alpha"
        return tool_call("send_message", message=f"@{other} thanks, anything else?")

    llm.responder = parrot
    async with room_with_two_agents(tmp_path, llm, max_hops=20) as room:
        await room.post(Author("U_PERSON", "dana"), "@alpha say thanks to beta", thread="T2")
        await quiet(llm, room, posts=4)
        # Each agent may say it once; the repeat reaches the other but is not answered.
        assert [author for author, _ in room.posts] == ["dana", "alpha", "beta", "alpha"]
