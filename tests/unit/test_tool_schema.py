"""Tool schemas come from the signature and docstring, read without running the tool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.store.codec import decode, encode
from engine.tools.custom import (
    CustomTool,
    ToolDefinitionError,
    argument_problems,
    load_tool,
    split_tool_spec,
    tool_from_source,
)

GOOGLE = '''
from enum import Enum
from typing import Literal, Optional


class Unit(Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


def forecast(
    city: str,
    days: int = 3,
    unit: Unit = Unit.CELSIUS,
    detail: Literal["short", "long"] = "short",
    hours: list[int] | None = None,
    extra: Optional[dict[str, float]] = None,
    ratio: float = 0.5,
    metric: bool = True,
) -> str:
    """Forecast the weather for a city.

    Uses the national service.

    Args:
        city: Name of the city,
            as people write it.
        days (int): How many days ahead.
        unit: Temperature unit.

    Returns:
        A short text.
    """
'''


def props(tool: CustomTool) -> dict[str, dict[str, Any]]:
    return dict(tool.parameters["properties"])


def test_google_docstring_and_signature_become_the_schema() -> None:
    tool = tool_from_source(GOOGLE, "forecast", origin="weather.py")
    assert tool.name == "forecast"
    assert tool.description == "Forecast the weather for a city.\n\nUses the national service."
    p = props(tool)
    assert p["city"] == {"type": "string", "description": "Name of the city, as people write it."}
    assert p["days"] == {"type": "integer", "description": "How many days ahead.", "default": 3}
    assert p["unit"] == {"type": "string", "enum": ["c", "f"], "description": "Temperature unit."}
    assert p["detail"] == {"type": "string", "enum": ["short", "long"], "default": "short"}
    assert p["hours"] == {
        "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],
        "default": None,
    }
    assert p["extra"]["anyOf"][0] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert p["ratio"] == {"type": "number", "default": 0.5}
    assert p["metric"] == {"type": "boolean", "default": True}
    assert tool.parameters["required"] == ["city"]
    assert tool.enums == {"unit": "Unit"}
    assert tool.schema()["function"]["name"] == "forecast"


def test_rest_docstring_params_are_read() -> None:
    source = '''
def note(text: str, tags: list[str], *, pinned: bool = False) -> str:
    """Keep a note.

    :param text: What to keep.
    :param list[str] tags: Topic tags,
        lower case.
    :param pinned: Show it first.
    :returns: The note id.
    """
'''
    tool = tool_from_source(source, None, origin="notes.py")
    p = props(tool)
    assert tool.description == "Keep a note."
    assert p["text"]["description"] == "What to keep."
    assert p["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Topic tags, lower case.",
    }
    assert p["pinned"]["description"] == "Show it first."
    assert tool.parameters["required"] == ["text", "tags"]


def test_numpy_docstring_params_are_read() -> None:
    source = '''
def area(width: float, height: "float" = 1.0) -> float:
    """Area of a rectangle.

    Parameters
    ----------
    width : float
        Width in metres.
    height : float, optional
        Height in metres.

    Returns
    -------
    float
    """
'''
    tool = tool_from_source(source, "area", origin="geometry.py")
    p = props(tool)
    assert p["width"] == {"type": "number", "description": "Width in metres."}
    assert p["height"] == {"type": "number", "description": "Height in metres.", "default": 1.0}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x: str):\n    pass\n", "has no docstring"),
        ('def f(x):\n    """Doc."""\n', "parameter 'x' needs a type annotation"),
        ('def f(*args: str):\n    """Doc."""\n', "*args and **kwargs are not supported"),
        ('def f(x: str, /):\n    """Doc."""\n', "positional-only"),
        ('def f(x: set[int]):\n    """Doc."""\n', "set[int]"),
        ('def f(x: dict[int, str]):\n    """Doc."""\n', "JSON object keys are strings"),
        ('def f(x: tuple[int, str]):\n    """Doc."""\n', "use list[X]"),
        ('import socket\ndef f(x: socket.socket):\n    """Doc."""\n', "socket.socket"),
        ('def f(x: str):\n    """Doc.\n\n    Args:\n        y: nope\n    """\n', "documents y"),
        ("def f(:\n", "is not valid Python"),
    ],
)
def test_unsupported_definitions_are_refused_with_a_reason(source: str, message: str) -> None:
    with pytest.raises(ToolDefinitionError) as caught:
        tool_from_source(source, "f", origin="t.py")
    assert message in str(caught.value)


def test_a_file_with_several_public_functions_needs_the_function_named(tmp_path: Path) -> None:
    path = tmp_path / "tools.py"
    path.write_text('def a() -> str:\n    """A."""\n\ndef b() -> str:\n    """B."""\n')
    with pytest.raises(ToolDefinitionError, match=r"2 public functions \(a, b\)"):
        load_tool(path)
    assert load_tool(path, "b").description == "B."
    with pytest.raises(ToolDefinitionError, match="no top-level function 'c'"):
        load_tool(path, "c")


def test_loading_never_runs_the_tool_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "tool.py"
    path.write_text(
        f'open({str(marker)!r}, \'w\').write(\'x\')\n\ndef go() -> str:\n    """Go."""\n'
    )
    tool = load_tool(path)
    assert not marker.exists()
    assert tool.source == path.read_text()
    assert tool.origin == str(path)


def test_missing_file_is_a_definition_error(tmp_path: Path) -> None:
    with pytest.raises(ToolDefinitionError, match="cannot read tool file"):
        load_tool(tmp_path / "absent.py")


def test_tool_spec_splits_file_and_function() -> None:
    assert split_tool_spec("tools/weather.py:forecast") == (Path("tools/weather.py"), "forecast")
    assert split_tool_spec("tools/weather.py") == (Path("tools/weather.py"), None)


def test_tool_survives_a_round_trip_through_its_document() -> None:
    tool = tool_from_source(GOOGLE, "forecast", origin="weather.py")
    assert decode(CustomTool, encode(tool)) == tool


def test_arguments_are_checked_against_the_schema() -> None:
    schema = tool_from_source(GOOGLE, "forecast", origin="weather.py").parameters
    assert argument_problems(schema, {"city": "Oslo", "hours": [1, 2], "unit": "f"}) == []
    assert argument_problems(schema, {"city": "Oslo", "hours": None}) == []
    problems = argument_problems(
        schema, {"days": True, "hours": [1, "x"], "unit": "k", "colour": 1}
    )
    assert problems == [
        "missing required argument 'city'",
        "days must be integer, not boolean",
        "hours[1] must be integer, not string",
        "unit must be one of 'c', 'f', not 'k'",
        "unknown argument 'colour' (expected: city, days, unit, detail, hours, extra, ratio, "
        "metric)",
    ]
