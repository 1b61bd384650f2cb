"""What makes two inbox items one: the keys both backends keep beside each item."""

from __future__ import annotations

from engine.records import Inbound


def dedupe_keys(inbound: Inbound) -> dict[str, str]:
    """The inbound's identities as flat fields, for the unique indexes that collapse
    redeliveries: (platform, agent, event id) for one event retried, and (platform, agent,
    channel, message ref, kind) for one message delivered through two event types."""
    return {
        "platform": inbound.platform,
        "agent_id": inbound.agent_id,
        "event_id": inbound.event_id,
        "channel": inbound.channel,
        "message_ref": inbound.message_ref,
        "kind": inbound.kind.value,
    }
