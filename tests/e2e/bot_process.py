"""Start, talk to and kill ``tests.e2e.crash_bot`` processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


async def crash_bot_environment(store: str, data_dir: Path) -> dict[str, str]:
    """The environment of crash bots sharing one store: "sqlite" (under ``data_dir``) or
    "mongo" (a fresh database on the test MongoDB)."""
    env = dict(os.environ)
    env.update(
        {
            "OPENAI_API_KEY": "test-key",
            "MNEMO_DATA_DIR": str(data_dir),
            "MNEMO_LLM_TIMEOUT": "30",
            "MNEMO_LOG_LEVEL": "INFO",
        }
    )
    env.pop("MONGODB_URI", None)
    if store == "mongo":
        from engine.embeddings import LocalEmbedder
        from tests.fakes.mongo_wire import ensure_test_vector_indexes, mongo_test_uri

        database = f"crash_{uuid.uuid4().hex[:10]}"
        env["MONGODB_URI"] = os.environ.get("MONGODB_URI") or mongo_test_uri()
        env["MONGODB_DATABASE"] = database
        await ensure_test_vector_indexes(database, LocalEmbedder().dimensions)
    return env


class BotProcess:
    def __init__(self, env: dict[str, str], log: Path, module: str = "tests.e2e.crash_bot") -> None:
        """``module``: the crash bot to run (``tests.e2e.stream_crash_bot`` delivers to Slack)."""
        self._env = env
        self._log = log
        self._module = module
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        with self._log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self._module,
                cwd=REPO,
                env=self._env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        assert self._process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the bot did not start; see {self._log}:\n{self._log.read_text()}")
        self.port = int(json.loads(line)["port"])
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                await self.kill()

    async def say(
        self, text: str, *, channel: str, user: str = "U1", thread: str = ""
    ) -> dict[str, Any]:
        """Send one message (in ``thread``, when given); returns the engine's answer
        (outcome, inbox_id, reason)."""
        assert self._http is not None
        payload = {
            "text": text,
            "channel": channel,
            "user": user,
            "event_id": f"E-{text}",
            "thread": thread,
        }
        async with self._http.post(f"http://127.0.0.1:{self.port}/inbound", json=payload) as r:
            r.raise_for_status()
            result: dict[str, Any] = await r.json()
            return result

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the bot."""
        process = self._process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGKILL)
            await process.wait()
