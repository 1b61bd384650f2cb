"""Files shared with the Slack bot are learned as knowledge sources with the audience of the
conversation they were shared in, where the agent's config turns learning on; the person is
told in the thread what was learned or why not, and nothing of a refused file is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.serving import Serving
from adapters.shared_files import FileLearning
from engine import Audience, AudienceKind, RecordFilter, SourceDocument
from tests.fakes import slack_payloads
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.pdf_files import pdf_bytes
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import SlackWorld, collection_api, slack_bot

TOKEN = "xoxb-scenario"
WORKSPACE = f"slack:{slack_payloads.TEAM}"
DM = Audience(WORKSPACE, AudienceKind.DM, "DUANN", "UANN")
GENERAL = Audience(WORKSPACE, AudienceKind.PUBLIC, "CGEN")
SECRET = Audience(WORKSPACE, AudienceKind.PRIVATE, "GSECRET")
HANDBOOK = b"""# Handbook

## Leave

Parents get sixteen weeks of paid parental leave.

## Expenses

Receipts are paid back within two weeks.
"""


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """The bot learning files in DMs and in #secret, up to 64 KiB, answering no turns."""
    learning = FileLearning(frozenset({"GSECRET"}), dms=True, max_bytes=64 * 1024)
    async with (
        FakeOpenAI() as llm,
        collection_api() as api,
        slack_bot(
            tmp_path, llm, api, turns=False, serving=Serving(file_learning=learning)
        ) as running,
    ):
        yield running


class Sharing:
    """Ann sharing files with the bot, each in a message of its own."""

    def __init__(self, world: SlackWorld) -> None:
        self.world = world
        self.sent = 0

    async def share(
        self,
        files: list[dict[str, Any]],
        *,
        channel: str = "DUANN",
        text: str = "",
        mention: bool = False,
        **fields: Any,
    ) -> str:
        """Ann's message sharing ``files`` (or whoever ``fields`` say wrote it); its ts."""
        self.sent += 1
        ts = f"1700001{self.sent:03d}.000100"
        channel_type = {"DUANN": "im", "CGEN": "channel", "GSECRET": "group"}[channel]
        said = f"<@{slack_payloads.BOT_USER}> {text}" if mention else text
        event = slack_payloads.message(
            said, channel=channel, channel_type=channel_type, ts=ts, subtype="file_share", **fields
        )
        assert await self.world.send(event | {"files": files}) == 200
        return ts

    def host(self, name: str, data: bytes, *, token: str = TOKEN) -> dict[str, Any]:
        return self.api.host_file(name, data, token=token)

    @property
    def api(self) -> FakeSlackApi:
        return self.world.api

    async def answer(self, count: int = 1, channel: str = "DUANN") -> str:
        """The bot's ``count``-th message in ``channel``."""
        return str((await self.world.replies(count, channel))[count - 1]["text"])


async def documents(world: SlackWorld) -> list[SourceDocument]:
    return await world.runtime.store.sources.documents(world.runtime.default_agent.id)


async def found(world: SlackWorld, audience: Audience, query: str) -> list[str]:
    """Archival passages a turn in ``audience`` would find for ``query``."""
    runtime = world.runtime
    where = RecordFilter.for_audience(runtime.default_agent.id, audience)
    return [hit.record.text for hit in await runtime.search.passages(where, query, 10)]


async def test_markdown_shared_in_a_dm_is_learned_for_that_dm_only(world: SlackWorld) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("handbook.md", HANDBOOK)], text="our handbook")

    answer = await sharing.answer()
    assert answer == "Learned handbook.md: 2 sections (I'll use it only in our DMs)."
    [document] = await documents(world)
    assert (document.name, str(document.scope), document.workspace) == (
        "handbook.md",
        "dm:UANN",
        WORKSPACE,
    )
    assert any("sixteen weeks" in text for text in await found(world, DM, "parental leave"))
    assert not any("sixteen weeks" in t for t in await found(world, GENERAL, "parental leave"))
    assert not any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))
    # Downloaded with the bot token; the message itself was remembered as usual.
    assert world.api.downloads == [("F0001", TOKEN)]
    [inbound] = world.intake.inbounds
    assert inbound.text == "our handbook"
    assert [a.split(" ")[0] for a in inbound.attachments] == ["handbook.md"]


async def test_a_file_a_partner_shares_in_a_public_channel_is_learned_for_that_channel_only(
    tmp_path: Path,
) -> None:
    learning = FileLearning(frozenset({"CGEN"}), dms=False, max_bytes=64 * 1024)
    async with (
        FakeOpenAI() as llm,
        collection_api() as api,
        slack_bot(tmp_path, llm, api, turns=False, serving=Serving(file_learning=learning)) as w,
    ):
        sharing = Sharing(w)
        partner = slack_payloads.PARTNER
        await sharing.share(
            [sharing.host("handbook.md", HANDBOOK)],
            channel="CGEN",
            user="UPARTNER",
            team=partner,
            user_team=partner,
        )

        await sharing.answer(channel="CGEN")
        [document] = await documents(w)
        assert str(document.scope) == "private:CGEN"
        in_general = Audience(WORKSPACE, AudienceKind.PRIVATE, "CGEN")
        assert any("sixteen weeks" in t for t in await found(w, in_general, "parental leave"))
        elsewhere = Audience(WORKSPACE, AudienceKind.PUBLIC, "CRANDOM")
        assert not any("sixteen weeks" in t for t in await found(w, elsewhere, "parental leave"))


async def test_pdf_in_a_private_channel_is_learned_for_that_channel(world: SlackWorld) -> None:
    sharing = Sharing(world)
    pdf = pdf_bytes([["Travel policy."], ["Trains are booked for trips under four hours."]])
    ts = await sharing.share([sharing.host("travel.pdf", pdf)], channel="GSECRET")

    [answer] = await world.replies(1, "GSECRET")
    assert (
        answer["text"]
        == "Learned travel.pdf: 2 sections (I'll use it only in this private channel)."
    )
    assert answer["thread_ts"] == ts
    [document] = await documents(world)
    assert str(document.scope) == "private:GSECRET"
    assert any("four hours" in text for text in await found(world, SECRET, "trains trips"))
    assert not any("four hours" in text for text in await found(world, GENERAL, "trains trips"))


async def test_the_same_file_shared_twice_is_learned_once(world: SlackWorld) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("handbook.md", HANDBOOK)])
    await sharing.answer(1)
    passages = await world.runtime.store.passages.count(
        RecordFilter.for_audience(world.runtime.default_agent.id, DM)
    )
    await sharing.share([sharing.host("handbook.md", HANDBOOK)])

    assert await sharing.answer(2) == "I already know handbook.md (2 sections); nothing changed."
    assert len(await documents(world)) == 1
    assert passages == 2
    assert passages == await world.runtime.store.passages.count(
        RecordFilter.for_audience(world.runtime.default_agent.id, DM)
    )


async def test_a_message_delivered_twice_learns_and_answers_once(world: SlackWorld) -> None:
    sharing = Sharing(world)
    file = sharing.host("handbook.md", HANDBOOK)
    event = slack_payloads.message(
        f"<@{slack_payloads.BOT_USER}> read this",
        channel="GSECRET",
        channel_type="group",
        ts="1700002000.000100",
    ) | {"files": [file]}
    assert await world.send(event) == 200
    assert await world.send(event | {"type": "app_mention"}) == 200

    await world.replies(1, "GSECRET")
    await world.quiet()
    assert len(world.api.posted("GSECRET")) == 1
    assert len(world.api.downloads) == 1


async def test_a_file_where_learning_is_off_is_not_learned_and_the_sharer_is_told(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("handbook.md", HANDBOOK)], channel="CGEN")
    await sharing.share([sharing.host("notes.md", HANDBOOK)], channel="CGEN", mention=True)

    [answer] = await world.replies(1, "CGEN")
    assert answer["text"] == (
        "Learning shared files is off in this channel; an admin can turn it on "
        "(`learn_files` in the agents file)."
    )
    await world.quiet()
    assert len(world.api.posted("CGEN")) == 1  # a file not shared with the bot: no answer
    assert world.api.downloads == []
    assert await documents(world) == []


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("big.md", b"# Big\n\n" + b"word " * 20_000, "is 98 KiB, over the 64 KiB limit"),
        ("slides.pptx", b"PK\x03\x04 not a document we read", "has an unsupported type (.pptx)"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "is a damaged PDF"),
        ("locked.md", HANDBOOK, "could not be downloaded: a web page came back"),
    ],
)
async def test_a_refused_file_is_explained_and_nothing_is_stored(
    world: SlackWorld, name: str, data: bytes, why: str
) -> None:
    sharing = Sharing(world)
    token = "xoxb-someone-else" if name == "locked.md" else TOKEN
    await sharing.share([sharing.host(name, data, token=token)])

    answer = await sharing.answer()
    assert answer.startswith(f"I couldn't learn {name}: it {why}")
    assert await documents(world) == []
    everything = RecordFilter(world.runtime.default_agent.id, WORKSPACE, DM.readable_scopes)
    assert await world.runtime.store.passages.count(everything) == 0
    if name in ("big.md", "slides.pptx"):
        assert world.api.downloads == []  # refused before it was fetched


async def test_files_of_one_message_are_answered_together_and_the_next_still_learned(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    await sharing.share(
        [sharing.host("photo.png", b"\x89PNG"), sharing.host("handbook.md", HANDBOOK)]
    )

    assert await sharing.answer() == (
        "I couldn't learn photo.png: it has an unsupported type (.png); I read .htm, .html, "
        ".markdown, .md, .pdf, .text, .txt.\n"
        "Learned handbook.md: 2 sections (I'll use it only in our DMs)."
    )
    assert [d.name for d in await documents(world)] == ["handbook.md"]


async def test_forgetting_the_sharer_removes_what_they_shared_in_dms_and_channels(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("handbook.md", HANDBOOK)])
    await sharing.share([sharing.host("team.md", HANDBOOK)], channel="GSECRET")
    await sharing.answer(1)
    await world.replies(1, "GSECRET")
    assert [d.shared_by for d in await documents(world)] == [("UANN",), ("UANN",)]

    report = await world.runtime.user_data.forget_user(WORKSPACE, "UANN")

    # A channel's document is content they contributed: it goes with them (docs/lineage.md).
    assert await documents(world) == []
    assert report.documents == 2
    assert await found(world, DM, "parental leave") == []
    assert await found(world, SECRET, "parental leave") == []


async def test_files_the_bot_or_another_bot_posted_are_not_learned(world: SlackWorld) -> None:
    sharing = Sharing(world)
    own = slack_payloads.message(
        "your export", channel="DUANN", channel_type="im", ts="1700003000.000100"
    )
    own |= {"user": slack_payloads.BOT_USER, "bot_id": "BBOT", "subtype": "file_share"}
    integration = own | {"user": "UJIRA", "bot_id": "BJIRA", "ts": "1700003001.000100"}
    for event in (own, integration):
        assert await world.send(event | {"files": [sharing.host("notes.md", HANDBOOK)]}) == 200

    await world.quiet()
    assert world.api.posted() == []
    assert world.api.downloads == []
    assert await documents(world) == []


async def test_a_file_in_a_channel_the_agent_does_not_serve_is_refused(tmp_path: Path) -> None:
    learning = FileLearning(frozenset({"CGEN", "GSECRET"}), dms=True)
    async with (
        FakeOpenAI() as llm,
        collection_api() as api,
        slack_bot(
            tmp_path,
            llm,
            api,
            turns=False,
            serving=Serving(file_learning=learning, served_channels=frozenset({"GSECRET"})),
        ) as world,
    ):
        sharing = Sharing(world)
        await sharing.share([sharing.host("handbook.md", HANDBOOK)], channel="CGEN", mention=True)

        [answer] = await world.replies(1, "CGEN")
        assert answer["text"] == "I don't serve this channel, so I don't learn files shared here."
        assert world.api.downloads == []
        assert await documents(world) == []


async def test_a_share_delivered_again_after_a_restart_stores_nothing_twice(
    tmp_path: Path,
) -> None:
    learning = FileLearning(dms=True)
    async with FakeOpenAI() as llm, collection_api() as api:
        file = api.host_file("handbook.md", HANDBOOK, token=TOKEN)
        event = slack_payloads.message(
            "", channel="DUANN", channel_type="im", ts="1700004000.000100", subtype="file_share"
        ) | {"files": [file]}
        for _ in ("before the restart", "after it, on the same data"):
            async with slack_bot(
                tmp_path, llm, api, turns=False, serving=Serving(file_learning=learning)
            ) as world:
                assert await world.send(event, event_id="EvShare") == 200
                await world.replies(len(api.posted("DUANN")) + 1, "DUANN")
                [document] = await documents(world)
                passages = await world.runtime.store.passages.count(
                    RecordFilter.for_audience(world.runtime.default_agent.id, DM)
                )
                assert (document.chunks, passages) == (2, 2)

    assert [m["text"] for m in api.posted("DUANN")] == [
        "Learned handbook.md: 2 sections (I'll use it only in our DMs).",
        "I already know handbook.md (2 sections); nothing changed.",
    ]


async def test_a_picture_shared_in_a_learning_channel_passes_by_quietly(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("screenshot.png", b"\x89PNG")], channel="GSECRET")
    await sharing.share(
        [sharing.host("screenshot.png", b"\x89PNG"), sharing.host("team.md", HANDBOOK)],
        channel="GSECRET",
    )

    [answer] = await world.replies(1, "GSECRET")
    assert (
        answer["text"] == "Learned team.md: 2 sections (I'll use it only in this private channel)."
    )
    await world.quiet()
    assert len(world.api.posted("GSECRET")) == 1


async def test_a_file_named_only_by_its_id_is_looked_up_and_learned(world: SlackWorld) -> None:
    sharing = Sharing(world)
    hosted = sharing.host("partners.md", HANDBOOK)
    gone = {"id": "F9999", "file_access": "check_file_info"}
    await sharing.share([{"id": hosted["id"], "file_access": "check_file_info"}, gone])

    assert await sharing.answer() == (
        "Learned partners.md: 2 sections (I'll use it only in our DMs).\n"
        "I couldn't learn F9999: it could not be looked up (file_not_found)."
    )
    assert [call.args["file"] for call in world.api.calls_of("files.info")] == [
        hosted["id"],
        "F9999",
    ]
