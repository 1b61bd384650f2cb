"""Whole lines from a terminal, however long the paste.

In its default (canonical) mode the kernel edits the line itself and keeps at most 4,095 bytes
of it (Linux's N_TTY buffer): the rest of a long paste is silently dropped. GNU readline reads
the terminal key by key instead, so a line of any length arrives whole, and with bracketed
paste a multi-line paste is one message rather than one message per line.
"""

from __future__ import annotations

import atexit
import functools
import sys
import termios


@functools.cache
def enable_line_editing() -> None:
    """Read ``input()`` through readline when the terminal is interactive (once per process).

    Readline switches the terminal out of canonical mode while it reads. A shutdown can end
    the process mid-read, so the terminal's settings are put back at exit.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    try:
        import readline
    except ImportError:  # a Python built without readline: lines keep the kernel's limit
        return
    # Python turns bracketed paste off for its own prompt, which runs each pasted line.
    readline.parse_and_bind("set enable-bracketed-paste on")
    terminal = sys.stdin.fileno()
    atexit.register(termios.tcsetattr, terminal, termios.TCSADRAIN, termios.tcgetattr(terminal))
