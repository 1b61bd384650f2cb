"""``mnemo run`` as an operator starts it: a child process configured by its environment, with
no terminal, JSON logs on stderr, probed over HTTP, stopped with SIGTERM.

No platform token is set, so messages reach it the way a platform adapter on another replica
would hand them over: written to the shared store's inbox, where the process's dispatcher
finds them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

from engine.audience import Audience, AudienceKind
from engine.records import Author, Inbound, new_id, utcnow
from engine.store.protocol import Store
from engine.store.queues import InboxItem, InboxStatus

START_TIMEOUT = 60.0
WORKSPACE = "console:e2e"
#: Variables of the test runner's environment that must not configure the bot under test.
_FOREIGN_SETTINGS = ("OPENAI_", "MONGODB_", "MNEMO_", "SLACK_", "DISCORD_")


def bot_environment(**settings: str) -> dict[str, str]:
    """The runner's environment without any Mnemo setting, plus ``settings``.

    Background jobs are off: they call the model on their own schedule, and the tests count
    the model calls of turns.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_SETTINGS)}
    env["MNEMO_JOBS_ENABLED"] = "false"
    env.update(settings)
    return env


class MnemoProcess:
    def __init__(
        self,
        env: dict[str, str],
        workdir: Path,
        name: str,
        *,
        module: tuple[str, ...] = ("bot.cli", "run"),
    ) -> None:
        """``module``: what ``python -m`` runs (a launcher pointing the bots at fakes)."""
        self._env = env
        self._module = module
        self._workdir = workdir
        self._log_path = workdir / f"{name}.log"
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._serving = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.lines: list[str] = []
        self.port = 0

    async def __aenter__(self) -> Self:
        # The working directory is the test's own, so no developer .env is read.
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *self._module,
            cwd=self._workdir,
            env=self._env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read_logs())
        try:
            async with asyncio.timeout(START_TIMEOUT):
                await self._serving.wait()
        except TimeoutError:
            await self._kill()
            raise
        if not self.port:
            await self._kill()
            raise RuntimeError("mnemo run exited before serving:\n" + "\n".join(self.lines))
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
        await self._kill()

    @property
    def records(self) -> list[dict[str, Any]]:
        """The log lines, parsed (each one must be a JSON object)."""
        return [json.loads(line) for line in self.lines]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def get(self, path: str) -> tuple[int, str, str]:
        """Status, content type and body of ``GET path``."""
        assert self._http is not None
        async with self._http.get(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()

    def terminate(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)

    async def exited(self) -> int:
        """The exit status, once the process has ended and its logs are read (wrap in a
        timeout)."""
        assert self._process is not None
        assert self._reader is not None
        code = await self._process.wait()
        await self._reader
        return code

    async def _read_logs(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        with self._log_path.open("a") as log:
            async for raw in self._process.stderr:
                line = raw.decode(errors="replace").rstrip("\n")
                log.write(line + "\n")
                self.lines.append(line)
                if not self.port and line.startswith("{"):
                    self.port = int(json.loads(line).get("port", 0))
                    if self.port:
                        self._serving.set()
        self._serving.set()  # exited: wake a start that is still waiting

    async def _kill(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        if self._reader is not None:
            await self._reader


async def hand_over(
    store: Store, agent_id: str, text: str, *, channel: str, respond: bool = True
) -> str:
    """Write a user's message to the inbox as an adapter would; returns its inbox id.

    With ``respond`` False the bot only listens: it stores the message and calls no model.
    """
    message_id = new_id()
    inbound = Inbound(
        platform="console",
        agent_id=agent_id,
        audience=Audience(WORKSPACE, AudienceKind.PUBLIC, channel),
        thread="",
        author=Author("U1", "Una"),
        text=text,
        event_id=message_id,
        message_ref=message_id,
        sent_at=utcnow(),
        respond=respond,
        channel_name=f"#{channel}",
    )
    item = InboxItem.pending(inbound)
    assert await store.inbox.put(item)
    return item.id


async def wait_status(store: Store, inbox_id: str, status: InboxStatus) -> None:
    """Return once the item has ``status`` (wrap in a timeout)."""
    while True:
        item = await store.inbox.get(inbox_id)
        if item is not None and item.status is status:
            return
        await asyncio.sleep(0.1)
