"""Each kind of tool rule changes what the loop may call next."""

from __future__ import annotations

import pytest

from engine.records import ToolRule
from engine.tools.rules import ToolRuleError, ToolRuleSet, parse_tool_rules

TOOLS = ("send_message", "no_reply", "search", "lookup", "weather", "core_memory_append")
ENDING = ("send_message", "no_reply")


def rules(*raw: dict[str, object]) -> ToolRuleSet:
    return ToolRuleSet(parse_tool_rules(raw), TOOLS, ending_tools=ENDING)


def test_without_rules_every_tool_is_allowed_and_nothing_is_rendered() -> None:
    ruleset = rules()
    assert ruleset.allowed_next([]) == frozenset(TOOLS)
    assert ruleset.allowed_next([("search", "3 hits")]) == frozenset(TOOLS)
    assert ruleset.check("weather", [("search", "")]) is None
    assert ruleset.render() == ""


def test_init_rule_restricts_only_the_first_call() -> None:
    ruleset = rules({"kind": "init", "tool": "search"})
    assert ruleset.allowed_next([]) == {"search"}
    error = ruleset.check("send_message", [])
    assert error is not None
    assert "first call" in error
    assert "Allowed now: search" in error
    assert ruleset.check("send_message", [("search", "")]) is None
    assert "Start every turn by calling one of: search" in ruleset.render()


def test_terminal_rule_ends_the_turn_after_the_tool() -> None:
    ruleset = rules({"kind": "terminal", "tool": "weather"})
    assert ruleset.is_terminal("weather")
    assert not ruleset.is_terminal("search")
    assert ruleset.allowed_next([("weather", "sunny")]) == frozenset()
    error = ruleset.check("search", [("weather", "sunny")])
    assert error is not None
    assert "ended the turn" in error
    assert "weather" in ruleset.render()


def test_child_rule_allows_only_the_children_after_the_tool() -> None:
    ruleset = rules({"kind": "child", "tool": "search", "children": ["lookup", "send_message"]})
    assert ruleset.allowed_next([("search", "hits")]) == {"lookup", "send_message"}
    error = ruleset.check("weather", [("search", "hits")])
    assert error is not None
    assert "Allowed now: lookup, send_message" in error
    # Only directly after the tool: the rule does not bind later calls.
    assert ruleset.allowed_next([("search", "hits"), ("lookup", "x")]) == frozenset(TOOLS)
    assert "After search, call only: lookup, send_message." in ruleset.render()


def test_conditional_rule_follows_the_output_with_a_default() -> None:
    ruleset = rules(
        {
            "kind": "conditional",
            "tool": "lookup",
            "outcomes": {
                "found": "send_message",
                "missing": ["search", "no_reply"],
                "*": "weather",
            },
        }
    )
    assert ruleset.allowed_next([("lookup", " found\n")]) == {"send_message"}
    assert ruleset.allowed_next([("lookup", "missing")]) == {"search", "no_reply"}
    assert ruleset.allowed_next([("lookup", "something else")]) == {"weather"}
    error = ruleset.check("send_message", [("lookup", "missing")])
    assert error is not None
    assert "'missing'" in error
    rendered = ruleset.render()
    assert "if it returns 'found', call send_message" in rendered
    assert "otherwise call weather" in rendered


def test_conditional_rule_without_default_leaves_other_outputs_free() -> None:
    ruleset = rules({"kind": "conditional", "tool": "lookup", "outcomes": {"found": "search"}})
    assert ruleset.allowed_next([("lookup", "found")]) == {"search"}
    assert ruleset.allowed_next([("lookup", "nothing")]) == frozenset(TOOLS)


def test_max_per_step_rule_counts_calls_within_the_turn() -> None:
    ruleset = rules({"kind": "max_per_step", "tool": "search", "limit": 2})
    once = [("search", "a")]
    twice = [("search", "a"), ("lookup", "b"), ("search", "c")]
    assert "search" in ruleset.allowed_next(once)
    assert "search" not in ruleset.allowed_next(twice)
    error = ruleset.check("search", twice)
    assert error is not None
    assert "at most 2 times per turn" in error
    assert "Call search at most 2 times per turn." in ruleset.render()


def test_ending_tools_stay_callable_when_rules_leave_nothing() -> None:
    ruleset = rules(
        {"kind": "child", "tool": "search", "children": ["lookup"]},
        {"kind": "max_per_step", "tool": "lookup", "limit": 1},
    )
    history = [("lookup", "x"), ("search", "y")]
    assert ruleset.allowed_next(history) == set(ENDING)
    assert ruleset.check("send_message", history) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"kind": "first", "tool": "search"}, "tool rule 1: kind must be one of"),
        ({"kind": "init"}, "tool rule 1 (init): 'tool' must name a tool"),
        ({"kind": "child", "tool": "search"}, "tool rule 1 (child on 'search'): children"),
        (
            {"kind": "child", "tool": "search", "children": ["x"], "limit": 2},
            "unexpected keys limit",
        ),
        ({"kind": "conditional", "tool": "lookup", "outcomes": {}}, "outcomes must map"),
        ({"kind": "max_per_step", "tool": "search", "limit": 0}, "limit must be a whole number"),
        ({"kind": "max_per_step", "tool": "search", "limit": True}, "limit must be a whole number"),
    ],
)
def test_bad_config_is_refused_naming_the_rule(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ToolRuleError, match="tool rule 1") as caught:
        parse_tool_rules([raw])
    assert message in str(caught.value)


def test_rules_naming_tools_the_agent_lacks_are_refused() -> None:
    with pytest.raises(ToolRuleError, match=r"tool rule 2 \(child on 'search'\).*teleport"):
        ToolRuleSet(
            [ToolRule("init", "search"), ToolRule("child", "search", children=("teleport",))],
            TOOLS,
        )


def test_two_next_tool_rules_for_one_tool_are_refused() -> None:
    with pytest.raises(ToolRuleError, match="already has a child or conditional rule"):
        rules(
            {"kind": "child", "tool": "search", "children": ["lookup"]},
            {"kind": "conditional", "tool": "search", "outcomes": {"*": "weather"}},
        )


def test_unknown_tool_check_says_there_is_no_such_tool() -> None:
    assert rules().check("teleport", []) == "Error: there is no tool called 'teleport'."
