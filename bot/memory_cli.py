"""``mnemo memory``: what Mnemo keeps about a user, from a terminal: the report, the items one by
one (each can be forgotten alone), why Mnemo believes something, the export, and forget."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.terminal_text import forget_summary, memory_report_text
from engine import (
    Audience,
    AudienceKind,
    MemoryItem,
    UserMemory,
    describe_source,
    render_forget,
)

ACTIONS = ("show", "items", "why", "export", "forget")


def add_memory_arguments(
    memory: argparse.ArgumentParser, terminal_user: str, workspace: str
) -> None:
    """The arguments of ``mnemo memory``: whose memory, in which workspace, and each action's."""
    memory.add_argument("action", choices=ACTIONS)
    memory.add_argument("words", nargs="*", help="why: the words to explain")
    memory.add_argument(
        "--user",
        default=terminal_user,
        help=f"whose memory (default: {terminal_user}, the person at this terminal)",
    )
    memory.add_argument("--workspace", default=workspace)
    memory.add_argument("--out", type=Path, help="export: file to write (default: stdout)")
    memory.add_argument("--yes", action="store_true", help="forget: do not ask to confirm")
    memory.add_argument(
        "--item", help="forget: only this item (a key that `mnemo memory items` lists)"
    )
    memory.add_argument(
        "--channel",
        help="why: answer as if asked in this public channel (default: in the user's DM)",
    )


async def run_memory(memory: UserMemory, args: argparse.Namespace) -> int:
    """One ``mnemo memory`` action; the exit status."""
    workspace, user = args.workspace, args.user
    match args.action:
        case "show":
            print(memory_report_text(await memory.about_user(workspace, user)))
        case "items":
            print(items_text(user, await memory.memory_items(workspace, user)))
        case "why":
            words = " ".join(args.words).strip()
            if not words:
                print("mnemo: say what to explain: mnemo memory why WORDS", file=sys.stderr)
                return 2
            audience = (
                Audience(workspace, AudienceKind.PUBLIC, args.channel)
                if args.channel
                else Audience(workspace, AudienceKind.DM, "", user)
            )
            print(why_text(words, await memory.why(audience, words)))
        case "export":
            document = await memory.export_user(workspace, user)
            if args.out:
                args.out.write_bytes(document)
                print(f"wrote {args.out}")
            else:
                sys.stdout.write(document.decode() + "\n")
        case _:
            return await _forget(memory, args)
    return 0


async def _forget(memory: UserMemory, args: argparse.Namespace) -> int:
    workspace, user = args.workspace, args.user
    what = f"the item {args.item}" if args.item else "everything kept"
    question = f"Delete {what} about {user}? [y/N] "
    if not args.yes and not await asyncio.to_thread(_confirmed, question):
        print("nothing deleted (pass --yes to delete without asking)")
        return 1
    if not args.item:
        print(forget_summary(user, workspace, await memory.forget_user(workspace, user)))
        return 0
    removed = await memory.forget_item(workspace, user, args.item)
    if not removed.total:
        print(
            f"mnemo: {args.item} is not an item about {user} in {workspace} "
            "(see `mnemo memory items`); nothing deleted",
            file=sys.stderr,
        )
        return 1
    print(f"Forgot {args.item}: removed {render_forget(removed)}.")
    return 0


def _confirmed(question: str) -> bool:
    """Whether the person answered yes; no terminal to ask (end of input) means no."""
    try:
        answer = input(question)
    except EOFError:
        print()
        return False
    return answer.strip().lower() in ("y", "yes")


def items_text(user: str, items: Sequence[MemoryItem]) -> str:
    """``mnemo memory items``: each item's key (for ``forget --item``) and text."""
    if not items:
        return f"Nothing is kept about {user}."
    lines = [f"Items about {user} (forget one with: mnemo memory forget --item KEY):"]
    for item in items:
        lines += [f"  {item.key}", f"      {item.label}: {item.text}"]
    return "\n".join(lines)


def why_text(words: str, items: Sequence[MemoryItem]) -> str:
    """``mnemo memory why``: each matching memory and the messages it came from."""
    if not items:
        return f'Nothing remembered about "{words}".'
    lines = [f'What is remembered about "{words}", and where it came from:']
    for item in items:
        lines.append(f"  - {item.label}: {item.text}")
        lines += [f"      from {describe_source(s)}" for s in item.sources] or [
            "      no source that can be shown here"
        ]
    return "\n".join(lines)
