"""A refused platform event, cut down to what an operator needs and any store can keep."""

from __future__ import annotations

from engine import JSON

#: Beyond these, a payload is an attack or a bug, and its shape says enough.
MAX_DEPTH = 8
MAX_TEXT = 2_000
MAX_ITEMS = 50


def evidence_of(raw: object) -> JSON:
    """``raw`` as a JSON object with nesting, strings and lists bounded: a refused event is
    kept for the operator even when it is too deep or too large for the store as it came."""
    kept = _bounded(raw, 0)
    return kept if isinstance(kept, dict) else {"payload": kept}


def storable_text(text: str) -> str:
    """``text`` cut to ``MAX_TEXT`` and without lone surrogates, which no store can encode."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + f"… ({len(text)} chars)"
    return text.encode("utf-8", "replace").decode("utf-8")


def _bounded(value: object, depth: int) -> object:
    if isinstance(value, str):
        return storable_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return f"… ({type(value).__name__} nested too deeply)"
    if isinstance(value, dict):
        items = list(value.items())
        kept = {storable_text(str(k)): _bounded(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            kept["…"] = f"{len(items) - MAX_ITEMS} more fields"
        return kept
    if isinstance(value, list | tuple):
        listed = [_bounded(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            listed.append(f"… {len(value) - MAX_ITEMS} more items")
        return listed
    return storable_text(repr(value))
