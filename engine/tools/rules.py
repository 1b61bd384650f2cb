"""Tool rules: declarative limits on which tool an agent may call next (DESIGN §4).

The loop asks ``allowed_next`` which tools to offer, ``check`` before running a call (a refused
call becomes a tool error the agent reads), and ``is_terminal`` whether a call ends the turn;
``render`` explains the rules in the prompt so the model rarely needs refusing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from engine.records import ToolRule

INIT = "init"
TERMINAL = "terminal"
CHILD = "child"
CONDITIONAL = "conditional"
MAX_PER_STEP = "max_per_step"
#: The tool runs only once a person approves the call (``engine.tools.approval``).
REQUIRES_APPROVAL = "requires_approval"
KINDS = (INIT, TERMINAL, CHILD, CONDITIONAL, MAX_PER_STEP, REQUIRES_APPROVAL)
#: Key of a conditional rule's outcome that matches any other output.
DEFAULT_OUTCOME = "*"

type History = Sequence[tuple[str, str]]


class ToolRuleError(ValueError):
    """A rule in the agent's configuration that cannot be applied; the message names it."""


def parse_tool_rules(raw: Sequence[Mapping[str, Any]]) -> tuple[ToolRule, ...]:
    """Rules from config dicts (an agents file), validated with errors naming the rule.

    E.g. ``{"kind": "child", "tool": "search", "children": ["send_message"]}``. Conditional
    rules take ``outcomes`` (tool output -> tool or list of tools; ``"*"`` for any other
    output); max_per_step rules take ``limit``.
    """
    return tuple(_parse_rule(index, item) for index, item in enumerate(raw, start=1))


def approval_required(rules: Sequence[ToolRule]) -> frozenset[str]:
    """The tools whose calls wait for a person's approval."""
    return frozenset(rule.tool for rule in rules if rule.kind == REQUIRES_APPROVAL)


def rules_without(rules: Sequence[ToolRule], hidden: Collection[str]) -> tuple[ToolRule, ...]:
    """The rules that still apply when the ``hidden`` tools are not offered (an MCP server kept
    out of this audience): a rule naming one of them is left out, not the whole set."""
    return tuple(rule for rule in rules if not set(_named(rule)) & set(hidden))


def _named(rule: ToolRule) -> tuple[str, ...]:
    """Every tool ``rule`` names."""
    return (rule.tool, *rule.children, *(t for ts in rule.outcomes.values() for t in ts))


def _parse_rule(index: int, item: Mapping[str, Any]) -> ToolRule:
    if not isinstance(item, Mapping):
        raise ToolRuleError(f"tool rule {index} must be a mapping with 'kind' and 'tool'")
    kind, tool = item.get("kind"), item.get("tool")
    if kind not in KINDS:
        raise ToolRuleError(
            f"tool rule {index}: kind must be one of {', '.join(KINDS)}, not {kind!r}"
        )
    name = f"tool rule {index} ({kind} on {tool!r})"
    if not isinstance(tool, str) or not tool:
        raise ToolRuleError(f"tool rule {index} ({kind}): 'tool' must name a tool")
    allowed_keys = {"kind", "tool"} | {
        CHILD: {"children"},
        CONDITIONAL: {"outcomes"},
        MAX_PER_STEP: {"limit"},
    }.get(kind, set())
    extra = sorted(set(item) - allowed_keys)
    if extra:
        raise ToolRuleError(f"{name}: unexpected keys {', '.join(extra)}")
    if kind == CHILD:
        return ToolRule(kind, tool, children=_names(item.get("children"), f"{name}: children"))
    if kind == CONDITIONAL:
        outcomes = item.get("outcomes")
        if not isinstance(outcomes, Mapping) or not outcomes:
            raise ToolRuleError(f"{name}: outcomes must map tool outputs to the tools that follow")
        return ToolRule(
            kind,
            tool,
            outcomes={
                str(output): _names(nxt, f"{name}: outcome {output!r}")
                for output, nxt in outcomes.items()
            },
        )
    if kind == MAX_PER_STEP:
        limit = item.get("limit")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ToolRuleError(f"{name}: limit must be a whole number of calls, 1 or more")
        return ToolRule(kind, tool, limit=limit)
    return ToolRule(kind, tool)


def _names(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names:
        raise ToolRuleError(f"{where} must be a tool name or a non-empty list of tool names")
    if not all(isinstance(n, str) and n for n in names):
        raise ToolRuleError(f"{where} must contain only tool names")
    return tuple(names)


class ToolRuleSet:
    """An agent's rules checked against its tools; answers what may be called next."""

    def __init__(
        self,
        rules: Sequence[ToolRule],
        all_tools: Sequence[str],
        *,
        ending_tools: Collection[str] = (),
    ) -> None:
        """``ending_tools`` always end a turn (``send_message``, ``no_reply``); they stay
        callable when the rules would otherwise leave nothing to call."""
        self._tools = tuple(all_tools)
        known = set(all_tools)
        self._init: tuple[str, ...] = ()
        self._terminal = {t for t in ending_tools if t in known}
        self._declared_terminal: list[str] = []
        self._next: dict[str, ToolRule] = {}
        self._limits: dict[str, int] = {}
        self._approval: list[str] = []
        for index, rule in enumerate(rules, start=1):
            name = f"tool rule {index} ({rule.kind} on {rule.tool!r})"
            unknown = [t for t in _named(rule) if t not in known]
            if unknown:
                raise ToolRuleError(
                    f"{name} names tools the agent does not have: {', '.join(unknown)}"
                )
            if rule.kind == INIT:
                self._init += (rule.tool,)
            elif rule.kind == TERMINAL:
                self._terminal.add(rule.tool)
                self._declared_terminal.append(rule.tool)
            elif rule.kind in {CHILD, CONDITIONAL}:
                if rule.tool in self._next:
                    raise ToolRuleError(
                        f"{name}: {rule.tool!r} already has a child or conditional rule"
                    )
                if rule.kind == CHILD and not rule.children:
                    raise ToolRuleError(f"{name}: children must name at least one tool")
                if rule.kind == CONDITIONAL and not rule.outcomes:
                    raise ToolRuleError(f"{name}: outcomes must name at least one output")
                self._next[rule.tool] = rule
            elif rule.kind == MAX_PER_STEP:
                if rule.limit < 1:
                    raise ToolRuleError(f"{name}: limit must be 1 or more")
                self._limits[rule.tool] = rule.limit
            elif rule.kind == REQUIRES_APPROVAL:
                self._approval.append(rule.tool)
            else:
                raise ToolRuleError(f"{name}: kind must be one of {', '.join(KINDS)}")

    def is_terminal(self, name: str) -> bool:
        return name in self._terminal

    def allowed_next(self, history: History) -> frozenset[str]:
        """The tools the next call may use, given the (tool, output) calls of this turn."""
        return frozenset(self._allowed(history)[0])

    def check(self, name: str, history: History) -> str | None:
        """None when calling ``name`` now is allowed, else the error for the agent."""
        allowed, reason = self._allowed(history)
        if name in allowed:
            return None
        if name not in self._tools:
            return f"Error: there is no tool called {name!r}."
        limit = self._limits.get(name)
        if limit is not None and _count(history, name) >= limit:
            reason = f"{name} may be called at most {limit} times per turn"
        options = ", ".join(sorted(allowed)) or "none"
        return f"Error: {name} is not allowed now: {reason}. Allowed now: {options}."

    def _allowed(self, history: History) -> tuple[set[str], str]:
        if history and self.is_terminal(history[-1][0]):
            return set(), f"{history[-1][0]} ended the turn"
        allowed, reason = set(self._tools), ""
        if not history:
            if self._init:
                allowed, reason = (
                    set(self._init),
                    "the first call of a turn must be one of the start tools",
                )
        else:
            last, output = history[-1]
            rule = self._next.get(last)
            if rule is not None and rule.kind == CHILD:
                allowed, reason = (
                    set(rule.children),
                    f"after {last} only its listed next tools may follow",
                )
            elif rule is not None:
                nxt = _outcome(rule, output)
                if nxt is not None:
                    allowed = set(nxt)
                    reason = f"after {last} returned {_quote(output)}, other tools follow"
        exhausted = {t for t, n in self._limits.items() if _count(history, t) >= n}
        allowed -= exhausted
        if not allowed:
            allowed = set(self._terminal) - exhausted or set(self._terminal)
            reason = reason or "every other tool reached its limit for this turn"
        return allowed, reason or "it is not among the allowed tools"

    def render(self) -> str:
        """The rules in words for the system prompt; empty when there are none."""
        lines: list[str] = []
        if self._init:
            lines.append(f"- Start every turn by calling one of: {', '.join(self._init)}.")
        for rule in self._next.values():
            if rule.kind == CHILD:
                lines.append(f"- After {rule.tool}, call only: {', '.join(rule.children)}.")
            else:
                cases = [
                    f"if it returns {_quote(out)}, call {' or '.join(nxt)}"
                    for out, nxt in rule.outcomes.items()
                    if out != DEFAULT_OUTCOME
                ]
                default = rule.outcomes.get(DEFAULT_OUTCOME)
                if default:
                    cases.append(f"otherwise call {' or '.join(default)}")
                lines.append(f"- After {rule.tool}: {'; '.join(cases)}.")
        for tool, limit in self._limits.items():
            times = "once" if limit == 1 else f"{limit} times"
            lines.append(f"- Call {tool} at most {times} per turn.")
        if self._declared_terminal:
            lines.append(f"- These tools end your turn: {', '.join(sorted(self._terminal))}.")
        if self._approval:
            lines.append(
                f"- These tools run only once a person approves the call: "
                f"{', '.join(sorted(self._approval))}."
            )
        if not lines:
            return ""
        return "Tool rules (enforced: a call that breaks them is refused):\n" + "\n".join(lines)


def _outcome(rule: ToolRule, output: str) -> tuple[str, ...] | None:
    """The tools allowed after a conditional tool returned ``output`` (None: unconstrained)."""
    key = output.strip()
    for candidate, nxt in rule.outcomes.items():
        if candidate != DEFAULT_OUTCOME and candidate.strip() == key:
            return nxt
    return rule.outcomes.get(DEFAULT_OUTCOME)


def _count(history: History, name: str) -> int:
    return sum(1 for called, _ in history if called == name)


def _quote(output: str) -> str:
    text = output.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")
