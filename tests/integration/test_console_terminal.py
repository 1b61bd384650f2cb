"""Typing and pasting into the terminal chat through a real pseudo-terminal: what arrives is
what was pasted, past the kernel's 4,095-byte line limit and across lines."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

pty = pytest.importorskip("pty")

REPO = Path(__file__).resolve().parents[2]
#: Reads two lines the way the terminal chat does and writes them, as JSON, to argv[1].
READER = """
import asyncio, json, sys
from adapters.console import stdin_lines

async def read_two():
    return [await stdin_lines("you> "), await stdin_lines("you> ")]

lines = asyncio.run(read_two())
open(sys.argv[1], "w").write(json.dumps(lines))
"""
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def _typed_into_a_terminal(keys: str, out: Path, timeout: float = 20.0) -> list[str]:
    """Run the reader on a fresh pseudo-terminal, type ``keys``, and return what it read."""
    controller, terminal = pty.openpty()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(out)],
        cwd=REPO,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        close_fds=True,
    )
    os.close(terminal)
    os.set_blocking(controller, False)
    pending = keys.encode()
    shown = b""  # a person pastes once the prompt shows
    deadline = time.monotonic() + timeout
    try:
        while reader.poll() is None and time.monotonic() < deadline:
            prompted = b"you> " in shown
            readable, writable, _ = select.select(
                [controller], [controller] if pending and prompted else [], [], 0.05
            )
            if readable:
                try:
                    shown += os.read(controller, 65536)  # unread, the echo would stall it
                except OSError:
                    break
            if writable:
                written = os.write(controller, pending[:1024])
                pending = pending[written:]
    finally:
        if reader.poll() is None:
            reader.kill()
        reader.wait()
        os.close(controller)
    lines: list[str] = json.loads(out.read_text())
    return lines


def test_a_paste_longer_than_the_terminal_line_limit_arrives_whole(tmp_path: Path) -> None:
    long_line = "".join(f"word{i} " for i in range(2_000))  # ~13 KB, over 4,095 bytes

    lines = _typed_into_a_terminal(long_line + "\r" + "/quit\r", tmp_path / "read.json")

    assert lines == [long_line, "/quit"]


def test_a_multi_line_paste_is_one_message(tmp_path: Path) -> None:
    paste = "first line of the paste\nsecond line\nthird line"

    lines = _typed_into_a_terminal(
        PASTE_START + paste + PASTE_END + "\r" + "/quit\r", tmp_path / "read.json"
    )

    assert lines == [paste, "/quit"]
