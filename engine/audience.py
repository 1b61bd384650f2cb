"""Who hears a turn, and therefore which memory it may read and where its writes land.

DESIGN §3, the rule never broken: a turn reads only records whose scope is visible to
everyone who will see the reply, and writes only into the most specific scope of its audience.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: Records of the agent itself (its base persona), visible in every workspace.
SCOPE_AGENT = "agent"
#: Records learned in a public channel, or set for a whole workspace.
SCOPE_WORKSPACE = "workspace"
#: Blocks whose ``workspace`` is this value apply to every workspace (the base persona).
ALL_WORKSPACES = ""


def dm_scope(user: str) -> str:
    """Scope of what was learned in a direct conversation with ``user``."""
    return f"dm:{user}"


def private_scope(channel: str) -> str:
    """Scope of what was learned in the private channel (or group DM) ``channel``."""
    return f"private:{channel}"


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

    def __post_init__(self) -> None:
        if not self.workspace:
            raise ValueError("an audience needs a workspace id")
        if self.kind is AudienceKind.DM and not self.user:
            raise ValueError("a DM audience needs the user it is with")

    @property
    def write_scope(self) -> str:
        """The scope every record learned in this audience is stored under."""
        match self.kind:
            case AudienceKind.DM:
                assert self.user is not None
                return dm_scope(self.user)
            case AudienceKind.PRIVATE:
                return private_scope(self.channel)
            case AudienceKind.PUBLIC:
                return SCOPE_WORKSPACE

    @property
    def readable_scopes(self) -> tuple[str, ...]:
        """Scopes whose records this audience is entitled to see, general to specific."""
        if self.kind is AudienceKind.PUBLIC:
            return (SCOPE_AGENT, SCOPE_WORKSPACE)
        return (SCOPE_AGENT, SCOPE_WORKSPACE, self.write_scope)

    def can_read(self, workspace: str, scope: str) -> bool:
        """Whether a record stored under (``workspace``, ``scope``) may reach this audience."""
        if scope == SCOPE_AGENT:
            return workspace in (ALL_WORKSPACES, self.workspace)
        return workspace == self.workspace and scope in self.readable_scopes
