"""``mnemo mcp``: add, list and remove the MCP servers whose tools agents may attach.

Servers are kept with the bot's settings in the store (the agents file's ``mcp_servers`` land
there too), and the bot starts them at its next start. Secrets are never given here: ``--env``
and ``--header`` name environment variables of the bot.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from engine import (
    McpServerRegistry,
    McpServerSpec,
    Store,
    every_tool_of,
    start_mcp_tools,
)

ACTIONS = ("add", "list", "remove")


def add_mcp_arguments(mcp: argparse.ArgumentParser) -> None:
    """The arguments of ``mnemo mcp``."""
    mcp.add_argument("action", choices=ACTIONS)
    mcp.add_argument("name", nargs="?", help="add, remove: the server's name (letters, digits, -)")
    mcp.add_argument("--command", dest="server_command", help="add: a stdio server's program")
    mcp.add_argument(
        "--arg",
        action="append",
        default=[],
        help="add: one argument of the program (repeat; --arg=-x for one starting with -)",
    )
    mcp.add_argument("--url", help="add: the endpoint of a Streamable HTTP server")
    mcp.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VAR=BOT_VAR",
        help="add: the stdio server's VAR is the bot's environment variable BOT_VAR",
    )
    mcp.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="HEADER=BOT_VAR",
        help="add: the HTTP header's value is the bot's environment variable BOT_VAR",
    )
    mcp.add_argument(
        "--audience",
        action="append",
        choices=["dm", "private", "public"],
        help="add: offer the tools only here (repeat; default: everywhere)",
    )
    mcp.add_argument("--timeout", type=float, help="add: seconds one call may take")
    mcp.add_argument(
        "--approval",
        action="append",
        metavar="TOOL",
        help="add: calls of this tool (the server's name for it; 'all' for every tool) wait "
        "for a person's approval (repeat)",
    )
    mcp.add_argument(
        "--approver",
        action="append",
        metavar="USER_ID",
        help="add: who may approve (repeat; default: the person who asked)",
    )
    mcp.add_argument("--approval-ttl", type=float, help="add: seconds a request waits")
    mcp.add_argument(
        "--check", action="store_true", help="list: start each server and list its tools"
    )


async def run_mcp(store: Store, args: argparse.Namespace) -> int:
    """One ``mnemo mcp`` action; the exit status."""
    registry = McpServerRegistry(store.kv)
    if args.action == "list":
        return await _list(registry, check=args.check)
    if not args.name:
        print(f"mnemo: say which server: mnemo mcp {args.action} NAME", file=sys.stderr)
        return 2
    if args.action == "remove":
        if not await registry.remove(args.name):
            print(f"mnemo: no MCP server called {args.name!r}", file=sys.stderr)
            return 1
        still = await _still(store, args.name)
        print(f"removed {args.name}; the bot stops it at its next start{still}")
        return 0
    try:
        spec = _spec(args)
    except (ValueError, ValidationError) as exc:
        print(f"mnemo: {_problem(exc)}", file=sys.stderr)
        return 2
    stored = await registry.add(spec)
    print(
        f"{spec.name} (version {stored.version}) added; attach its tools to an agent as "
        f"{spec.name}__TOOL or {every_tool_of(spec.name)}; the bot starts it at its next start"
    )
    return 0


async def _still(store: Store, server: str) -> str:
    """What to say of the agents that still attach the removed server's tools (they are
    offered nothing from it)."""
    prefix = every_tool_of(server).removesuffix("*")
    names = sorted(
        a.name for a in await store.agents.list() if any(t.startswith(prefix) for t in a.tools)
    )
    if not names:
        return ""
    return (
        f"; its tools are still attached to {', '.join(names)} and do nothing now "
        "(mnemo agents tools detach AGENT TOOL)"
    )


def _spec(args: argparse.Namespace) -> McpServerSpec:
    fields: dict[str, object] = {
        "name": args.name,
        "url": args.url or "",
        "env": _pairs(args.env, "--env"),
        "headers": _pairs(args.header, "--header"),
    }
    if args.server_command:
        fields["command"], fields["args"] = args.server_command, tuple(args.arg)
    if args.audience:
        fields["audiences"] = tuple(args.audience)
    if args.timeout is not None:
        fields["timeout"] = args.timeout
    if args.approval:
        fields["approval"] = "all" if "all" in args.approval else tuple(args.approval)
    if args.approver:
        fields["approvers"] = tuple(args.approver)
    if args.approval_ttl is not None:
        fields["approval_ttl_s"] = args.approval_ttl
    return McpServerSpec.model_validate(fields)


def _approval(spec: McpServerSpec) -> str:
    """How the server's calls are approved, for its line in the list ('' when they are not)."""
    if not spec.approval:
        return ""
    tools = spec.approval if spec.approval == "all" else ", ".join(spec.approval)
    who = ", ".join(spec.approvers) or "the person who asked"
    return f"\tapproval: {tools} by {who} within {spec.approval_ttl_s:g} s"


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        key, equals, variable = item.partition("=")
        if not equals or not key or not variable:
            raise ValueError(f"{option} {item!r}: write NAME=BOT_VARIABLE")
        pairs[key] = variable
    return pairs


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'server'}: "
            # A validator's own words, without pydantic's "Value error, " before them.
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
    return str(exc)


async def _list(registry: McpServerRegistry, *, check: bool) -> int:
    servers = await registry.all()
    if not servers:
        print("no MCP servers (add one with `mnemo mcp add`, or under mcp_servers in the file)")
        return 0
    running = await start_mcp_tools([s.spec for s in servers], os.environ) if check else None
    down = 0
    try:
        for server in servers:
            spec = server.spec
            target = spec.url or " ".join((spec.command, *spec.args))
            print(
                f"{spec.name}\tversion {server.version}\t{spec.transport}\t{target}\t"
                f"audiences: {', '.join(spec.audiences)}{_approval(spec)}"
            )
            if running is None:
                continue
            problem = running.problem(spec.name)
            if problem:
                down += 1
                print(f"  not running: {problem}")
            for name in sorted(running.server_tools(spec.name)):
                print(f"  {name}")
    finally:
        if running is not None:
            await running.aclose()
    return 1 if down else 0
