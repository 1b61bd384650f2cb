"""The conversation a request looks through: its audience decides which memory the page sees."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from engine import (
    Agent,
    Audience,
    AudienceKind,
    Author,
    BlockStore,
    ConversationKey,
    RecordFilter,
    TurnMemory,
)


class ConversationQuery(BaseModel):
    """A channel or DM of a workspace, and who speaks in it (the ``human`` block's subject)."""

    workspace: str = Field(min_length=1, description="Workspace or guild id, e.g. slack:T0123.")
    kind: AudienceKind = Field(description="dm, private or public.")
    channel: str = Field(min_length=1, description="Channel id (the DM channel for a DM).")
    user: str = Field(default="", description="The speaker's user id; required for a DM.")
    thread: str = Field(default="", description="Thread id; empty for the channel itself.")
    user_name: str = Field(default="", description="How the speaker is called.")
    channel_name: str = Field(default="", description="How the channel is called, e.g. #general.")

    @model_validator(mode="after")
    def _dm_needs_user(self) -> ConversationQuery:
        if self.kind is AudienceKind.DM and not self.user:
            raise ValueError("a DM conversation needs the user it is with (user)")
        return self

    @property
    def audience(self) -> Audience:
        user = self.user if self.kind is AudienceKind.DM else None
        return Audience(self.workspace, self.kind, self.channel, user)

    def key(self, agent_id: str) -> ConversationKey:
        return ConversationKey(agent_id, self.workspace, self.channel, self.thread)

    def where(self, agent: Agent, *, this_channel: bool = False) -> RecordFilter:
        """What this audience may read of the agent's recall and archival memory."""
        where = RecordFilter.for_audience(agent.id, self.audience)
        if this_channel:
            return RecordFilter(where.agent_id, where.workspace, where.scopes, channel=self.channel)
        return where

    @property
    def speaker_name(self) -> str:
        return self.user_name or self.user

    @property
    def channel_label(self) -> str:
        """The channel as the agent's prompt names it (same wording as a real turn)."""
        if self.kind is AudienceKind.DM:
            return "direct messages"
        return self.channel_name or self.channel

    def memory(self, blocks: BlockStore, agent: Agent) -> TurnMemory:
        """Core memory exactly as a turn of this conversation would see and edit it."""
        return TurnMemory(
            blocks,
            agent,
            self.audience,
            speaker=Author(self.user, self.speaker_name),
            channel_name=self.channel_label,
            shared=agent.shared_blocks,
        )
