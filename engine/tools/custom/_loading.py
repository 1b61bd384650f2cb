"""Loading a custom tool from a Python file by reading its syntax tree, never running it."""

from __future__ import annotations

import ast
import contextlib
import re
from pathlib import Path
from typing import Any

from engine.tools.custom._custom import CustomTool
from engine.tools.custom._docstring import parse_docstring
from engine.tools.custom._schema import UnsupportedAnnotation, annotation_schema, enum_members

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ToolDefinitionError(Exception):
    """A tool file or function that cannot become a tool; the message says how to fix it."""


def split_tool_spec(spec: str) -> tuple[Path, str | None]:
    """``path/to/file.py:function`` (or just the path) -> (path, function or None)."""
    path, sep, function = spec.rpartition(":")
    if sep and path and function.isidentifier():
        return Path(path), function
    return Path(spec), None


def load_tool(path: Path, function: str | None = None) -> CustomTool:
    """Read ``path`` and build the tool for ``function`` (or the file's only public function)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ToolDefinitionError(f"cannot read tool file {path}: {exc.strerror}") from exc
    return tool_from_source(source, function, origin=str(path))


def tool_from_source(source: str, function: str | None, *, origin: str) -> CustomTool:
    try:
        tree = ast.parse(source, filename=origin)
    except SyntaxError as exc:
        raise ToolDefinitionError(
            f"{origin} is not valid Python (line {exc.lineno}: {exc.msg})"
        ) from exc
    node = _find_function(tree, function, origin)
    where = f"{origin}:{node.name}"
    if not _TOOL_NAME.match(node.name):
        raise ToolDefinitionError(f"{where}: a tool name may only use letters, digits, _ and -")
    docstring = ast.get_docstring(node)
    if not docstring:
        raise ToolDefinitionError(
            f"{where} has no docstring: write one saying what the tool does (the model reads it)"
        )
    doc = parse_docstring(docstring)
    try:
        enums = enum_members(tree)
        parameters, enum_params = _parameters(node, enums, doc.params)
    except UnsupportedAnnotation as exc:
        raise ToolDefinitionError(f"{where}: {exc}") from exc
    return CustomTool(
        name=node.name,
        description=doc.description,
        parameters=parameters,
        source=source,
        function=node.name,
        origin=origin,
        enums=enum_params,
    )


def _find_function(
    tree: ast.Module, function: str | None, origin: str
) -> ast.FunctionDef | ast.AsyncFunctionDef:
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if function is not None:
        for node in functions:
            if node.name == function:
                return node
        raise ToolDefinitionError(f"{origin} defines no top-level function {function!r}")
    public = [n for n in functions if not n.name.startswith("_")]
    if len(public) != 1:
        names = ", ".join(n.name for n in public) or "none"
        raise ToolDefinitionError(
            f"{origin} has {len(public)} public functions ({names}): name one as FILE:FUNCTION"
        )
    return public[0]


def _parameters(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    enums: dict[str, list[Any]],
    docs: dict[str, str],
) -> tuple[dict[str, Any], dict[str, str]]:
    args = node.args
    if args.vararg or args.kwarg:
        raise UnsupportedAnnotation("*args and **kwargs are not supported: name each parameter")
    if args.posonlyargs:
        raise UnsupportedAnnotation("positional-only parameters are not supported")
    positional_defaults: list[ast.expr | None] = [None] * (
        len(args.args) - len(args.defaults)
    ) + list(args.defaults)
    pairs = list(zip(args.args, positional_defaults, strict=True))
    pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
    unknown = sorted(set(docs) - {a.arg for a, _ in pairs})
    if unknown:
        raise UnsupportedAnnotation(
            f"the docstring documents {', '.join(unknown)}, which the function does not take"
        )
    properties: dict[str, Any] = {}
    required: list[str] = []
    enum_params: dict[str, str] = {}
    for arg, default in pairs:
        if arg.annotation is None:
            raise UnsupportedAnnotation(f"parameter {arg.arg!r} needs a type annotation")
        schema = annotation_schema(arg.annotation, enums)
        enum_class = _enum_class(arg.annotation, enums)
        if enum_class:
            enum_params[arg.arg] = enum_class
        if docs.get(arg.arg):
            schema["description"] = docs[arg.arg]
        if default is None:
            required.append(arg.arg)
        else:
            # A computed default leaves the parameter optional with its value unstated.
            with contextlib.suppress(ValueError):
                schema["default"] = ast.literal_eval(default)
        properties[arg.arg] = schema
    return {"type": "object", "properties": properties, "required": required}, enum_params


def _enum_class(annotation: ast.expr, enums: dict[str, list[Any]]) -> str:
    """The Enum class an annotation names (directly or as Optional), else ""."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return ""
    candidates: list[ast.expr] = [annotation]
    if isinstance(annotation, ast.BinOp):
        candidates = [annotation.left, annotation.right]
    elif (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Optional"
    ):
        candidates = [annotation.slice]
    for candidate in candidates:
        if isinstance(candidate, ast.Name) and candidate.id in enums:
            return candidate.id
    return ""
