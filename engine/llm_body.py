"""The chat-completions request body as JSON bytes, each message and tool encoded once.

A conversation's window is mostly the same messages turn after turn, and the context compiler
hands out the same rendered message objects each time (shared, never mutated), so each is
encoded once and a body is joined from the pieces: the cost of a request does not grow with
the history it repeats.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

#: The JSON the SDK itself would send: compact, UTF-8, no NaN.
_to_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
#: Body fields that are lists of objects repeated from request to request.
_REPEATED = frozenset({"messages", "tools"})


class BodyEncoder:
    """Encodes request bodies, remembering the encoding of the last ``size`` objects seen."""

    def __init__(self, size: int = 8192) -> None:
        #: id -> (the object, kept so its id is not reused while known; its encoding).
        self._known: OrderedDict[int, tuple[object, bytes]] = OrderedDict()
        self._size = size

    def encode(self, body: Mapping[str, Any]) -> bytes:
        fields = []
        for key, value in body.items():
            if key in _REPEATED:
                encoded = b"[" + b",".join(self._piece(item) for item in value) + b"]"
            else:
                encoded = _to_json(value).encode()
            fields.append(_to_json(key).encode() + b":" + encoded)
        return b"{" + b",".join(fields) + b"}"

    def _piece(self, item: object) -> bytes:
        key = id(item)
        found = self._known.get(key)
        if found is not None and found[0] is item:
            self._known.move_to_end(key)
            return found[1]
        encoded = _to_json(item).encode()
        self._known[key] = (item, encoded)
        if len(self._known) > self._size:
            self._known.popitem(last=False)
        return encoded
