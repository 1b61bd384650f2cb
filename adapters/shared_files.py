"""Files people share with the bot in chat, learned as knowledge sources, on every platform.

A file shared in a DM, or in a channel where the agent's config turns learning on, becomes a
document in the agent's archival memory under that conversation's audience (a DM's stays in
that person's DMs, a private channel's in that channel, a public channel's is the
workspace's). It is learned off the intake path, after the event was acknowledged, one file at
a time; the person is told in one message what was learned or why not. Adding is idempotent
(the document's content hash), so the same file shared twice, or again after a restart, is
stored once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Protocol

import aiohttp

from adapters.intake import Arrival
from adapters.readers import readers
from engine import (
    PARSERS,
    Audience,
    AudienceKind,
    DocumentShare,
    ForgetReport,
    Inbound,
    InboundKind,
    IngestResult,
    IngestStatus,
    SourceTarget,
)

log = logging.getLogger(__name__)

#: What the agents file lists in ``learn_files`` to turn learning on in DMs.
DMS = "dm"
#: Seconds one file may take to download.
DOWNLOAD_TIMEOUT_S = 60.0
#: Messages remembered as handled, so a message delivered twice (Slack's ``message`` and
#: ``app_mention``, a retry) is learned and answered once.
_REMEMBERED_SHARES = 1024
_HTML = frozenset({".html", ".htm"})


@dataclass(frozen=True, slots=True)
class FileLearning:
    """Where an agent learns files shared with it: off by default, on for the channels
    listed (and DMs when ``dms``), for files up to ``max_bytes``."""

    channels: frozenset[str] = frozenset()
    dms: bool = False
    max_bytes: int = 10 * 2**20

    @classmethod
    def of(cls, places: Collection[str], max_bytes: int) -> FileLearning:
        """From the agents file's ``learn_files`` list: channel ids, and ``dm`` for DMs."""
        return cls(frozenset(places) - {DMS}, DMS in places, max_bytes)

    @property
    def enabled(self) -> bool:
        """Learning is on somewhere; when it is on nowhere, shared files are only messages."""
        return self.dms or bool(self.channels)

    def allows(self, audience: Audience) -> bool:
        if audience.kind is AudienceKind.DM:
            return self.dms
        return audience.channel in self.channels


@dataclass(frozen=True, slots=True)
class SharedFile:
    """One file attached to a message, as the platform describes it."""

    name: str
    size: int
    url: str
    #: Headers the download needs (Slack: the bot token).
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The platform's id, for a file the event names only by it (``url`` is then "").
    file_id: str = ""
    #: Why the adapter will not fetch it, after the file's name ("" when it may).
    refused: str = ""


@dataclass(frozen=True, slots=True)
class FileShare:
    """A message that shared files: the arrival the adapter read from it, and its files."""

    arrival: Arrival
    files: tuple[SharedFile, ...]
    #: Posts the bot's answer in the message's thread.
    tell: Callable[[str], Awaitable[object]]
    #: Asks the platform for what the event left out of a file (its name, size and URL);
    #: raises ``DownloadError``. Slack Connect events name a file only by its id.
    complete: Callable[[SharedFile], Awaitable[SharedFile]] | None = None

    @property
    def inbound(self) -> Inbound:
        return self.arrival.inbound

    @property
    def addressed(self) -> bool:
        """Speaks to the bot: a DM, or a message mentioning it."""
        return self.arrival.addressed or self.inbound.audience.kind is AudienceKind.DM

    @property
    def from_people(self) -> bool:
        """Shared by a person: not the bot itself (an export it posted), not another bot."""
        arrival = self.arrival
        return not arrival.from_bot and arrival.inbound.author.id != arrival.bot_user


class DocumentLearner(Protocol):
    """Adds a document's bytes to an agent's knowledge sources (``engine.SourceLibrary``)."""

    async def add_bytes(
        self, target: SourceTarget, name: str, origin: str, data: bytes
    ) -> IngestResult: ...

    async def unshare_file(self, workspace: str, file_id: str, channel: str = "") -> ForgetReport:
        """The platform deleted a file, or unshared it from ``channel``."""
        ...

    async def unshare_message(self, workspace: str, channel: str, message_ref: str) -> ForgetReport:
        """The platform deleted the message ``message_ref`` of ``channel``."""
        ...


class DownloadError(Exception):
    """A shared file could not be fetched; the message says why, after the file's name."""


class SharedFileLearner:
    """Learns the files of messages handed to ``take``, as owned background tasks."""

    def __init__(
        self,
        library: DocumentLearner,
        learning: FileLearning,
        served_channels: Collection[str] = (),
        workspace_word: str = "workspace",
    ) -> None:
        self._library = library
        self._learning = learning
        self._served = frozenset(served_channels)
        #: What the platform calls a workspace, in answers ("server" on Discord).
        self._workspace_word = workspace_word
        self._tasks: set[asyncio.Task[None]] = set()
        self._handled: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        #: What the platform took back, so a file still being learned then is not kept:
        #: deleted messages (workspace, channel, message), and deleted or unshared files
        #: (workspace, file id, channel; "" for every channel).
        self._gone_messages: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._gone_files: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        #: One file at a time: two shares of one document never write it together.
        self._one_at_a_time = asyncio.Lock()

    def take(self, share: FileShare) -> asyncio.Task[None] | None:
        """Learn ``share``'s files in the background; None when there is nothing to do (no
        files, learning off everywhere, a bot's message, a message already handled, an edit)."""
        inbound = share.inbound
        if not (share.files and self._learning.enabled and share.from_people):
            return None
        if inbound.kind is not InboundKind.MESSAGE:
            return None
        key = (inbound.workspace, inbound.channel, inbound.message_ref)
        if key in self._handled:
            return None
        _remember(self._handled, key)
        return self._own(self._guarded(share), f"learn files {key}")

    @property
    def learning(self) -> int:
        """How many messages' files are being learned now."""
        return len(self._tasks)

    def _own(self, work: Coroutine[object, object, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        """Cancel files being learned; sharing one again finishes it (nothing is stored twice)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def file_gone(self, workspace: str, file_id: str, channel: str = "") -> None:
        """The platform deleted a shared file (or took it out of ``channel``): the documents
        no other message shares are removed, with what was derived from them; one still being
        learned is not kept."""
        _remember(self._gone_files, (workspace, file_id, channel))
        async with self._one_at_a_time:
            report = await self._library.unshare_file(workspace, file_id, channel)
        if report.documents:
            log.info(
                "file %s is gone from %s: %d documents removed",
                file_id,
                workspace,
                report.documents,
            )

    def message_gone(self, workspace: str, channel: str, message_ref: str) -> None:
        """The platform deleted a message (the engine drops the shares it made): files of it
        still being learned are not kept, and one stored meanwhile goes again."""
        key = (workspace, channel, message_ref)
        _remember(self._gone_messages, key)
        if key in self._handled:
            self._own(self._unshare_message(key), f"unshare {key}")

    async def _unshare_message(self, key: tuple[str, str, str]) -> None:
        async with self._one_at_a_time:
            await self._library.unshare_message(*key)

    def _taken_back(self, share: DocumentShare, workspace: str) -> bool:
        """The platform deleted the message of ``share``, or its file, while it was learned."""
        files = self._gone_files
        return (workspace, share.channel, share.message_ref) in self._gone_messages or bool(
            share.file_id
            and (
                (workspace, share.file_id, "") in files
                or (workspace, share.file_id, share.channel) in files
            )
        )

    async def _guarded(self, share: FileShare) -> None:
        try:
            answer = await self.answer(share)
            if answer:
                await share.tell(answer)
        except Exception:
            log.exception("learning files shared in %s failed", share.inbound.channel)

    async def answer(self, share: FileShare) -> str:
        """Learn what may be learned of ``share``; what to tell its author ("" for nothing:
        a file in a channel not speaking to the bot, where learning is off)."""
        audience = share.inbound.audience
        is_dm = audience.kind is AudienceKind.DM
        addressed = share.addressed
        if not is_dm and self._served and audience.channel not in self._served:
            refusal = "I don't serve this channel, so I don't learn files shared here."
            return refusal if addressed else ""
        if not self._learning.allows(audience):
            if not addressed:
                return ""
            where = "in DMs" if is_dm else "in this channel"
            return (
                f"Learning shared files is off {where}; an admin can turn it on "
                "(`learn_files` in the agents file)."
            )
        lines = [await self._learn(share, shared) for shared in share.files]
        return "\n".join(line for line in lines if line)

    async def _learn(self, share: FileShare, shared: SharedFile) -> str:
        """What learning one file did, in a line; "" for a file of a type no parser reads
        shared in a channel without speaking to the bot (a screenshot among documents)."""
        inbound, addressed = share.inbound, share.addressed
        if not shared.url and share.complete is not None:
            try:
                shared = await share.complete(shared)
            except DownloadError as error:
                return f"I couldn't learn {shared.name or shared.file_id}: it {error}."
        name = PurePath(shared.name).name or "the file"
        if not (addressed or _readable(name)):
            return ""
        problem = shared.refused or self._refusal(name, shared.size)
        if problem:
            return f"I couldn't learn {name}: it {problem}."
        try:
            data = await download(shared, self._learning.max_bytes)
        except DownloadError as error:
            return f"I couldn't learn {name}: it {error}."
        author = inbound.author.id
        sharing = DocumentShare(inbound.channel, inbound.message_ref, author, shared.file_id)
        target = SourceTarget(
            inbound.agent_id, inbound.workspace, inbound.audience.write_scope, author, sharing
        )
        origin = f"{inbound.workspace}/{inbound.channel}/{name}"
        async with self._one_at_a_time:
            if self._taken_back(sharing, inbound.workspace):
                log.info("file %s not kept: its share was deleted while it was learned", name)
                return ""
            result = await self._library.add_bytes(target, name, origin, data)
        log.info(
            "file %s shared by %s in %s: %s, %d chunks%s",
            name,
            inbound.author.id,
            inbound.channel,
            result.status,
            result.chunks,
            f" ({result.error})" if result.error else "",
        )
        return learned_text(result, readers(inbound.audience.kind, self._workspace_word))

    def _refusal(self, name: str, size: int) -> str:
        """Why a file is refused before it is downloaded; "" when it may be."""
        if not _readable(name):
            known = ", ".join(sorted(PARSERS))
            suffix = PurePath(name).suffix.lower() or "no extension"
            return f"has an unsupported type ({suffix}); I read {known}"
        limit = self._learning.max_bytes
        if size > limit:
            return f"is {size_text(size)}, over the {size_text(limit)} limit for shared files"
        return ""


def _remember(recent: OrderedDict[tuple[str, str, str], None], key: tuple[str, str, str]) -> None:
    """Add ``key`` to ``recent``, forgetting the oldest past ``_REMEMBERED_SHARES``."""
    recent[key] = None
    if len(recent) > _REMEMBERED_SHARES:
        recent.popitem(last=False)


def _readable(name: str) -> bool:
    """A parser reads files called ``name``."""
    return PurePath(name).suffix.lower() in PARSERS


def learned_text(result: IngestResult, who: str) -> str:
    """One line telling the person what adding their file did; ``who`` says who the agent
    will use it for (``adapters.readers``)."""
    name, chunks = result.name, result.chunks
    match result.status:
        case IngestStatus.ADDED:
            return f"Learned {name}: {sections(chunks)} ({who})."
        case IngestStatus.UPDATED:
            return (
                f"Updated {name}: {result.written} new, {result.removed} removed, "
                f"{sections(chunks)} in all ({who})."
            )
        case IngestStatus.UNCHANGED:
            return f"I already know {name} ({sections(chunks)}); nothing changed."
        case IngestStatus.FAILED:
            return f"I couldn't learn {name}: it {result.error}."


def sections(count: int) -> str:
    return f"{count} section" if count == 1 else f"{count} sections"


def size_text(size: int) -> str:
    """A file size as people read it: KiB under a MiB, else MiB."""
    return f"{size / 2**10:.0f} KiB" if size < 2**20 else f"{size / 2**20:.1f} MiB"


async def download(shared: SharedFile, max_bytes: int) -> bytes:
    """The file's bytes, read no further than ``max_bytes``."""
    if not shared.url:
        raise DownloadError("could not be downloaded: the platform gave no address for it")
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(shared.url, headers=dict(shared.headers)) as response,
        ):
            if response.status != 200:
                raise DownloadError(f"could not be downloaded (HTTP {response.status})")
            html = response.content_type == "text/html"
            if html and PurePath(shared.name).suffix.lower() not in _HTML:
                # Slack answers a request without a valid token with its sign-in page.
                raise DownloadError(
                    "could not be downloaded: a web page came back instead of the file "
                    "(on Slack, give the app the files:read scope)"
                )
            data = bytearray()
            async for piece in response.content.iter_chunked(64 * 1024):
                data += piece
                if len(data) > max_bytes:
                    raise DownloadError(
                        f"is over the {size_text(max_bytes)} limit for shared files"
                    )
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise DownloadError(f"could not be downloaded ({error or type(error).__name__})") from None
