"""A scripted OpenAI-compatible server, so tests drive the real `openai` client over HTTP.

In-process::

    async with FakeOpenAI() as llm:
        llm.push(tool_call("send_message", message="hi"), error(429, retry_after=1))
        client = AsyncOpenAI(base_url=llm.base_url, api_key="test")
        ...
        assert llm.requests[0]["tool_choice"] == "required"

As a separate process (for tests that start and kill bot processes)::

    async with FakeOpenAIProcess() as llm:      # python -m tests.fakes.openai_server --port 0
        await llm.push(text("hello"))
        await llm.block()                        # chat responses wait until unblock()
        await llm.wait_for_in_flight(1)

Each chat request takes the next scripted step; with the queue empty the default responder
answers (by default: `send_message` echoing the last user message, or plain text when the
request offers no `send_message` tool). Embeddings are deterministic hashed bags of words, so
texts sharing words are similar. ``quirks`` make it behave like a local server (tool calls
written as text, a 500 on ``tool_choice="required"``, context sizes in ``/v1/models`` and
``/props``, ``max_tokens`` required, slow answers): see ``tests.fakes.local_server``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
import numpy as np
from aiohttp import web

from tests.fakes.local_server import ServerQuirks, calls_as_text

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    """One tool call the fake model makes."""

    name: str
    arguments: str  # raw JSON text, exactly as the client will receive it


@dataclass(frozen=True, slots=True)
class ToolCalls:
    """Answer with one or more tool calls (and optional assistant text)."""

    calls: tuple[Call, ...]
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """Answer with plain assistant text and no tool call."""

    text: str


@dataclass(frozen=True, slots=True)
class NoChoices:
    """Answer 200 with an empty ``choices`` list, as some servers do under load."""


@dataclass(frozen=True, slots=True)
class Error:
    """Answer with an HTTP error in OpenAI's error shape."""

    status: int
    message: str = "scripted error"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Delay:
    """Wait `seconds` before answering with `then` (the default responder when None).

    A long delay is a hang: the client's timeout fires first.
    """

    seconds: float
    then: ToolCalls | Text | Error | NoChoices | None = None


Step = ToolCalls | Text | Error | NoChoices | Delay
Responder = Callable[[JSON], Step]


def tool_call(name: str, /, **arguments: Any) -> ToolCalls:
    """A step calling one tool with keyword arguments as its JSON arguments."""
    return ToolCalls((Call(name, json.dumps(arguments)),))


def tool_calls(*calls: tuple[str, Mapping[str, Any]]) -> ToolCalls:
    """A step calling several tools at once: `tool_calls(("a", {...}), ("b", {...}))`."""
    return ToolCalls(tuple(Call(name, json.dumps(dict(args))) for name, args in calls))


def text(content: str) -> Text:
    return Text(content)


def error(
    status: int, message: str = "scripted error", *, retry_after: float | None = None
) -> Error:
    """An HTTP error; `retry_after` adds a `Retry-After` header (seconds)."""
    headers = () if retry_after is None else (("Retry-After", f"{retry_after:g}"),)
    return Error(status, message, headers)


def delay(seconds: float, then: ToolCalls | Text | Error | NoChoices | None = None) -> Delay:
    return Delay(seconds, then)


def last_user_text(body: JSON) -> str:
    """The text of the last user message of a chat request ('' when there is none)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(part.get("text", "")) for part in content)
    return ""


def echo_responder(body: JSON) -> Step:
    """Default answer: `send_message` echoing the last user message, or text without tools."""
    reply = f"echo: {last_user_text(body)}"
    offered = {tool.get("function", {}).get("name") for tool in body.get("tools") or []}
    if "send_message" in offered:
        return tool_call("send_message", message=reply)
    return Text(reply)


# --- streaming (``stream=True``) ----------------------------------------------------------


@dataclass(slots=True)
class StreamPacing:
    """How a streamed answer is cut: characters of text or arguments per chunk, and the
    seconds the server waits between chunks (a model writing)."""

    piece: int = 8
    gap: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamedChunk:
    """One chunk the server wrote: when (``time.perf_counter``), and the text or argument
    characters it carried."""

    at: float
    carried: str


def stream_chunks(step: ToolCalls | Text | NoChoices, n: int, body: JSON, piece: int) -> list[JSON]:
    """The ``chat.completion.chunk`` objects of one answer: the role, the content or each tool
    call (id and name first, then its arguments ``piece`` characters at a time), the finish
    reason, and the usage when ``stream_options.include_usage`` asks for it."""

    def chunk(choices: list[JSON], usage: JSON | None = None) -> JSON:
        return {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": choices,
            "usage": usage,
        }

    def delta(content: JSON, finish: str | None = None) -> JSON:
        return chunk([{"index": 0, "delta": content, "finish_reason": finish}])

    def pieces(text: str) -> list[str]:
        return [text[i : i + piece] for i in range(0, len(text), piece)]

    chunks: list[JSON] = []
    completion_chars = 0
    if not isinstance(step, NoChoices):
        chunks.append(delta({"role": "assistant", "content": ""}))
        content = step.text or ""
        chunks += [delta({"content": part}) for part in pieces(content)]
        completion_chars += len(content)
    if isinstance(step, ToolCalls):
        for i, call in enumerate(step.calls):
            head = {"index": i, "id": f"call_{n}_{i}", "type": "function"}
            head["function"] = {"name": call.name, "arguments": ""}
            chunks.append(delta({"tool_calls": [head]}))
            chunks += [
                delta({"tool_calls": [{"index": i, "function": {"arguments": part}}]})
                for part in pieces(call.arguments)
            ]
            completion_chars += len(call.name) + len(call.arguments)
        chunks.append(delta({}, "tool_calls"))
    elif isinstance(step, Text):
        chunks.append(delta({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        prompt_tokens = len(json.dumps(body.get("messages", []))) // 4 + 1
        completion_tokens = completion_chars // 4 + 1
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        chunks.append(chunk([], usage))
    return chunks


def _chunk_text(chunk: JSON) -> str:
    """The text or argument characters a chunk carries."""
    carried = ""
    for choice in chunk["choices"]:
        carried += choice["delta"].get("content") or ""
        for call in choice["delta"].get("tool_calls") or ():
            carried += call.get("function", {}).get("arguments") or ""
    return carried


# --- wire (de)serialisation of steps, for the control endpoint ------------------------------


def step_to_json(step: Step) -> JSON:
    match step:
        case ToolCalls(calls, content):
            return {
                "type": "tool_calls",
                "calls": [{"name": c.name, "arguments": c.arguments} for c in calls],
                "text": content,
            }
        case Text(content):
            return {"type": "text", "text": content}
        case NoChoices():
            return {"type": "no_choices"}
        case Error(status, message, headers):
            return {"type": "error", "status": status, "message": message, "headers": headers}
        case Delay(seconds, then):
            return {
                "type": "delay",
                "seconds": seconds,
                "then": None if then is None else step_to_json(then),
            }


def step_from_json(data: JSON) -> Step:
    kind = data["type"]
    if kind == "tool_calls":
        calls = tuple(
            Call(
                c["name"],
                c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"]),
            )
            for c in data["calls"]
        )
        return ToolCalls(calls, data.get("text"))
    if kind == "text":
        return Text(data["text"])
    if kind == "no_choices":
        return NoChoices()
    if kind == "error":
        headers = tuple((str(k), str(v)) for k, v in data.get("headers", ()))
        return Error(int(data["status"]), data.get("message", "scripted error"), headers)
    if kind == "delay":
        then = data.get("then")
        inner = None if then is None else step_from_json(then)
        if isinstance(inner, Delay):
            raise ValueError("a delay cannot wrap another delay")
        return Delay(float(data["seconds"]), inner)
    raise ValueError(f"unknown step type {kind!r}")


# --- deterministic embeddings ---------------------------------------------------------------

_WORD = re.compile(r"\w+")


def fake_embedding(content: str, dimensions: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """A unit vector from hashed words: same text -> same vector, shared words -> similar."""
    vector = np.zeros(dimensions, dtype=np.float32)
    for word in _WORD.findall(content.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = float(np.linalg.norm(vector))
    if norm == 0.0:
        vector[0] = 1.0
        return vector
    return vector / norm


# --- the server ------------------------------------------------------------------------------


@dataclass
class _State:
    steps: deque[Step] = field(default_factory=deque)
    requests: list[JSON] = field(default_factory=list)
    in_flight: int = 0
    unblocked: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    counter: int = 0


class FakeOpenAI:
    """The fake server on an ephemeral local port; an async context manager."""

    def __init__(
        self,
        *,
        responder: Responder = echo_responder,
        embedding_dimensions: int = 64,
        host: str = "127.0.0.1",
        port: int = 0,
        quirks: ServerQuirks | None = None,
    ) -> None:
        self.responder = responder
        #: How this server differs from OpenAI's (none by default); may change mid-test.
        self.quirks = quirks or ServerQuirks()
        self.embedding_dimensions = embedding_dimensions
        self._host = host
        self._port = port
        self._state = _State()
        self._state.unblocked.set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: How a ``stream=True`` answer is written: characters per chunk, seconds between.
        self.stream_pacing = StreamPacing()
        #: When each streamed chunk was written (``time.perf_counter``) and what it carried.
        self.stream_log: list[StreamedChunk] = []
        self._stream_hold: int | None = None
        self._stream_released = asyncio.Event()

    @property
    def base_url(self) -> str:
        """The URL to give the `openai` client (ends in /v1)."""
        return f"http://{self._host}:{self.port}/v1"

    @property
    def requests(self) -> list[JSON]:
        """Every chat and embeddings request body, in arrival order (embeddings have `input`)."""
        return self._state.requests

    @property
    def chat_requests(self) -> list[JSON]:
        return [r for r in self._state.requests if "messages" in r]

    @property
    def in_flight(self) -> int:
        """Chat requests received and not yet answered."""
        return self._state.in_flight

    @property
    def pending_steps(self) -> int:
        return len(self._state.steps)

    def push(self, *steps: Step) -> None:
        """Queue steps; each chat request consumes one, oldest first."""
        self._state.steps.extend(steps)

    def block(self) -> None:
        """Hold every chat response (after recording the request) until `unblock`."""
        self._state.unblocked.clear()

    def unblock(self) -> None:
        self._state.unblocked.set()

    def hold_stream_after(self, chunks: int) -> None:
        """Stop every streamed answer after ``chunks`` chunks until ``release_stream``: a model
        that is still writing."""
        self._stream_hold = chunks
        self._stream_released.clear()

    def release_stream(self) -> None:
        self._stream_hold = None
        self._stream_released.set()

    def reset(self) -> None:
        """Forget queued steps and recorded requests, and unblock."""
        self._state.steps.clear()
        self._state.requests.clear()
        self._state.unblocked.set()

    async def wait_for_requests(self, count: int) -> None:
        """Wait until at least `count` chat requests have arrived (wrap in `asyncio.timeout`)."""
        await self._wait_until(lambda: len(self.chat_requests) >= count)

    async def wait_for_in_flight(self, count: int = 1) -> None:
        """Wait until at least `count` chat requests are being answered (e.g. held by block)."""
        await self._wait_until(lambda: self._state.in_flight >= count)

    async def _wait_until(self, predicate: Callable[[], bool]) -> None:
        async with self._state.changed:
            await self._state.changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._state.changed:
            self._state.changed.notify_all()

    # -- lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        self._runner = web.AppRunner(self._app(), handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self._state.unblocked.set()
        self._stream_released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.post("/v1/chat/completions", self._chat),
                web.post("/v1/embeddings", self._embeddings),
                web.get("/v1/models", self._models),
                web.get("/props", self._props),
                web.post("/control/steps", self._control_push),
                web.get("/control/requests", self._control_requests),
                web.get("/control/state", self._control_state),
                web.post("/control/block", self._control_block),
                web.post("/control/unblock", self._control_unblock),
                web.post("/control/reset", self._control_reset),
                web.post("/control/wait", self._control_wait),
                web.post("/control/stream", self._control_stream),
            ]
        )
        return app

    # -- OpenAI endpoints

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body: JSON = await request.json()
        self._state.requests.append(body)
        self._state.in_flight += 1
        await self._notify()
        try:
            await self._state.unblocked.wait()
            refused = self.quirks.refusal(body)
            if refused is not None:
                return self._chat_response(body, Error(*refused))
            await asyncio.sleep(self.quirks.seconds_per_answer)
            step = self._state.steps.popleft() if self._state.steps else self.responder(body)
            if isinstance(step, Delay):
                await asyncio.sleep(step.seconds)
                step = step.then if step.then is not None else self.responder(body)
                if isinstance(step, Delay):
                    raise TypeError("a delay cannot resolve to another delay")
            if body.get("stream") and not isinstance(step, Error):
                return await self._chat_stream(request, body, step)
            return self._chat_response(body, step)
        finally:
            self._state.in_flight -= 1
            await self._notify()

    def _chat_response(
        self, body: JSON, step: ToolCalls | Text | Error | NoChoices
    ) -> web.Response:
        if isinstance(step, Error):
            kind = "rate_limit_error" if step.status == 429 else "invalid_request_error"
            return web.json_response(
                {"error": {"message": step.message, "type": kind, "code": None, "param": None}},
                status=step.status,
                headers=dict(step.headers),
            )
        if isinstance(step, ToolCalls) and self.quirks.calls_as != "structured":
            written = [(c.name, c.arguments) for c in step.calls]
            step = Text(calls_as_text(self.quirks.calls_as, written))
        self._state.counter += 1
        n = self._state.counter
        message: JSON = {"role": "assistant", "content": None}
        completion_chars = 0
        finish = "stop"
        if isinstance(step, Text):
            message["content"] = step.text
            finish = "stop"
            completion_chars = len(step.text)
        elif isinstance(step, ToolCalls):
            message["content"] = step.text
            message["tool_calls"] = [
                {
                    "id": f"call_{n}_{i}",
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for i, c in enumerate(step.calls)
            ]
            finish = "tool_calls"
            completion_chars = sum(len(c.name) + len(c.arguments) for c in step.calls)
        prompt_tokens = len(json.dumps(body.get("messages", []))) // 4 + 1
        completion_tokens = completion_chars // 4 + 1
        return web.json_response(
            {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": []
                if isinstance(step, NoChoices)
                else [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    async def _chat_stream(
        self, request: web.Request, body: JSON, step: ToolCalls | Text | NoChoices
    ) -> web.StreamResponse:
        """The answer as server-sent events, chunked as OpenAI streams it."""
        if isinstance(step, ToolCalls) and self.quirks.calls_as != "structured":
            written = [(c.name, c.arguments) for c in step.calls]
            step = Text(calls_as_text(self.quirks.calls_as, written))
        self._state.counter += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        pacing = self.stream_pacing
        chunks = stream_chunks(step, self._state.counter, body, pacing.piece)
        for number, chunk in enumerate(chunks):
            if self._stream_hold is not None and number == self._stream_hold:
                await self._stream_released.wait()
            if number and pacing.gap:
                await asyncio.sleep(pacing.gap)
            self.stream_log.append(StreamedChunk(time.perf_counter(), _chunk_text(chunk)))
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body: JSON = await request.json()
        self._state.requests.append(body)
        raw = body["input"]
        inputs: list[str] = [raw] if isinstance(raw, str) else list(raw)
        dimensions = int(body.get("dimensions") or self.embedding_dimensions)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, item in enumerate(inputs):
            vector = fake_embedding(str(item), dimensions)
            encoded: object = (
                base64.b64encode(vector.astype("<f4").tobytes()).decode()
                if as_base64
                else vector.tolist()
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(str(item)) // 4 + 1 for item in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "fake-embedding"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(self.quirks.models())

    async def _props(self, request: web.Request) -> web.Response:
        """llama.cpp's server properties (its running context size); 404 elsewhere."""
        if self.quirks.props is None:
            raise web.HTTPNotFound()
        return web.json_response(dict(self.quirks.props))

    # -- control endpoints (for the separate-process mode)

    async def _control_push(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.push(*(step_from_json(item) for item in payload["steps"]))
        return web.json_response({"pending_steps": self.pending_steps})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self._state.requests})

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pending_steps": self.pending_steps,
                "in_flight": self._state.in_flight,
                "blocked": not self._state.unblocked.is_set(),
                "chat_requests": len(self.chat_requests),
            }
        )

    async def _control_block(self, request: web.Request) -> web.Response:
        self.block()
        return web.json_response({"blocked": True})

    async def _control_unblock(self, request: web.Request) -> web.Response:
        self.unblock()
        return web.json_response({"blocked": False})

    async def _control_wait(self, request: web.Request) -> web.Response:
        """Long-poll: answer once `in_flight` and `chat_requests` reach the given counts."""
        payload = await request.json()
        in_flight = int(payload.get("in_flight", 0))
        chat_requests = int(payload.get("chat_requests", 0))
        await self._wait_until(
            lambda: self._state.in_flight >= in_flight and len(self.chat_requests) >= chat_requests
        )
        return web.json_response({"in_flight": self._state.in_flight})

    async def _control_stream(self, request: web.Request) -> web.Response:
        """Hold streamed answers after ``hold_after`` chunks (null: release them)."""
        payload = await request.json()
        hold = payload.get("hold_after")
        if hold is None:
            self.release_stream()
        else:
            self.hold_stream_after(int(hold))
        return web.json_response({"hold_after": hold})

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})


class FakeOpenAIProcess:
    """The fake server in its own process, scripted over its control endpoint."""

    def __init__(self, *, embedding_dimensions: int = 64) -> None:
        self._embedding_dimensions = embedding_dimensions
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def _control(self) -> str:
        return f"http://127.0.0.1:{self.port}/control"

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.openai_server",
            "--port",
            "0",
            "--embedding-dimensions",
            str(self._embedding_dimensions),
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        async with asyncio.timeout(15):
            line = await self._process.stdout.readline()
        self.port = int(json.loads(line)["port"])
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
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            async with asyncio.timeout(5):
                await self._process.wait()

    async def _post(
        self, path: str, payload: JSON | None = None, *, long_poll: bool = False
    ) -> JSON:
        assert self._http is not None
        timeout = aiohttp.ClientTimeout(total=None) if long_poll else None
        async with self._http.post(
            f"{self._control}/{path}", json=payload or {}, timeout=timeout
        ) as response:
            response.raise_for_status()
            result: JSON = await response.json()
            return result

    async def _get(self, path: str) -> JSON:
        assert self._http is not None
        async with self._http.get(f"{self._control}/{path}") as response:
            response.raise_for_status()
            result: JSON = await response.json()
            return result

    async def push(self, *steps: Step) -> None:
        await self._post("steps", {"steps": [step_to_json(s) for s in steps]})

    async def requests(self) -> list[JSON]:
        result: list[JSON] = (await self._get("requests"))["requests"]
        return result

    async def state(self) -> JSON:
        """`pending_steps`, `in_flight`, `blocked` and `chat_requests`."""
        return await self._get("state")

    async def block(self) -> None:
        await self._post("block")

    async def unblock(self) -> None:
        await self._post("unblock")

    async def reset(self) -> None:
        await self._post("reset")

    async def wait_for_requests(self, count: int) -> None:
        """Wait until at least `count` chat requests have arrived (wrap in `asyncio.timeout`)."""
        await self._post("wait", {"chat_requests": count}, long_poll=True)

    async def wait_for_in_flight(self, count: int = 1) -> None:
        """Wait until at least `count` chat requests are being answered (wrap in a timeout)."""
        await self._post("wait", {"in_flight": count}, long_poll=True)

    async def hold_stream_after(self, chunks: int) -> None:
        await self._post("stream", {"hold_after": chunks})

    async def release_stream(self) -> None:
        await self._post("stream", {"hold_after": None})


async def _serve(port: int, embedding_dimensions: int) -> None:
    async with FakeOpenAI(port=port, embedding_dimensions=embedding_dimensions) as server:
        print(json.dumps({"port": server.port, "base_url": server.base_url}), flush=True)
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible fake server.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--embedding-dimensions", type=int, default=64)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.embedding_dimensions))


if __name__ == "__main__":
    main()
