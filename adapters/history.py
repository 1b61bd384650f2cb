"""Reading a channel's past messages into the agent's recall, for every platform.

A platform's ``HistorySource`` reads the channel page by page into arrivals, as live events
would be read (same authors, audience and threads); ``ChannelHistory`` hands each to a
history intake chain, which drops what the live chain drops (the bot's own messages,
strangers' bots, channels the agent does not serve, what a ``mention`` channel's policy
does not let the bot hear) and marks the rest to be remembered, never answered. The
engine's inbox collapses a message it already holds, so reading a channel twice, or a
message heard live, stores it once. After each page the progress is saved
(``engine.BackfillLedger``), so a restart continues where the last one stopped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from adapters.intake import (
    Arrival,
    BotHearing,
    IntakeChain,
    NextStep,
    hearing_steps,
)
from adapters.policy import ChannelPolicies, ChannelPolicy
from engine import (
    Author,
    BackfillLedger,
    BackfillProgress,
    IntakePort,
    PeerAgent,
    ReceiveOutcome,
    ReceiveResult,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HistoryBounds:
    """How much of a channel's past the bot reads: messages of the last ``days`` days (0: no
    day limit), at most ``messages`` of them, the newest first."""

    days: int = 90
    messages: int = 2_000
    #: Read a channel's history when the bot joins it (else only when an admin asks).
    on_join: bool = True

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError("MNEMO_HISTORY_DAYS must be 0 (no day limit) or more")
        if self.messages < 1:
            raise ValueError("MNEMO_HISTORY_MESSAGES must be at least 1")

    def since(self, start: datetime) -> datetime | None:
        """The oldest time a read begun at ``start`` keeps; None when there is no day limit."""
        return start - timedelta(days=self.days) if self.days else None

    def describe(self) -> str:
        days = f" from the last {self.days} days" if self.days else ""
        return f"up to {self.messages} messages{days}"


@dataclass(frozen=True, slots=True)
class HistoryTarget:
    """The channel one agent reads, as Mnemo names it."""

    platform: str
    agent_id: str
    workspace: str
    channel: str
    channel_name: str = ""

    def __str__(self) -> str:
        return f"{self.platform} {self.channel_name or self.channel} ({self.workspace})"


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Arrivals read from one page of history; ``read`` counts every platform message on it
    (notices included); ``cursor`` is where the page after it starts."""

    arrivals: tuple[Arrival, ...]
    read: int
    cursor: str


class HistoryUnavailable(Exception):
    """The platform refuses to show the channel's history (the bot is not in it, lacks a
    scope or a permission); the message says what to do."""


class HistorySource(Protocol):
    """One channel's history as a platform shows it."""

    async def check(self) -> None:
        """Raise ``HistoryUnavailable`` unless the platform lets the bot read the channel."""
        ...

    def pages(self, cursor: str, since: datetime | None, limit: int) -> AsyncIterator[HistoryPage]:
        """Pages from ``cursor`` ("" for the start), of messages sent after ``since``, at
        most ``limit`` messages in all; raises ``HistoryUnavailable``."""
        ...


class RememberOnly:
    """Past messages are remembered, never answered; another agent's past message is
    remembered as that agent's, as it was heard live."""

    def __init__(self, peers: Mapping[str, PeerAgent]) -> None:
        self._peers = peers

    async def process(self, arrival: Arrival, next_step: NextStep) -> ReceiveResult:
        inbound = dataclasses.replace(arrival.inbound, respond=False, past=True)
        peer = self._peers.get(inbound.author.id)
        if peer is not None:
            author = Author(peer.agent_id, peer.name, is_agent=True, is_bot=True)
            inbound = dataclasses.replace(inbound, author=author)
        return await next_step(dataclasses.replace(arrival, inbound=inbound))


def history_intake(port: IntakePort, policies: ChannelPolicies, bot: BotHearing) -> IntakeChain:
    """The chain past messages go through: the live chain's filters of who and where, and
    its channel policy (a ``mention`` channel's past keeps only what mentions the bot, as
    live), then remembered only: nothing past is answered."""
    steps = hearing_steps(policies, bot.peer_agents, bot.served_channels)
    return IntakeChain([*steps, RememberOnly(bot.peer_agents)], port)


class ChannelHistory:
    """Reads channels' histories into recall, each at most once at a time, as owned tasks."""

    def __init__(
        self,
        port: IntakePort,
        policies: ChannelPolicies,
        bot: BotHearing,
        ledger: BackfillLedger,
        bounds: HistoryBounds,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._intake = history_intake(port, policies, bot)
        self._policies = policies
        self.ledger = ledger
        self.bounds = bounds
        self._clock = clock
        self._tasks: dict[HistoryTarget, asyncio.Task[BackfillProgress]] = {}

    def reading(self, target: HistoryTarget) -> bool:
        return target in self._tasks

    async def begin(self, target: HistoryTarget, source: HistorySource, *, again: bool) -> str:
        """Start reading ``target`` unless it is being read or cannot be read; what
        happened, in a sentence for whoever asked."""
        place = target.channel_name or "this channel"
        if self.reading(target):
            return f"I'm already learning {place}'s history."
        try:
            await source.check()
        except HistoryUnavailable as error:
            return f"I can't read {place}'s history: {error}."
        self.start(target, source, again=again)
        kept = ""
        if self._policies.policy_of((target.channel,)) is ChannelPolicy.MENTION:
            kept = ", keeping only those that mention me, as this channel's policy says"
        return (
            f"Learning {place}'s history: {self.bounds.describe()}{kept}. "
            "I'll remember it without answering; `mnemo history status` shows how far I got."
        )

    def start(
        self, target: HistoryTarget, source: HistorySource, *, again: bool = False
    ) -> asyncio.Task[BackfillProgress]:
        """Read ``target``'s history in the background (the read already running, if any)."""
        task = self._tasks.get(target)
        if task is None:
            task = asyncio.create_task(
                self._guarded(target, source, again), name=f"history {target}"
            )
            self._tasks[target] = task
            task.add_done_callback(lambda _: self._tasks.pop(target, None))
        return task

    async def unfinished(self, platform: str, agent_id: str) -> list[BackfillProgress]:
        """Reads of this bot that a stop interrupted (not those that failed: an admin
        decides when to try those again)."""
        return [
            p
            for p in await self.ledger.all()
            if p.platform == platform and p.agent_id == agent_id and p.state == "reading"
        ]

    async def stop(self) -> None:
        """Cancel running reads; each continues from its last saved page next time."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def read(
        self, target: HistoryTarget, source: HistorySource, *, again: bool = False
    ) -> BackfillProgress:
        """Read ``target``'s history up to the bounds, continuing a read that stopped; a
        finished one is read again (only what is new is stored) when ``again``."""
        progress = await self.ledger.get(
            target.platform, target.agent_id, target.workspace, target.channel
        )
        if progress is not None and progress.done and not again:
            return progress
        if progress is None or progress.done:
            now = self._clock()
            progress = BackfillProgress(
                target.platform,
                target.agent_id,
                target.workspace,
                target.channel,
                started_at=now,
                updated_at=now,
                channel_name=target.channel_name,
            )
            await self.ledger.save(progress)
        bounds = self.bounds
        log.info("reading the history of %s: %s", target, bounds.describe())
        # The day limit counts from when the read began, so a resumed read keeps its window.
        since = bounds.since(progress.started_at)
        try:
            async for page in source.pages(progress.cursor, since, bounds.messages - progress.read):
                stored = 0
                for arrival in page.arrivals:
                    result = await self._intake.receive(arrival)
                    stored += result.outcome is ReceiveOutcome.ACCEPTED
                progress = progress.advanced(page.cursor, page.read, stored, page.read - stored)
                await self.ledger.save(progress)
                log.info(
                    "history of %s: %d messages read, %d stored, %d skipped",
                    target,
                    progress.read,
                    progress.stored,
                    progress.skipped,
                )
        except HistoryUnavailable as error:
            log.warning("history of %s stopped: %s", target, error)
            progress = progress.failed(str(error))
            await self.ledger.save(progress)
            return progress
        progress = progress.finished()
        await self.ledger.save(progress)
        log.info(
            "history of %s learned: %d messages stored, %d skipped",
            target,
            progress.stored,
            progress.skipped,
        )
        return progress

    async def _guarded(
        self, target: HistoryTarget, source: HistorySource, again: bool
    ) -> BackfillProgress:
        """``read``, with an unexpected failure logged and saved for the operator."""
        try:
            return await self.read(target, source, again=again)
        except Exception as error:
            log.exception("reading the history of %s failed", target)
            found = await self.ledger.get(
                target.platform, target.agent_id, target.workspace, target.channel
            )
            if found is None:
                raise
            failed = found.failed(f"{type(error).__name__}: {error}")
            await self.ledger.save(failed)
            return failed
