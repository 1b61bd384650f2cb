"""What the OpenAI-compatible server says about itself: whether it answers, and how large a
context window each model has.

Read from ``GET /v1/models`` (vLLM's ``max_model_len``, OpenRouter's and LM Studio's
``context_length``, llama.cpp's ``meta.n_ctx_train``) and llama.cpp's ``GET /props``
(``default_generation_settings.n_ctx``, the window it was started with). A server that says
nothing leaves the agents' budgets as configured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from typing import Any

import openai

from engine.llm import LLMClient, diagnose

#: Seconds the start-up check and a readiness probe wait for the server.
PROBE_SECONDS = 5.0
#: Seconds before a server that could not be reached is asked about a model again.
ASK_AGAIN_SECONDS = 60.0
#: A server that answers, but not with what was asked (no such route, not JSON).
_UNSAID = (openai.APIStatusError, openai.APIResponseValidationError, ValueError)
_WINDOW_FIELDS = ("context_length", "max_model_len", "context_window", "max_context_length")


class ModelServer:
    """Asks the model endpoint about itself; remembers each model's context window."""

    def __init__(self, llm: LLMClient, *, probe_seconds: float = PROBE_SECONDS) -> None:
        self._llm = llm
        self._probe_seconds = probe_seconds
        self._windows: dict[str, int | None] = {}
        self._unknown_until: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def check(self) -> str | None:
        """Why ``GET /v1/models`` fails, in one line naming OPENAI_BASE_URL; None when it
        answers."""
        try:
            await self._llm.get_json("/models", self._probe_seconds)
        except openai.APIError as exc:
            found = diagnose(exc, self._llm.base_url)
            return f"the model endpoint does not answer: {found.reason}; check OPENAI_BASE_URL"
        return None

    async def readiness_problem(self) -> str | None:
        """Why the model counts as unreachable now: several steps in a row failed and the
        endpoint still does not answer. None once it answers (or a step succeeds)."""
        if self._llm.unreachable is None:
            return None
        if await self.check() is None:
            return None
        return f"model unreachable: {self._llm.unreachable}"

    async def context_window(self, model: str) -> int | None:
        """The model's context window in tokens, as the server states it; None when it does
        not say, or cannot be reached now (then it is asked again a minute later)."""
        if model in self._windows:
            return self._windows[model]
        if time.monotonic() < self._unknown_until.get(model, 0.0):
            return None
        async with self._lock:
            if model not in self._windows:
                try:
                    self._windows[model] = await self._read_window(model)
                except openai.APIConnectionError:
                    # Down now: turns tell their users; the server is asked again later.
                    self._unknown_until[model] = time.monotonic() + ASK_AGAIN_SECONDS
                    return None
        return self._windows[model]

    async def _read_window(self, model: str) -> int | None:
        found: list[int] = []
        try:
            listing = await self._llm.get_json("/models", self._probe_seconds)
        except _UNSAID:
            listing = {}
        entry = _model_entry(listing, model)
        if entry is not None:
            found.extend(_window_fields(entry))
        if entry is None or not found or "meta" in entry:
            found.extend(await self._props_window())
        return min(found) if found else None

    async def _props_window(self) -> list[int]:
        """llama.cpp's running context size, from ``/props`` at the server's root."""
        root = self._llm.base_url.removesuffix("/v1")
        try:
            props = await self._llm.get_json(f"{root}/props", self._probe_seconds)
        except _UNSAID:
            return []
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return [n_ctx] if isinstance(n_ctx, int) and n_ctx > 0 else []


def _model_entry(listing: Any, model: str) -> Mapping[str, Any] | None:
    """The listing's entry for ``model``; a server that serves one model (llama.cpp, whatever
    name it is asked for) answers with that one."""
    data = listing.get("data") if isinstance(listing, dict) else None
    entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
    for entry in entries:
        if entry.get("id") == model:
            return entry
    return entries[0] if len(entries) == 1 else None


def _window_fields(entry: Mapping[str, Any]) -> Iterator[int]:
    meta = entry.get("meta")
    for source, name in (
        *((entry, name) for name in _WINDOW_FIELDS),
        (meta if isinstance(meta, dict) else {}, "n_ctx_train"),
    ):
        value = source.get(name)
        if isinstance(value, int) and value > 0:
            yield value
