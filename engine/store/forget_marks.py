"""Forget marks: a forget that lands while turns are running wins over them.

A turn reads memory when it starts and writes what it derived when it settles; a forget in
between would miss those writes. So a forget first notes a mark on every pending inbox item of
its workspace (the items of turns running now, or still to run), and the write that settles a
turn reads its items' marks: the turn that read what was forgotten is told to forget it again,
once what it wrote is stored. A mark stays on its items until that second forget is done, so a
crash or a failure in between has it redone by the engine's sweep (at start, then periodically).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class MarkKind(StrEnum):
    #: Everything a person said (``subject`` the user).
    USER = "user"
    #: One platform message deleted (``subject`` the channel, ``detail`` the message ref).
    MESSAGE = "message"
    #: One memory forgotten (``subject`` its ``Derived`` kind, ``detail`` its record id).
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class ForgetMark:
    """What a forget removed, said so that it can be removed again."""

    kind: MarkKind
    workspace: str
    subject: str
    detail: str = ""

    def encode(self) -> str:
        return json.dumps([self.kind.value, self.workspace, self.subject, self.detail])

    @classmethod
    def decode(cls, text: str) -> ForgetMark:
        kind, workspace, subject, detail = json.loads(text)
        return cls(MarkKind(kind), workspace, subject, detail)


@dataclass(frozen=True, slots=True)
class MarkedItem:
    """A settled inbox item whose turn has a forget to redo."""

    item_id: str
    marks: tuple[str, ...]
