"""Which user a tool runs as: an unprivileged one when the bot runs as root and can afford it."""

from __future__ import annotations

import os
import pwd
import stat
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USER = "nobody"


@dataclass(frozen=True, slots=True)
class RunAs:
    uid: int
    gid: int


def unprivileged_user(python: str) -> RunAs | None:
    """``nobody`` when we are root and that user can run ``python``, else None.

    Switching users needs root; and an interpreter installed under a private directory (such as
    /root/.pyenv) cannot be run by another user, in which case the tool keeps our user and the
    audit hook alone guards files.
    """
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        return None
    interpreter = Path(python).resolve()
    stdlib = (
        Path(sysconfig.get_paths()["stdlib"]).resolve()
        if interpreter == Path(sys.executable).resolve()
        else interpreter.parents[1] / "lib"
    )
    if not (_world_readable(interpreter) and _world_readable(stdlib)):
        return None
    return RunAs(entry.pw_uid, entry.pw_gid)


def _world_readable(path: Path) -> bool:
    """Whether any user can reach ``path`` (every parent searchable, the path readable)."""
    try:
        if not os.stat(path).st_mode & stat.S_IROTH:
            return False
        return all(os.stat(parent).st_mode & stat.S_IXOTH for parent in path.parents)
    except OSError:
        return False
