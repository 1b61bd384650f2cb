"""Token counting with tiktoken, from encoding files shipped in `engine/data`.

tiktoken downloads its BPE files on first use; Mnemo must work offline, so the files ship with
the package, are verified against tiktoken's published sha256, and `Encoding` objects are built
from them directly. Counts of strings are cached, so re-counting a long window is cheap, and a
long text is counted line by line, so a prompt that changed in one place re-encodes only that.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import tiktoken
import tiktoken.model
from tiktoken_ext import openai_public

SHIPPED_ENCODINGS = ("o200k_base", "cl100k_base")
DEFAULT_ENCODING = "o200k_base"

# OpenAI's documented chat accounting: every message costs 3 tokens of framing, a `name`
# field 1 more.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
# Framing of one function in the tools section and of one tool call in a message; OpenAI does
# not publish these, measured values are within a few tokens.
TOKENS_PER_TOOL = 8
TOKENS_PER_TOOL_CALL = 4

_constructor_lock = threading.Lock()

#: Texts at least this long are counted piece by piece.
PIECEWISE_FROM = 1024
#: After a line break, before a character that is neither whitespace nor "/": both shipped
#: encodings' pre-tokenisers always split there (no pre-token runs from a line break into a
#: letter, digit or punctuation, except o200k's "punctuation, line breaks, slashes"), and BPE
#: never merges across pre-tokens, so the pieces' counts add up to the whole's exactly.
_PIECE_BOUNDARY = re.compile(r"(?<=\n)(?=[^\s/])")
#: Tool schemas whose counts are kept (an agent offers a few dozen).
_KNOWN_TOOLS = 1024


class EncodingFileError(RuntimeError):
    """A shipped encoding file is missing or corrupt (reinstall the package)."""


def _load_shipped_ranks(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
    """Stand-in for `tiktoken.load.load_tiktoken_bpe` that reads the shipped gzip file."""
    filename = url.rsplit("/", 1)[-1] + ".gz"
    resource = resources.files("engine.data").joinpath(filename)
    try:
        contents = gzip.decompress(resource.read_bytes())
    except (FileNotFoundError, OSError) as exc:
        raise EncodingFileError(f"{filename} is missing or unreadable in engine/data") from exc
    if expected_hash is not None and hashlib.sha256(contents).hexdigest() != expected_hash:
        raise EncodingFileError(f"{filename} does not match tiktoken's published sha256")
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """The encoding `name` (one of SHIPPED_ENCODINGS), built without any network access.

    pat_str and special tokens come from tiktoken's own constructor, which is run with its
    file loader pointed at the shipped file (and given tiktoken's expected hash to check).
    """
    if name not in SHIPPED_ENCODINGS:
        raise ValueError(f"encoding {name!r} is not shipped; use one of {SHIPPED_ENCODINGS}")
    constructor: Callable[[], dict[str, Any]] = getattr(openai_public, name)
    with _constructor_lock:
        original = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = _load_shipped_ranks
        try:
            spec = constructor()
        finally:
            openai_public.load_tiktoken_bpe = original
    return tiktoken.Encoding(
        name=spec["name"],
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
    )


def encoding_name_for_model(model: str) -> str:
    """o200k for gpt-4o/4.1/5 and the o-series, cl100k for older models, o200k if unknown."""
    bare = model.rsplit("/", 1)[-1]  # "openai/gpt-4o" as routers and Azure spell it
    try:
        name = tiktoken.model.encoding_name_for_model(bare)
    except KeyError:
        return DEFAULT_ENCODING
    if name in SHIPPED_ENCODINGS:
        return name
    # o200k_harmony only adds special tokens; r50k/p50k are retired models.
    return "o200k_base" if name.startswith("o200k") else "cl100k_base"


class TokenCounter:
    """Counts tokens of strings and chat requests for one model's encoding."""

    def __init__(self, model: str, *, cache_size: int = 65_536) -> None:
        self.encoding = get_encoding(encoding_name_for_model(model))
        encode = self.encoding.encode_ordinary  # special-token text in user input is plain text

        def count_uncached(text: str) -> int:
            if len(text) >= PIECEWISE_FROM:
                pieces = _PIECE_BOUNDARY.split(text)
                if len(pieces) > 1:
                    return sum(count(piece) for piece in pieces)
            return len(encode(text))

        count: Callable[[str], int] = lru_cache(maxsize=cache_size)(count_uncached)
        self._count = count
        #: id -> (the schema, kept so its id is not reused while known; its tokens).
        self._tools: dict[int, tuple[Mapping[str, Any], int]] = {}

    def count(self, text: str) -> int:
        """Tokens in `text` (cached: strings in a window are counted once)."""
        return self._count(text) if text else 0

    def count_message(self, message: Mapping[str, Any]) -> int:
        """Tokens one chat message adds to a request, framing and tool calls included."""
        total = TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "tool_calls":
                total += sum(self._count_tool_call(call) for call in value or ())
            elif key == "content":
                total += self._count_content(value)
            elif isinstance(value, str):
                total += self.count(value)
                if key == "name":
                    total += TOKENS_PER_NAME
        return total

    def count_tools(self, tools: Iterable[Mapping[str, Any]]) -> int:
        """Tokens the tool schemas add to a request (each schema object counted once: tool
        schemas are built once and shared read-only)."""
        total = 0
        for tool in tools:
            known = self._tools.get(id(tool))
            if known is None or known[0] is not tool:
                if len(self._tools) >= _KNOWN_TOOLS:
                    self._tools.clear()
                known = self._tools[id(tool)] = (tool, self._count_tool(tool))
            total += known[1]
        return total

    def _count_tool(self, tool: Mapping[str, Any]) -> int:
        function = tool.get("function", tool)
        total = TOKENS_PER_TOOL + self.count(function.get("name", ""))
        total += self.count(function.get("description", ""))
        parameters = function.get("parameters")
        if parameters:
            total += self.count(json.dumps(parameters, separators=(",", ":"), sort_keys=True))
        return total

    def _count_content(self, content: Any) -> int:
        if isinstance(content, str):
            return self.count(content)
        if isinstance(content, list):  # content parts: count the text ones
            return sum(
                self.count(part.get("text", "")) for part in content if isinstance(part, Mapping)
            )
        return 0

    def _count_tool_call(self, call: Mapping[str, Any]) -> int:
        function = call.get("function", {})
        return (
            TOKENS_PER_TOOL_CALL
            + self.count(function.get("name", ""))
            + self.count(function.get("arguments", ""))
        )
