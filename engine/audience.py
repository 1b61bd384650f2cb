"""Who hears a turn, and therefore which memory it may read and where its writes land.

DESIGN §3, the rule never broken: a turn reads only records whose scope is visible to
everyone who will see the reply, and writes only into the most specific scope of its audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.records import ConversationKey

#: Blocks whose ``workspace`` is this value apply to every workspace (the base persona).
ALL_WORKSPACES = ""


class ScopeKind(StrEnum):
    #: Records of the agent itself (its base persona), visible in every workspace.
    AGENT = "agent"
    #: Records learned in a public channel, or set for a whole workspace.
    WORKSPACE = "workspace"
    #: Records learned in a direct conversation with one user.
    DM = "dm"
    #: Records learned in one private channel (or group DM).
    PRIVATE = "private"


_QUALIFIED = (ScopeKind.DM, ScopeKind.PRIVATE)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which audience a record was learned from, and so who may read it (DESIGN §3).

    Stored as text (``agent``, ``workspace``, ``dm:<user>``, ``private:<channel>``): ``str``
    gives that form and ``Scope.parse`` reads it back; no other code looks inside the text.
    """

    kind: ScopeKind
    #: The user of a DM scope, the channel of a private one; empty for the others.
    about: str = ""

    def __post_init__(self) -> None:
        if (self.kind in _QUALIFIED) != bool(self.about):
            needs = "needs" if self.kind in _QUALIFIED else "takes no"
            raise ValueError(f"a {self.kind.value} scope {needs} user or channel id")

    @classmethod
    def agent(cls) -> Scope:
        return _AGENT

    @classmethod
    def workspace(cls) -> Scope:
        return _WORKSPACE

    @classmethod
    def dm(cls, user: str) -> Scope:
        """Scope of what was learned in a direct conversation with ``user``."""
        return cls(ScopeKind.DM, user)

    @classmethod
    def private(cls, channel: str) -> Scope:
        """Scope of what was learned in the private channel (or group DM) ``channel``."""
        return cls(ScopeKind.PRIVATE, channel)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """The scope stored as ``text``; a ValueError names any other form."""
        prefix, colon, about = text.partition(":")
        if not colon and text in (ScopeKind.AGENT, ScopeKind.WORKSPACE):
            return _AGENT if text == ScopeKind.AGENT else _WORKSPACE
        if colon and about and prefix in _QUALIFIED:
            return cls(ScopeKind(prefix), about)
        raise ValueError(
            f"unknown scope {text!r}: expected 'agent', 'workspace', 'dm:<user>' "
            "or 'private:<channel>'"
        )

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.about}" if self.about else self.kind.value

    @property
    def is_dm(self) -> bool:
        return self.kind is ScopeKind.DM

    @property
    def user(self) -> str | None:
        """The user a DM scope is with; None for every other kind."""
        return self.about if self.kind is ScopeKind.DM else None

    @property
    def channel(self) -> str | None:
        """The channel of a private scope; None for every other kind."""
        return self.about if self.kind is ScopeKind.PRIVATE else None

    @property
    def visibility(self) -> str:
        """Who may see records under this scope, in words for the user a report is for."""
        match self.kind:
            case ScopeKind.AGENT:
                return "every workspace"
            case ScopeKind.WORKSPACE:
                return "everyone in this workspace"
            case ScopeKind.DM:
                return "only in our DM"
            case ScopeKind.PRIVATE:
                return f"only in the private channel {self.about}"

    def audience_of(self, conversation: ConversationKey, *, outside: bool = False) -> Audience:
        """The audience of ``conversation``, whose messages are stored under this scope;
        ``outside``: people of another organisation heard them (a Slack Connect channel or
        DM), so it reads nothing of the workspace's memory."""
        workspace, channel = conversation.workspace, conversation.channel
        match self.kind:
            case ScopeKind.DM:
                return Audience(workspace, AudienceKind.DM, channel, self.about, outside)
            case ScopeKind.PRIVATE:
                return Audience(workspace, AudienceKind.PRIVATE, channel, outside=outside)
            case ScopeKind.WORKSPACE:
                return Audience(workspace, AudienceKind.PUBLIC, channel, outside=outside)
            case ScopeKind.AGENT:
                raise ValueError(
                    f"messages of {conversation} carry the scope 'agent', which no "
                    "conversation's audience writes"
                )


_AGENT = Scope(ScopeKind.AGENT)
_WORKSPACE = Scope(ScopeKind.WORKSPACE)


class AudienceKind(StrEnum):
    DM = "dm"
    PRIVATE = "private"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Audience:
    """The people who will see a reply: one user (DM), one private channel, or a workspace."""

    workspace: str
    kind: AudienceKind
    channel: str
    user: str | None = None
    #: People outside the workspace see the reply too (a channel or DM shared with another
    #: organisation): it reads only what was learned right there, and the agent's own records.
    outside: bool = False

    def __post_init__(self) -> None:
        if not self.workspace:
            raise ValueError("an audience needs a workspace id")
        if self.kind is AudienceKind.DM and not self.user:
            raise ValueError("a DM audience needs the user it is with")
        if self.outside and self.kind is AudienceKind.PUBLIC:
            raise ValueError("an audience with people outside the workspace is never public")

    @property
    def write_scope(self) -> Scope:
        """The scope every record learned in this audience is stored under."""
        match self.kind:
            case AudienceKind.DM:
                assert self.user is not None
                return Scope.dm(self.user)
            case AudienceKind.PRIVATE:
                return Scope.private(self.channel)
            case AudienceKind.PUBLIC:
                return _WORKSPACE

    @property
    def readable_scopes(self) -> tuple[Scope, ...]:
        """Scopes whose records this audience is entitled to see, general to specific."""
        if self.kind is AudienceKind.PUBLIC:
            return (_AGENT, _WORKSPACE)
        if self.outside:
            return (_AGENT, self.write_scope)
        return (_AGENT, _WORKSPACE, self.write_scope)

    def can_read(self, workspace: str, scope: Scope) -> bool:
        """Whether a record stored under (``workspace``, ``scope``) may reach this audience."""
        if scope.kind is ScopeKind.AGENT:
            return workspace in (ALL_WORKSPACES, self.workspace)
        return workspace == self.workspace and scope in self.readable_scopes
