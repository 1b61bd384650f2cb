"""The ``mnemo`` command: run the bot, chat in a terminal, manage agents and user memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from adapters.console import CONSOLE_WORKSPACE, ConsoleChat, ConsolePort
from adapters.console.chat import stdin_lines
from bot.settings import Settings, SettingsError, load_settings
from bot.wiring import Runtime, build_sandbox, running
from engine.agents import AgentExists, create_agent
from engine.records import Agent
from engine.sandbox import SandboxLimits
from engine.store import Store, open_store
from engine.tools import ToolDefinitionError, ToolRegistry, register_tool
from engine.user_data import UserDataService, render_report


@contextlib.asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_store(
        mongodb_uri=settings.mongodb_uri_value,
        data_dir=settings.data_dir,
        database=settings.mongodb_database,
    )
    try:
        yield store
    finally:
        await store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnemo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="run the bot with every configured platform")

    chat = commands.add_parser("chat", help="talk to an agent in this terminal")
    chat.add_argument("--user", default="you", help="who you are (default: you)")
    where = chat.add_mutually_exclusive_group()
    where.add_argument("--channel", help="talk in this public channel")
    where.add_argument("--dm", action="store_true", help="talk in a direct message (default)")
    chat.add_argument("--agent", help="agent name (default: MNEMO_AGENT)")

    agents = commands.add_parser("agents", help="create and list agents")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True)
    create = agent_commands.add_parser("create", help="create an agent")
    create.add_argument("name")
    create.add_argument("--persona", help="who the agent is, in its own words")
    create.add_argument("--model", help="model name (default: MNEMO_MODEL)")
    agent_commands.add_parser("list", help="list agents")

    tools = commands.add_parser("tools", help="custom tools run in the sandbox")
    tool_commands = tools.add_subparsers(dest="tools_command", required=True)
    add = tool_commands.add_parser("add", help="register a tool from FILE[:FUNCTION]")
    add.add_argument("spec", metavar="FILE[:FUNCTION]")
    tool_commands.add_parser("list", help="list registered tools")
    run = tool_commands.add_parser("run", help="run a tool in the sandbox, as an agent would")
    run.add_argument("name")
    run.add_argument("--args", default="{}", help="arguments as a JSON object")

    memory = commands.add_parser("memory", help="what Mnemo keeps about a user")
    memory.add_argument("action", choices=["show", "export", "forget"])
    memory.add_argument("--user", required=True)
    memory.add_argument("--workspace", default=CONSOLE_WORKSPACE)
    memory.add_argument("--out", type=Path, help="export: file to write (default: stdout)")
    memory.add_argument("--yes", action="store_true", help="forget: do not ask to confirm")
    return parser


async def _chat(settings: Settings, args: argparse.Namespace) -> int:
    async with running(settings) as runtime:
        agent = await _agent(runtime, args.agent)
        runtime.engine.register_platform(ConsolePort(agent_names={agent.id: agent.name}))
        chat = ConsoleChat(runtime.engine, agent.id, user=args.user, channel=args.channel)
        print(f"Talking to {agent.name} as {args.user} in {chat.where}. /quit to leave.")
        await chat.run(lambda: stdin_lines(f"{args.user}> "), sys.stdout)
    return 0


async def _agent(runtime: Runtime, name: str | None) -> Agent:
    if name is None:
        return runtime.default_agent
    agent = await runtime.store.agents.by_name(name)
    if agent is None:
        raise SettingsError(
            f"There is no agent called {name!r}: create it with `mnemo agents create {name}`."
        )
    return agent


async def _agents(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        if args.agents_command == "list":
            for agent in await store.agents.list():
                print(f"{agent.name}\t{agent.id}\t{agent.model}\t{','.join(agent.tags)}")
            return 0
        try:
            agent = await create_agent(
                store,
                args.name,
                model=args.model or settings.model,
                persona=args.persona,
                context_budget=settings.context_budget,
            )
        except AgentExists as exc:
            print(f"mnemo: {exc}", file=sys.stderr)
            return 1
        print(f"created agent {agent.name} ({agent.id}, model {agent.model})")
        return 0


async def _memory(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        data = UserDataService(store)
        if args.action == "show":
            print(render_report(await data.about_user(args.workspace, args.user)))
        elif args.action == "export":
            document = await data.export_user(args.workspace, args.user)
            if args.out:
                args.out.write_bytes(document)
                print(f"wrote {args.out}")
            else:
                sys.stdout.write(document.decode() + "\n")
        else:
            question = f"Delete everything kept about {args.user}? [y/N] "
            if not args.yes and await asyncio.to_thread(input, question) != "y":
                print("nothing deleted")
                return 1
            removed = await data.forget_user(args.workspace, args.user)
            print(json.dumps({"user": args.user, "records_deleted": removed}))
    return 0


async def _tools(settings: Settings, args: argparse.Namespace) -> int:
    async with _store(settings) as store:
        registry = ToolRegistry(store.kv)
        if args.tools_command == "add":
            try:
                tool = await register_tool(store.kv, args.spec)
            except ToolDefinitionError as exc:
                print(f"mnemo: {exc}", file=sys.stderr)
                return 1
            print(f"registered {tool.name}: {tool.description}")
            return 0
        if args.tools_command == "list":
            for tool in await registry.all():
                print(f"{tool.name}\t{tool.description}")
            return 0
        found = await registry.get(args.name)
        if found is None:
            print(f"mnemo: no tool called {args.name!r} (see `mnemo tools list`)", file=sys.stderr)
            return 1
        try:
            arguments = json.loads(args.args)
        except json.JSONDecodeError as exc:
            print(f"mnemo: --args is not valid JSON: {exc}", file=sys.stderr)
            return 2
        if not isinstance(arguments, dict):
            print("mnemo: --args must be a JSON object", file=sys.stderr)
            return 2
        outcome = await build_sandbox(settings).run(
            found, arguments, memory=None, limits=SandboxLimits()
        )
        print(outcome.output)
        if outcome.logs:
            print(f"--- logs ---\n{outcome.logs}", file=sys.stderr)
        print(f"--- isolation: {outcome.isolation} ---", file=sys.stderr)
        return 0 if outcome.ok else 1


async def _run(settings: Settings) -> int:
    from bot.process import serve

    return await serve(settings)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        match args.command:
            case "run":
                return asyncio.run(_run(settings))
            case "chat":
                return asyncio.run(_chat(settings, args))
            case "agents":
                return asyncio.run(_agents(settings, args))
            case "memory":
                return asyncio.run(_memory(settings, args))
            case "tools":
                return asyncio.run(_tools(settings, args))
    except SettingsError as exc:
        print(f"mnemo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
