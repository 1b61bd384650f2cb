"""YAML read with the line of every value, so configuration errors can point at the line."""

from __future__ import annotations

from typing import Any

import yaml

type Path = tuple[str | int, ...]


class YamlError(ValueError):
    """The text is not valid YAML (or not the shape expected); the message names the line."""


def load_with_lines(text: str, origin: str) -> tuple[Any, dict[Path, int]]:
    """The document's plain value and, for every path into it, the 1-based line it starts on."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(f"{where}: not valid YAML ({problem})") from None
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    _index(node, (), lines)
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # composed but not constructible (e.g. a bad tag)
        raise YamlError(f"{origin}: not valid YAML ({exc})") from None
    return value, lines


def _index(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark.line)
            lines[(*path, name)] = key.start_mark.line + 1
            _index(value, (*path, name), lines)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index(item, (*path, position), lines)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest parent that has one."""
    while True:
        if path in lines:
            return lines[path]
        if not path:
            return None
        path = path[:-1]
