"""Checking a call's arguments against the tool's schema before any process starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PYTHON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def argument_problems(parameters: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``args`` for a tool's parameter schema, one sentence each."""
    properties: Mapping[str, Any] = parameters.get("properties", {})
    problems = [
        f"missing required argument {name!r}"
        for name in parameters.get("required", ())
        if name not in args
    ]
    for name, value in args.items():
        if name not in properties:
            expected = ", ".join(properties) or "no arguments"
            problems.append(f"unknown argument {name!r} (expected: {expected})")
            continue
        problems.extend(_value_problems(properties[name], value, name))
    return problems


def _value_problems(schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
    if "anyOf" in schema:
        options = [_value_problems(option, value, where) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else options[0]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(repr(v) for v in schema["enum"])
        return [f"{where} must be one of {allowed}, not {value!r}"]
    declared = schema.get("type")
    if declared is None:
        return []
    types = [declared] if isinstance(declared, str) else list(declared)
    if not any(_is_type(value, t) for t in types):
        return [f"{where} must be {' or '.join(types)}, not {_json_name(value)}"]
    if isinstance(value, list) and "items" in schema:
        return [
            problem
            for index, item in enumerate(value)
            for problem in _value_problems(schema["items"], item, f"{where}[{index}]")
        ]
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        return [
            problem
            for key, item in value.items()
            for problem in _value_problems(schema["additionalProperties"], item, f"{where}.{key}")
        ]
    return []


def _is_type(value: Any, json_type: str) -> bool:
    if isinstance(value, bool) and json_type in {"integer", "number"}:
        return False
    return isinstance(value, _PYTHON_TYPES.get(json_type, (object,)))


def _json_name(value: Any) -> str:
    names = [name for name in _PYTHON_TYPES if _is_type(value, name)]
    return names[0] if names else type(value).__name__
