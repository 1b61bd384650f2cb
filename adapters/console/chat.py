"""The console adapter: terminal lines in, replies printed, memory kept like anywhere else."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from adapters.console.terminal import enable_line_editing
from engine import (
    Audience,
    AudienceKind,
    Author,
    Inbound,
    IntakePort,
    Outbound,
    ReceiveOutcome,
    ReceiveResult,
    new_id,
    utcnow,
)

if TYPE_CHECKING:
    from adapters.console.approvals import ConsoleApprovals

PLATFORM = "console"
CONSOLE_WORKSPACE = "console:local"


class ConsoleEngine(IntakePort, Protocol):
    """The engine's intake, and a wait for a message's answer (a terminal waits for it)."""

    async def wait_settled(self, inbox_id: str) -> None:
        """Return once the item's turn is done and its replies are delivered."""


def typed_message(
    platform: str,
    agent_id: str,
    audience: Audience,
    author: Author,
    text: str,
    *,
    thread: str = "",
    channel_name: str = "",
) -> Inbound:
    """A line a person typed into a local chat (the terminal, the inspector's playground):
    addressed to the agent, with a fresh id as both its event id and message ref."""
    message_id = new_id()
    return Inbound(
        platform=platform,
        agent_id=agent_id,
        audience=audience,
        thread=thread,
        author=author,
        text=text,
        event_id=message_id,
        message_ref=message_id,
        sent_at=utcnow(),
        channel_name=channel_name,
    )


class ConsolePort:
    """Delivers replies by printing them."""

    platform = PLATFORM

    def __init__(self, out: TextIO = sys.stdout, agent_names: dict[str, str] | None = None) -> None:
        self._out = out
        self._names = agent_names or {}

    async def deliver(self, reply: Outbound) -> str:
        name = self._names.get(reply.agent_id, "mnemo")
        self._out.write(f"\n{name}> {reply.text}\n")
        self._out.flush()
        return reply.id

    @asynccontextmanager
    async def working(self, inbound: Inbound) -> AsyncIterator[None]:
        yield


@dataclass(eq=False)
class ConsoleChat:
    """One person chatting with one agent, in a DM or a named channel."""

    engine: ConsoleEngine
    agent_id: str
    _: KW_ONLY
    user: str
    #: The channel's name, or None for direct messages.
    channel: str | None
    workspace: str = CONSOLE_WORKSPACE
    reply_timeout: float = 180.0
    #: Where ``/approve`` and ``/deny`` go (requests are shown in the terminal).
    approvals: ConsoleApprovals | None = None
    audience: Audience = field(init=False)
    #: Where the chat happens, as the agent hears it named ("direct messages", "#general").
    where: str = field(init=False)

    def __post_init__(self) -> None:
        if self.channel is None:
            self.audience = Audience(self.workspace, AudienceKind.DM, f"dm-{self.user}", self.user)
            self.where = "direct messages"
        else:
            name = self.channel.lstrip("#")
            self.audience = Audience(self.workspace, AudienceKind.PUBLIC, name)
            self.where = f"#{name}"

    async def say(self, text: str) -> ReceiveResult:
        """Send one line as the user and wait until the agent has answered (or chose not to)."""
        author = Author(self.user, self.user)
        line = typed_message(
            PLATFORM, self.agent_id, self.audience, author, text, channel_name=self.where
        )
        result = await self.engine.receive(line)
        if result.outcome is ReceiveOutcome.ACCEPTED:
            async with asyncio.timeout(self.reply_timeout):
                await self.engine.wait_settled(result.inbox_id)
        return result

    async def run(self, read_line: Callable[[], Awaitable[str | None]], out: TextIO) -> None:
        """Read lines until end of input or /quit."""
        while True:
            line = await read_line()
            if line is None or line.strip() in {"/quit", "/exit"}:
                return
            if not line.strip():
                continue
            if self.approvals is not None and await self.approvals.answer(line, self.user):
                continue
            result = await self.say(line.rstrip("\n"))
            if result.outcome is ReceiveOutcome.REJECTED:
                out.write(f"(not sent: {result.reason})\n")


async def stdin_lines(prompt: str) -> str | None:
    """One line from the terminal without blocking the event loop; None at end of input.

    Reads on a daemon thread, so a shutdown never waits for the user to press Enter; a long
    or multi-line paste arrives whole (``enable_line_editing``).
    """
    enable_line_editing()
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str | None] = loop.create_future()

    def read() -> None:
        try:
            text: str | None = input(prompt)
        except EOFError:
            text = None

        def settle() -> None:
            if not line.done():
                line.set_result(text)

        loop.call_soon_threadsafe(settle)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return await line
