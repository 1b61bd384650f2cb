"""The chat-completions client: one tool-calling step against any OpenAI-compatible endpoint.

Every failure goes through one classification (``diagnose``): a rate limit or a transient
server error is retried with backoff (honouring `Retry-After`) inside one time budget; a server
that refuses ``tool_choice="required"`` (a 400 naming it, or llama-cpp-python's 500) is asked
again with ``"auto"``; an endpoint that cannot be reached, a refused key or an unknown model is
reported at once, since asking again changes nothing. Retries log at DEBUG; the failure that
ends a step is described once, with the URL and the cause, by whoever catches it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from engine.backoff import Backoff
from engine.chat_stream import StreamListener, read_answer
from engine.llm_answer import ModelAnswer, UnreadableAnswer, read_completion
from engine.llm_body import BodyEncoder
from engine.llm_errors import Action, Diagnosis
from engine.llm_errors import ToolChoice as ToolChoice
from engine.llm_errors import diagnose as diagnose
from engine.records import DEFAULT_MAX_TOKENS, ToolCall
from engine.text_tool_calls import correction, looks_like_tool_call, parse_text_tool_calls

log = logging.getLogger(__name__)

#: Consecutive failed steps after which the endpoint counts as unreachable (readiness).
UNREACHABLE_AFTER = 3

#: Server errors on "required" answered by "auto" after which a model always gets "auto".
_FALLBACKS_TO_REMEMBER = 2
#: Refusals that fail every request alike (key, permission, model name), not just this one.
_ENDPOINT_FAULTS = frozenset({401, 403, 404})
#: The SDK's telemetry headers (language, OS, runtime, retry count, ...) tell an endpoint
#: nothing it needs, and each is built, validated and sent with every step: not sent.
_UNSENT_HEADERS: dict[str, str | openai.Omit] = {
    name: openai.Omit()
    for name in (
        "X-Stainless-Lang",
        "X-Stainless-Package-Version",
        "X-Stainless-OS",
        "X-Stainless-Arch",
        "X-Stainless-Runtime",
        "X-Stainless-Runtime-Version",
        "X-Stainless-Async",
        "X-Stainless-Retry-Count",
        "X-Stainless-Read-Timeout",
    )
}


class LLMError(Exception):
    """The model could not produce a step for this turn."""


class LLMUnavailable(LLMError):
    """The endpoint could not be reached, or kept failing for the whole retry budget."""


class LLMRejected(LLMError):
    """The endpoint refused the request itself (bad request, auth, unknown model): no retry."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One step asked of a model: the conversation so far and the tools it may call."""

    model: str
    messages: Sequence[Mapping[str, Any]]
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: ToolChoice = "required"
    #: The most tokens the answer may take; None for the client's default.
    max_tokens: int | None = None
    #: Who hears the answer as it is written; the client streams it when set (and allowed).
    listener: StreamListener | None = field(default=None, compare=False)

    def body(self) -> dict[str, Any]:
        """The chat-completions request body."""
        body: dict[str, Any] = {"model": self.model, "messages": list(self.messages)}
        if self.tools:
            body["tools"] = list(self.tools)
            body["tool_choice"] = self.tool_choice
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body

    @property
    def offered(self) -> frozenset[str]:
        """Names of the tools the request offers."""
        return frozenset(str(tool.get("function", {}).get("name", "")) for tool in self.tools)


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """One model step: the tool calls it made, any text, and what it cost."""

    tool_calls: tuple[ToolCall, ...]
    text: str | None
    usage: Usage
    model: str


class ChatModel(Protocol):
    """One chat completion: the LLM client, or a wrapper that counts a job's budget."""

    async def complete(self, request: ChatRequest) -> Completion: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how hard to retry one step before giving up."""

    total_seconds: float = 60.0  # wall-clock budget for the step, retries and waits included
    request_timeout: float = 30.0  # one HTTP attempt
    #: Waits between attempts (jittered) when the server does not say how long.
    backoff: Backoff = field(default_factory=lambda: Backoff(base=0.5, ceiling=8.0))


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """Counters since the client started, for metrics."""

    requests: int
    retries: int
    failures: int
    usage: Usage


class LLMClient:
    """Asks the model for one step; owns retries, timeouts and the tool_choice fallback."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        stream: bool = True,
    ) -> None:
        self._retry = retry or RetryPolicy()
        #: Whether steps with a listener are streamed (``stream=True``); off, every step is
        #: asked whole and the listener hears nothing.
        self._stream = stream
        # Retries are ours (one wall-clock budget across attempts), so the SDK's are off.
        self._client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "unset",
            max_retries=0,
            timeout=self._retry.request_timeout,
        )
        self._rng = rng or random.Random()
        self._body = BodyEncoder()
        self._max_tokens = max_tokens
        self._auto_only_models: set[str] = set()
        #: Models whose server refused a streamed request.
        self._unstreamed: set[str] = set()
        self._auto_fallbacks: dict[str, int] = {}
        self._requests = 0
        self._retries = 0
        self._failures = 0
        self._failing = 0
        self._last_failure = ""
        self._usage = Usage()

    @property
    def totals(self) -> UsageTotals:
        return UsageTotals(self._requests, self._retries, self._failures, self._usage)

    @property
    def base_url(self) -> str:
        """The endpoint, as OPENAI_BASE_URL set it (ends in /v1)."""
        return str(self._client.base_url).rstrip("/")

    @property
    def failing_steps(self) -> int:
        """Steps in a row that failed for good (0 after a step succeeds)."""
        return self._failing

    @property
    def unreachable(self) -> str | None:
        """Why the endpoint counts as unreachable (several steps in a row failed for good),
        or None; the next step that succeeds clears it."""
        return self._last_failure if self._failing >= UNREACHABLE_AFTER else None

    async def aclose(self) -> None:
        await self._client.close()

    async def get_json(self, path: str, wait_s: float) -> Any:
        """GET ``path`` (under the base URL, or absolute) and return its JSON, waiting at most
        ``wait_s`` seconds."""
        return await self._client.get(path, cast_to=object, options={"timeout": wait_s})

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion; raise `LLMUnavailable` or `LLMRejected` on failure."""
        if request.max_tokens is None:
            request = replace(request, max_tokens=self._max_tokens)
        completion = await self._step(request)
        if completion.tool_calls or not request.tools or not completion.text:
            return completion
        if not looks_like_tool_call(completion.text):
            return completion
        # A call the server could not parse either: ask once more, saying what was wrong;
        # a second miss is no answer (never that text shown to a user).
        log.info("model %s wrote an unreadable tool call; asking again", request.model)
        retried = await self._step(
            replace(request, messages=[*request.messages, *correction(completion.text)])
        )
        if retried.text and looks_like_tool_call(retried.text) and not retried.tool_calls:
            log.warning("model %s wrote an unreadable tool call twice", request.model)
            return replace(retried, text=None, usage=completion.usage + retried.usage)
        return replace(retried, usage=completion.usage + retried.usage)

    async def _step(self, request: ChatRequest) -> Completion:
        """One step with retries and the tool_choice fallback, under the time budget."""
        model = request.model
        if request.tool_choice == "required" and model in self._auto_only_models:
            request = replace(request, tool_choice="auto")
        deadline = time.monotonic() + self._retry.total_seconds
        attempt = 0
        #: The failure of "required" that the request now falls back from, if it does.
        fell_back: Diagnosis | None = None
        while True:
            try:
                completion = await self._request(request, deadline - time.monotonic())
            except openai.APIError as exc:
                found = diagnose(exc, self.base_url, request.tool_choice)
            except UnreadableAnswer as exc:
                found = Diagnosis(Action.RETRY, f"unreadable answer from {self.base_url} ({exc})")
            else:
                if fell_back is not None:
                    self._fell_back(model, fell_back)
                self._failing = 0
                return completion
            if fell_back is not None:
                request, fell_back = replace(request, tool_choice="required"), None
            if found.action is Action.FALL_BACK:
                request, fell_back = replace(request, tool_choice="auto"), found
                log.debug("LLM %s: %s; asking again with tool_choice=auto", model, found.reason)
                continue
            if found.action is Action.TELL_USER:
                raise self._failed(found, model)
            wait = found.wait
            if wait is None:
                wait = self._retry.backoff.delay(attempt + 1, jitter=self._rng)
            if wait >= deadline - time.monotonic():
                raise self._failed(found, model, attempt + 1)
            log.debug("LLM %s: %s; retry %d in %.2f s", model, found.reason, attempt + 1, wait)
            self._retries += 1
            attempt += 1
            await asyncio.sleep(wait)

    def _fell_back(self, model: str, cause: Diagnosis) -> None:
        """ "auto" worked right after "required" failed: a 400 naming it says the model can't
        do it; a server error says so the second time (once may have been a hiccup)."""
        self._auto_fallbacks[model] = self._auto_fallbacks.get(model, 0) + 1
        if cause.status == 400 or self._auto_fallbacks[model] >= _FALLBACKS_TO_REMEMBER:
            log.warning("model %s fails tool_choice=required; using auto", model)
            self._auto_only_models.add(model)

    def _failed(self, found: Diagnosis, model: str, attempts: int = 0) -> LLMError:
        """The error that ends a step; counted, and remembered for readiness unless the
        request itself was at fault."""
        self._failures += 1
        if found.status is not None and found.action is Action.TELL_USER:
            error: LLMError = LLMRejected(f"LLM request rejected ({found.reason})", found.status)
            if found.status not in _ENDPOINT_FAULTS:
                return error
        elif attempts:
            error = LLMUnavailable(
                f"model {model} unavailable after {attempts} attempts "
                f"in {self._retry.total_seconds:g} s (last: {found.reason})"
            )
        else:
            error = LLMUnavailable(f"model {model}: {found.reason}")
        self._failing += 1
        self._last_failure = str(error)
        return error

    async def _request(self, request: ChatRequest, remaining: float) -> Completion:
        self._requests += 1
        timeout = max(0.05, min(self._retry.request_timeout, remaining))
        model = request.model
        if request.listener is not None and self._stream and model not in self._unstreamed:
            try:
                return await self._request_streamed(request, request.listener, timeout)
            except openai.BadRequestError as exc:
                if "stream" not in f"{exc.message} {exc.body}":
                    raise
                # A server without streaming: this model is asked whole from now on.
                log.warning("model %s refuses streaming (%s); asking without it", model, exc)
                self._unstreamed.add(model)
        # The request is posted as built: the SDK's per-field transform of `create()` costs
        # ~150 ms of CPU for a few hundred messages, more than the rest of a turn together.
        # The answer is read as plain JSON: the few fields a step needs are read directly,
        # not through a model object built for every field of the response.
        raw = await self._client.post(
            "/chat/completions",
            cast_to=bytes,
            content=self._body.encode(request.body()),
            options={"timeout": timeout, "headers": _UNSENT_HEADERS},
        )
        return self._answered(request, read_completion(raw))

    async def _request_streamed(
        self, request: ChatRequest, listener: StreamListener, read_s: float
    ) -> Completion:
        """The step streamed (server-sent events), its calls told to ``listener`` as they
        arrive; ``read_s`` bounds each read, not the whole answer."""
        streamed = request.body() | {"stream": True, "stream_options": {"include_usage": True}}
        body = self._body.encode(streamed)
        try:
            stream = await self._client.post(
                "/chat/completions",
                cast_to=ChatCompletion,
                content=body,
                options={"timeout": read_s, "headers": _UNSENT_HEADERS},
                stream=True,
                stream_cls=AsyncStream[ChatCompletionChunk],
            )
        except BaseException:
            listener.abandoned()
            raise
        async with stream:
            return self._answered(request, await read_answer(stream, listener))

    def _answered(self, request: ChatRequest, answer: ModelAnswer) -> Completion:
        """One answer, counted; calls a small local model wrote as text are read as calls."""
        usage = Usage(answer.prompt_tokens, answer.completion_tokens)
        self._usage = self._usage + usage
        calls, content = answer.calls, answer.content
        if not calls and content and request.tools:
            parsed = parse_text_tool_calls(content, request.offered)
            if parsed:
                return Completion(parsed, None, usage, answer.model)
        return Completion(calls, content, usage, answer.model)
