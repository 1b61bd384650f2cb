"""Running one custom tool call in its own confined process (DESIGN §4).

Whatever the tool does (hang, crash, print megabytes, return junk, reach for the network or
the bot's files), the caller gets a ``SandboxOutcome`` the agent can read, and the bot goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.tools.custom import CustomTool, argument_problems
from engine.tools.sandbox._bridge import MemoryBridge, MemoryRefused, answer_memory_call
from engine.tools.sandbox._limits import SandboxLimits
from engine.tools.sandbox._privileges import RunAs, unprivileged_user

log = logging.getLogger(__name__)

_BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
_LOG_TAIL = 1500
_EXIT_GRACE = 2.0
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class SandboxOutcome:
    """What the agent sees (``output``), whether the tool succeeded, and what it printed."""

    ok: bool
    output: str
    #: The tool's printed output, cut to ``SandboxLimits.kept_output_bytes``.
    logs: str = ""
    #: How the call was confined, e.g. "network namespace + audit hook; uid 65534".
    isolation: str = ""


class _Stopped(Exception):
    """The call was stopped by the parent; the message says why, for the agent."""


class Sandbox:
    """Runs custom tools, each call in a fresh process; safe to share across turns."""

    def __init__(
        self,
        *,
        hidden_paths: Sequence[Path] = (),
        max_concurrent: int = 4,
        python: str = sys.executable,
    ) -> None:
        """``hidden_paths``: the bot's data directory and secret files (such as ``.env``),
        covered from tools where a mount namespace is permitted (/proc always is).
        ``max_concurrent`` bounds the tool processes alive at once."""
        self._hidden = tuple(str(p.resolve()) for p in hidden_paths)
        self._slots = asyncio.Semaphore(max_concurrent)
        self._python = python
        self._user = unprivileged_user(python)

    async def run(
        self,
        tool: CustomTool,
        args: Mapping[str, Any],
        *,
        memory: MemoryBridge | None,
        limits: SandboxLimits,
    ) -> SandboxOutcome:
        problems = argument_problems(tool.parameters, args)
        if problems:
            return SandboxOutcome(
                False, f"Error: invalid arguments for {tool.name}: " + "; ".join(problems) + "."
            )
        async with self._slots:
            scratch = await asyncio.to_thread(_make_scratch, self._user)
            try:
                call = _Call(tool, args, memory, limits, scratch)
                return await call.run(self._python, self._user, self._hidden)
            finally:
                await asyncio.to_thread(shutil.rmtree, scratch, True)


def _make_scratch(user: RunAs | None) -> str:
    path = tempfile.mkdtemp(prefix="mnemo-tool-")
    if user is not None:
        os.chown(path, user.uid, user.gid)
    return path


@dataclass(eq=False, slots=True)
class _Call:
    """One process: the request, the conversation over its pipes, and its end."""

    tool: CustomTool
    args: Mapping[str, Any]
    memory: MemoryBridge | None
    limits: SandboxLimits
    scratch: str
    printed: bytearray = field(init=False, default_factory=bytearray)
    printed_total: int = field(init=False, default=0)
    isolation: str = field(init=False, default="")

    def _request(self, user: RunAs | None, hidden: Sequence[str]) -> dict[str, Any]:
        limits = self.limits
        return {
            "source": self.tool.source,
            "filename": Path(self.tool.origin).name or f"{self.tool.name}.py",
            "function": self.tool.function,
            "args": dict(self.args),
            "enums": dict(self.tool.enums),
            "result_chars": limits.result_chars,
            "isolate_network": limits.block_network,
            "uid": user.uid if user else None,
            "gid": user.gid if user else None,
            "hide": list(hidden),
            "limits": {
                "memory_bytes": limits.memory_bytes,
                "cpu_seconds": limits.cpu_seconds,
                "file_bytes": limits.file_bytes,
            },
        }

    async def run(self, python: str, user: RunAs | None, hidden: Sequence[str]) -> SandboxOutcome:
        process = await asyncio.create_subprocess_exec(
            python,
            "-I",
            "-B",
            str(_BOOTSTRAP),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=self.scratch,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.scratch},
            start_new_session=True,
            # A result line may be the whole return value, JSON-escaped.
            limit=8 * self.limits.result_chars + _CHUNK,
        )
        drain = asyncio.create_task(self._drain(process))
        reply: dict[str, Any] | _Stopped | None = None
        try:
            async with asyncio.timeout(self.limits.wall_seconds):
                reply = await self._converse(process, drain, self._request(user, hidden))
        except TimeoutError:
            reply = _Stopped(
                f"the tool did not finish within {self.limits.wall_seconds:g} s and was stopped"
            )
        except _Stopped as stopped:
            reply = stopped
        finally:
            await self._finish(process, drain, exited=isinstance(reply, dict))
        return self._outcome(reply, process.returncode)

    async def _converse(
        self,
        process: asyncio.subprocess.Process,
        drain: asyncio.Task[None],
        request: Mapping[str, Any],
    ) -> dict[str, Any] | None:
        """Send the request, answer memory calls; the final reply, or None at end of output."""
        assert process.stdout is not None
        await self._send(process, request)
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError as exc:  # a line over the stream limit
                raise _Stopped("the tool sent an oversized message and was stopped") from exc
            if not line:
                await drain
                return None
            try:
                message = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _Stopped("the tool broke the sandbox protocol and was stopped") from exc
            kind = message.get("t") if isinstance(message, dict) else None
            if kind == "ready":
                parts = (message.get(k) for k in ("network", "files", "user", "hook"))
                self.isolation = "; ".join(str(p) for p in parts if p)
            elif kind == "call":
                await self._send(process, await self._answer(message))
            elif kind in {"return", "error"}:
                return dict(message)
            else:
                raise _Stopped("the tool broke the sandbox protocol and was stopped")

    async def _answer(self, message: Mapping[str, Any]) -> dict[str, Any]:
        args = message.get("args")
        try:
            value = await answer_memory_call(
                self.memory, str(message.get("method")), args if isinstance(args, dict) else {}
            )
        except MemoryRefused as exc:
            return {"id": message.get("id"), "ok": False, "error": str(exc)}
        except Exception:
            log.exception(
                "memory call %r from tool %s failed", message.get("method"), self.tool.name
            )
            return {"id": message.get("id"), "ok": False, "error": "the memory call failed"}
        return {"id": message.get("id"), "ok": True, "value": value}

    async def _send(self, process: asyncio.subprocess.Process, message: Mapping[str, Any]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps(message).encode() + b"\n")
        try:
            await process.stdin.drain()
        except ConnectionError as exc:
            raise _Stopped("the tool process ended before reading its request") from exc

    async def _drain(self, process: asyncio.subprocess.Process) -> None:
        """Read what the tool prints, keeping the first bytes; stop a runaway printer."""
        assert process.stderr is not None
        while chunk := await process.stderr.read(_CHUNK):
            room = self.limits.kept_output_bytes - len(self.printed)
            if room > 0:
                self.printed += chunk[:room]
            self.printed_total += len(chunk)
            if self.printed_total > self.limits.max_output_bytes:
                _kill_group(process)
                return

    async def _finish(
        self, process: asyncio.subprocess.Process, drain: asyncio.Task[None], *, exited: bool
    ) -> None:
        """Make sure nothing of the call outlives it: the process group goes, pipes close.

        A tool that replied exits on its own at once; any other is killed straight away.
        """
        if exited:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_EXIT_GRACE):
                    await process.wait()
        _kill_group(process)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_EXIT_GRACE):
                await process.wait()
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain
        if process.stdin is not None:
            process.stdin.close()

    def _outcome(
        self, reply: dict[str, Any] | _Stopped | None, returncode: int | None
    ) -> SandboxOutcome:
        logs = self._logs()
        if isinstance(reply, dict) and reply.get("t") == "return":
            return SandboxOutcome(True, str(reply.get("value", "")), logs, self.isolation)
        if isinstance(reply, dict):
            problem = str(reply.get("message", "the tool failed"))
        elif isinstance(reply, _Stopped):
            problem = str(reply)
        elif self.printed_total > self.limits.max_output_bytes:
            problem = (
                f"the tool printed more than {self.limits.max_output_bytes // 2**20} MB and was "
                "stopped; return the result instead of printing it"
            )
        else:
            problem = _describe_exit(returncode, self.limits)
        text = f"Error: {self.tool.name} failed: {problem}"
        if logs and not isinstance(reply, dict):
            text += f"\nLast output:\n{logs[-_LOG_TAIL:]}"
        return SandboxOutcome(False, text, logs, self.isolation)

    def _logs(self) -> str:
        text = self.printed.decode("utf-8", "replace")
        cut = self.printed_total - len(self.printed)
        if cut > 0:
            text += f"\n[... {cut} more bytes of output cut]"
        return text


def _kill_group(process: asyncio.subprocess.Process) -> None:
    # The child leads its own session (start_new_session), so its group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _describe_exit(returncode: int | None, limits: SandboxLimits) -> str:
    if returncode is None:
        return "the tool process could not be stopped"
    if returncode >= 0:
        return (
            f"the tool process exited (status {returncode}) before returning a value "
            "(os._exit or a crash)"
        )
    signum = -returncode
    if signum == signal.SIGSEGV:
        return "the tool crashed (segmentation fault)"
    if signum == signal.SIGXCPU:
        return f"the tool used more than {limits.cpu_seconds} s of CPU time and was stopped"
    if signum == signal.SIGKILL:
        return "the tool process was killed (it may have run out of memory)"
    return f"the tool crashed ({signal.Signals(signum).name})"
