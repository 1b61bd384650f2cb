"""JSON schemas for tool parameters, read from annotations in the tool's source tree.

Annotations are read as syntax, never evaluated: tool code only ever runs in the sandbox.
Supported: str, int, float, bool, None, list[...], dict[str, ...], Literal[...],
Optional[...] / X | None, and Enum classes defined in the tool's own file.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

type Schema = dict[str, Any]

_SCALARS: Mapping[str, Schema] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "None": {"type": "null"},
    "list": {"type": "array"},
    "List": {"type": "array"},
    "Sequence": {"type": "array"},
    "dict": {"type": "object"},
    "Dict": {"type": "object"},
    "Mapping": {"type": "object"},
    "Any": {},
}
_ARRAYS = frozenset({"list", "List", "Sequence", "tuple", "Tuple"})
_OBJECTS = frozenset({"dict", "Dict", "Mapping"})
_ENUM_BASES = frozenset({"Enum", "StrEnum", "IntEnum"})


class UnsupportedAnnotation(Exception):
    """An annotation the schema cannot express; the message names the construct."""


def enum_members(tree: ast.Module) -> dict[str, list[Any]]:
    """Values of each Enum class defined at the top of the module, by class name."""
    enums: dict[str, list[Any]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if not any(_base_name(b) in _ENUM_BASES for b in node.bases):
            continue
        values: list[Any] = []
        for statement in node.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                try:
                    values.append(ast.literal_eval(statement.value))
                except ValueError as exc:
                    raise UnsupportedAnnotation(
                        f"enum {node.name} has a member whose value is not a literal"
                    ) from exc
        enums[node.name] = values
    return enums


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def annotation_schema(node: ast.expr, enums: Mapping[str, list[Any]]) -> Schema:
    """The JSON schema of one annotation expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return annotation_schema(_parse_string(node.value), enums)
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right], enums)
    if isinstance(node, ast.Name | ast.Attribute):
        name = _base_name(node)
        if name in enums:
            return _enum_schema(enums[name])
        if name in _SCALARS:
            return dict(_SCALARS[name])
        if name in _ARRAYS:
            return {"type": "array"}
        raise UnsupportedAnnotation(f"type {ast.unparse(node)} is not supported")
    if isinstance(node, ast.Subscript):
        return _generic(node, enums)
    raise UnsupportedAnnotation(f"annotation {ast.unparse(node)} is not supported")


def _parse_string(text: str) -> ast.expr:
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise UnsupportedAnnotation(f"annotation {text!r} is not valid Python") from exc


def _generic(node: ast.Subscript, enums: Mapping[str, list[Any]]) -> Schema:
    origin = _base_name(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if origin == "Optional" and len(args) == 1:
        return _union([args[0], ast.Constant(None)], enums)
    if origin == "Union":
        return _union(args, enums)
    if origin == "Literal":
        return _literal(args, node)
    if origin == "Annotated":
        return annotation_schema(args[0], enums)
    if origin in _ARRAYS:
        if origin in {"tuple", "Tuple"} and not (
            len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis
        ):
            raise UnsupportedAnnotation(
                f"{ast.unparse(node)}: use list[X] (or tuple[X, ...]) for a sequence"
            )
        return {"type": "array", "items": annotation_schema(args[0], enums)}
    if origin in _OBJECTS and len(args) == 2:
        if annotation_schema(args[0], enums) != {"type": "string"}:
            raise UnsupportedAnnotation(f"{ast.unparse(node)}: JSON object keys are strings")
        return {"type": "object", "additionalProperties": annotation_schema(args[1], enums)}
    raise UnsupportedAnnotation(f"annotation {ast.unparse(node)} is not supported")


def _union(members: list[ast.expr], enums: Mapping[str, list[Any]]) -> Schema:
    schemas = [annotation_schema(m, enums) for m in members]
    types = [s.get("type") for s in schemas]
    if all(isinstance(t, str) and len(s) == 1 for t, s in zip(types, schemas, strict=True)):
        return {"type": list(dict.fromkeys(t for t in types if isinstance(t, str)))}
    return {"anyOf": schemas}


def _literal(args: list[ast.expr], node: ast.expr) -> Schema:
    values: list[Any] = []
    for arg in args:
        if not isinstance(arg, ast.Constant) or not isinstance(arg.value, str | int | float | bool):
            raise UnsupportedAnnotation(
                f"{ast.unparse(node)}: Literal values must be strings, numbers or booleans"
            )
        values.append(arg.value)
    return _enum_schema(values)


def _enum_schema(values: list[Any]) -> Schema:
    kinds = {_json_type(v) for v in values}
    schema: Schema = {"enum": values}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), "enum": values}
    return schema


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"
