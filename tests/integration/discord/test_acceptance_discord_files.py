"""Files shared with the Discord bot as a person tries them: a name meant to ping everyone."""

from __future__ import annotations

from tests.integration.discord.test_discord_files import HANDBOOK, Scene, scene

__all__ = ["scene"]


async def test_a_file_name_cannot_mention_everyone(scene: Scene) -> None:
    general = scene.world.general
    await scene.share(general, "@everyone.md", HANDBOOK)
    [answer] = await scene.replies(general)
    assert answer.content.startswith("Learned @everyone.md")
    assert answer.allowed_mentions is not None
    assert answer.allowed_mentions["parse"] == []
