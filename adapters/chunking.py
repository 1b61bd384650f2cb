"""Split a reply into messages that fit a platform's length limit.

Chat platforms cap one message (Slack ~4,000 characters of ``text``, Discord 2,000). A long
reply is cut at the best boundary available (paragraph, then line, then word, then anywhere),
and a ``` code block cut in two is closed at the end of one chunk and reopened, with the same
language tag, at the start of the next, so every chunk renders on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

FENCE = "```"
_CLOSE = "\n" + FENCE
#: Below this a chunk cannot hold a reopened fence, a closing fence and some text.
MIN_LIMIT = 32


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where a chunk's text ends, and how much separator to drop after it."""

    end: int
    skip: int


def split_message(text: str, limit: int) -> list[str]:
    """Cut ``text`` into chunks of at most ``limit`` characters, keeping code blocks intact.

    Returns ``[]`` for blank text. Only fences at the start of a line count (as Slack and
    Discord render them).
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"a chunk limit of {limit} is too small; use at least {MIN_LIMIT}")
    if not text.strip():
        return []
    chunks: list[str] = []
    remaining = text
    open_fence = ""
    while remaining:
        prefix = open_fence + "\n" if open_fence else ""
        room = limit - len(prefix)
        if len(remaining) <= room:
            chunks.append(prefix + remaining)
            break
        cut = _best_cut(remaining, room - len(_CLOSE))
        body = remaining[: cut.end]
        open_fence = _fence_open_after(body, open_fence)
        chunk = prefix + body
        if open_fence:
            chunk = chunk.rstrip("\n") + _CLOSE
        if chunk.strip():
            chunks.append(chunk)
        remaining = remaining[cut.end + cut.skip :]
        if not open_fence:
            remaining = remaining.lstrip("\n")
    return chunks


def _best_cut(text: str, room: int) -> _Cut:
    """The latest paragraph, line or word boundary in the second half of ``text[:room]``."""
    window = text[: room + 1]
    floor = room // 2
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator, floor, room + 1)
        if at > 0:
            return _Cut(at, len(separator))
    return _Cut(room, 0)


def _fence_open_after(body: str, open_fence: str) -> str:
    """The fence line still open at the end of ``body`` ("" when none), given the one open
    at its start."""
    for line in body.split("\n"):
        stripped = line.strip()
        if not stripped.startswith(FENCE):
            continue
        opens = not open_fence and stripped.count(FENCE) == 1
        open_fence = stripped if opens else ""
    return open_fence
