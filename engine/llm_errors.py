"""How a failed model request is classified: retry, fall back to a simpler request, or tell the
user now. One classification (``diagnose``) for every caller of the endpoint.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from enum import StrEnum

import openai

ToolChoice = str  # "required" | "auto" | "none"

_RETRYABLE_STATUS = frozenset({408, 409, 429})


class Action(StrEnum):
    """What to do about a failed request."""

    #: Wait (what the server asked, or a backoff) and ask again, inside the time budget.
    RETRY = "retry"
    #: Ask again at once with a simpler request (``tool_choice="auto"``).
    FALL_BACK = "fall back"
    #: Give up now and tell the user: asking again would fail the same way.
    TELL_USER = "tell the user now"


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One failed request, classified: what to do, and what went wrong in one line."""

    action: Action
    reason: str
    #: HTTP status, when the server answered.
    status: int | None = None
    #: Seconds the server asked us to wait.
    wait: float | None = None


def diagnose(exc: openai.APIError, base_url: str, tool_choice: ToolChoice = "auto") -> Diagnosis:
    """The one classification of model errors into retry, fall back and tell the user now."""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        said = f"HTTP {status} from {base_url}: {exc.message}"
        if tool_choice == "required" and (
            # A 500 is how llama-cpp-python fails a grammar it cannot build; 502-504 are
            # gateways and overload, retried as they are.
            status == 500 or (status == 400 and _mentions_tool_choice(exc))
        ):
            return Diagnosis(Action.FALL_BACK, said, status)
        if status in _RETRYABLE_STATUS or status >= 500:
            return Diagnosis(
                Action.RETRY, f"HTTP {status} from {base_url}", status, _retry_after(exc)
            )
        return Diagnosis(Action.TELL_USER, said, status)
    if isinstance(exc, openai.APITimeoutError):
        return Diagnosis(Action.RETRY, f"no answer from {base_url} in time")
    unreachable = _unreachable_cause(exc)
    if unreachable is not None:
        return Diagnosis(Action.TELL_USER, f"cannot connect to {base_url} ({unreachable})")
    return Diagnosis(Action.RETRY, f"{type(exc).__name__} from {base_url}")


def _unreachable_cause(exc: BaseException) -> str | None:
    """Why no connection could be opened (refused, unknown host), or None for other errors
    (a connection dropped mid-answer is worth another try)."""
    seen: BaseException | None = exc
    connect_failed = ""
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return f"host name not found: {seen.strerror or seen}"
        if type(seen).__name__ == "ConnectError":
            connect_failed = connect_failed or str(seen)
        seen = seen.__cause__ or seen.__context__
    return connect_failed or None


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
