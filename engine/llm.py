"""The chat-completions client: one tool-calling step against any OpenAI-compatible endpoint.

Retries rate limits (honouring `Retry-After`), server errors, timeouts and connection errors
with exponential backoff and jitter, all inside one time budget, then raises `LLMUnavailable`.
Servers that reject `tool_choice="required"` are asked again with `"auto"`, remembered per model.
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
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

from engine.backoff import Backoff
from engine.records import ToolCall

log = logging.getLogger(__name__)

ToolChoice = str  # "required" | "auto" | "none"

_RETRYABLE_STATUS = frozenset({408, 409, 429})


class LLMError(Exception):
    """The model could not produce a step for this turn."""


class LLMUnavailable(LLMError):
    """The endpoint kept failing (rate limits, errors, timeouts) for the whole retry budget."""


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

    def body(self) -> dict[str, Any]:
        """The chat-completions request body."""
        body: dict[str, Any] = {"model": self.model, "messages": list(self.messages)}
        if self.tools:
            body["tools"] = list(self.tools)
            body["tool_choice"] = self.tool_choice
        return body


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
    ) -> None:
        self._retry = retry or RetryPolicy()
        # Retries are ours (one wall-clock budget across attempts), so the SDK's are off.
        self._client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "unset",
            max_retries=0,
            timeout=self._retry.request_timeout,
        )
        self._rng = rng or random.Random()
        self._auto_only_models: set[str] = set()
        self._requests = 0
        self._retries = 0
        self._failures = 0
        self._usage = Usage()

    @property
    def totals(self) -> UsageTotals:
        return UsageTotals(self._requests, self._retries, self._failures, self._usage)

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, request: ChatRequest) -> Completion:
        """Run one chat completion; raise `LLMUnavailable` or `LLMRejected` on failure."""
        model = request.model
        if request.tool_choice == "required" and model in self._auto_only_models:
            request = replace(request, tool_choice="auto")
        deadline = time.monotonic() + self._retry.total_seconds
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                return await self._request(request, remaining)
            except openai.BadRequestError as exc:
                if request.tool_choice == "required" and _mentions_tool_choice(exc):
                    log.warning("model %s rejects tool_choice=required; using auto", model)
                    self._auto_only_models.add(model)
                    request = replace(request, tool_choice="auto")
                    continue
                raise self._rejected(exc) from exc
            except openai.APIStatusError as exc:
                if exc.status_code not in _RETRYABLE_STATUS and exc.status_code < 500:
                    raise self._rejected(exc) from exc
                wait = _retry_after(exc)
                reason = f"HTTP {exc.status_code}"
            except openai.APIConnectionError as exc:  # includes APITimeoutError
                wait = None
                # Which server did not answer tells the operator whether OPENAI_BASE_URL is right.
                reason = f"{type(exc).__name__} from {self._client.base_url}"
            if wait is None:
                wait = self._retry.backoff.delay(attempt + 1, jitter=self._rng)
            remaining = deadline - time.monotonic()
            if wait >= remaining:
                self._failures += 1
                raise LLMUnavailable(
                    f"{model} unavailable after {attempt + 1} attempts "
                    f"in {self._retry.total_seconds:g} s (last: {reason})"
                )
            log.info("LLM %s: %s; retry %d in %.2f s", model, reason, attempt + 1, wait)
            self._retries += 1
            attempt += 1
            await asyncio.sleep(wait)

    async def _request(self, request: ChatRequest, remaining: float) -> Completion:
        self._requests += 1
        timeout = max(0.05, min(self._retry.request_timeout, remaining))
        # The request is posted as built: the SDK's per-field transform of `create()` costs
        # ~150 ms of CPU for a few hundred messages, more than the rest of a turn together.
        response = await self._client.post(
            "/chat/completions",
            cast_to=ChatCompletion,
            body=request.body(),
            options={"timeout": timeout},
        )
        usage = (
            Usage(response.usage.prompt_tokens, response.usage.completion_tokens)
            if response.usage is not None
            else Usage()
        )
        self._usage = self._usage + usage
        if not response.choices:
            return Completion((), None, usage, response.model)
        message = response.choices[0].message
        calls = tuple(
            ToolCall(call.id, call.function.name, call.function.arguments)
            for call in message.tool_calls or ()
            if call.type == "function"
        )
        return Completion(calls, message.content, usage, response.model)

    def _rejected(self, exc: openai.APIStatusError) -> LLMRejected:
        self._failures += 1
        return LLMRejected(
            f"LLM request rejected (HTTP {exc.status_code}): {exc.message}", exc.status_code
        )


def _mentions_tool_choice(exc: openai.APIStatusError) -> bool:
    return "tool_choice" in f"{exc.message} {exc.body}"


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms` or `retry-after`), if any."""
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # an HTTP date: rare for APIs; fall back to backoff
        if seconds >= 0:
            return seconds
    return None
