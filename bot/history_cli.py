"""``mnemo history status``: how far reading each channel's past messages into recall got."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from engine import BackfillLedger, BackfillProgress

PLATFORMS = ("slack", "discord")
_NOTHING = (
    "No channel history read yet: a bot reads a channel's history when it joins the channel, "
    "or when an admin runs /mnemo learn-channel (Slack) or /learn-channel (Discord) there."
)


def add_history_arguments(history: argparse.ArgumentParser) -> None:
    """The actions of ``mnemo history``."""
    actions = history.add_subparsers(dest="history_command", required=True)
    status = actions.add_parser(
        "status",
        help="each channel read: messages read, stored and skipped, and whether it finished",
        description="How far each channel's history read got, most recently active first.",
    )
    status.add_argument("--platform", choices=PLATFORMS, help="only this platform's channels")


async def run_history(ledger: BackfillLedger, args: argparse.Namespace) -> int:
    """One ``mnemo history`` action; the exit status."""
    found = await ledger.all()
    if args.platform:
        found = [p for p in found if p.platform == args.platform]
    print(history_table(found))
    return 0


def history_table(progress: Sequence[BackfillProgress]) -> str:
    """One line per channel: state, where, counts, when it last moved, and why it stopped."""
    if not progress:
        return _NOTHING
    rows = [("STATE", "CHANNEL", "WORKSPACE", "READ", "STORED", "SKIPPED", "UPDATED")]
    notes: list[str] = []
    for p in progress:
        channel = f"{p.channel_name} ({p.channel})" if p.channel_name else p.channel
        updated = p.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        rows.append(
            (p.state, channel, p.workspace, str(p.read), str(p.stored), str(p.skipped), updated)
        )
        if p.error:
            notes.append(f"{channel} stopped: {p.error}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join([line.rstrip() for line in lines] + notes)
