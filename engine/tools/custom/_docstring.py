"""Reading a tool's docstring: the description the model sees and one line per parameter.

Google (``Args:``), reST (``:param x:``) and NumPy (``Parameters`` + dashes) styles are
understood, so tool authors keep whichever their editor writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_GOOGLE_HEADERS = frozenset({"args:", "arguments:", "parameters:", "params:"})
_GOOGLE_OTHER = re.compile(
    r"^(returns?|yields?|raises?|examples?|notes?|see also|attributes|todo):$", re.I
)
_GOOGLE_PARAM = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_REST_FIELD = re.compile(r"^:\w+")
_NUMPY_PARAM = re.compile(r"^(\w+)\s*(?::.*)?$")
_NUMPY_UNDERLINE = re.compile(r"^-{3,}$")


@dataclass(frozen=True, slots=True)
class Docstring:
    description: str
    params: dict[str, str]


def parse_docstring(text: str) -> Docstring:
    """Split a cleaned docstring (``ast.get_docstring``) into description and parameter docs."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.lower() in _GOOGLE_HEADERS:
            return Docstring(_join(lines[:index]), _google_params(lines[index + 1 :]))
        if _REST_FIELD.match(stripped):
            return Docstring(_join(lines[:index]), _rest_params(lines[index:]))
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if stripped.lower() == "parameters" and _NUMPY_UNDERLINE.match(following):
            return Docstring(_join(lines[:index]), _numpy_params(lines[index + 2 :]))
    return Docstring(_join(lines), {})


def _join(lines: list[str]) -> str:
    paragraphs = "\n".join(lines).strip().split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    base: int | None = None
    current = ""
    for line in lines:
        if not line.strip():
            continue
        if _GOOGLE_OTHER.match(line.strip()) and (base is None or _indent(line) < base):
            break
        if base is None:
            base = _indent(line)
        if _indent(line) < base:
            break
        match = _GOOGLE_PARAM.match(line.strip())
        if _indent(line) == base and match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif current:
            params[current] = f"{params[current]} {line.strip()}".strip()
    return params


def _rest_params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    current = ""
    for line in lines:
        stripped = line.strip()
        match = _REST_PARAM.match(stripped)
        if match:
            current = match.group(1)
            params[current] = match.group(2).strip()
        elif _REST_FIELD.match(stripped):
            current = ""
        elif current and stripped:
            params[current] = f"{params[current]} {stripped}".strip()
    return params


def _numpy_params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    current = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _NUMPY_UNDERLINE.match(following) or _NUMPY_UNDERLINE.match(stripped):
            break  # the next section (Returns, Raises, ...)
        if not stripped:
            continue
        match = _NUMPY_PARAM.match(stripped)
        if _indent(line) == 0 and match:
            current = match.group(1)
            params[current] = ""
        elif current:
            params[current] = f"{params[current]} {stripped}".strip()
    return params
