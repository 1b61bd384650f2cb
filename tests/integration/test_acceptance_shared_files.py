"""Files shared with the Slack bot as a person tries them: in a thread, with a misleading name,
with scripts in them, deleted after sharing (the message, or the file: what it taught goes
unless another message still shares it), and sized differently than Slack says."""

from __future__ import annotations

from engine import SourceDocument
from tests.fakes import slack_payloads
from tests.fakes.pdf_files import pdf_bytes
from tests.fakes.slack_world import SlackWorld
from tests.integration.test_slack_backfill import until
from tests.integration.test_slack_files import (
    DM,
    HANDBOOK,
    SECRET,
    Sharing,
    documents,
    found,
    world,
)

__all__ = ["world"]


async def test_a_file_shared_in_a_thread_is_answered_in_that_thread(world: SlackWorld) -> None:
    sharing = Sharing(world)
    event = slack_payloads.message(
        "the handbook",
        channel="GSECRET",
        channel_type="group",
        ts="1700002000.000200",
        thread_ts="1700002000.000100",
        subtype="file_share",
    )
    assert await world.send(event | {"files": [sharing.host("handbook.md", HANDBOOK)]}) == 200
    [answer] = await world.replies(1, "GSECRET")
    assert answer["thread_ts"] == "1700002000.000100"
    assert answer["text"].startswith("Learned handbook.md")
    assert any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))


async def test_scripts_and_styles_of_a_shared_page_are_not_learned(world: SlackWorld) -> None:
    sharing = Sharing(world)
    page = (
        b"<html><head><title>Leave</title><style>.x{color:red}</style>"
        b"<script>var token='s3cr3t-script';</script></head>"
        b"<body><h1>Leave</h1><p>Parents get sixteen weeks of paid parental leave.</p>"
        b"<script>track('pageview')</script></body></html>"
    )
    await sharing.share([sharing.host("leave.html", page)])
    assert (await sharing.answer()).startswith("Learned leave.html")
    texts = " ".join(await found(world, DM, "parental leave sixteen weeks"))
    assert "sixteen weeks" in texts
    assert "s3cr3t" not in texts
    assert "color:red" not in texts
    assert "pageview" not in texts


async def test_markdown_with_only_front_matter_is_explained(world: SlackWorld) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("empty.md", b"---\ntitle: Nothing\ntags: [a]\n---\n")])
    answer = await sharing.answer()
    assert answer == "I couldn't learn empty.md: it has no text to learn from."


async def test_a_pdf_named_as_markdown_is_read_as_a_pdf(world: SlackWorld) -> None:
    sharing = Sharing(world)
    pdf = pdf_bytes([["Trains are booked for trips under four hours."]])
    await sharing.share([sharing.host("notes.md", pdf)])
    assert (await sharing.answer()).startswith("Learned notes.md: 1 section")
    texts = " ".join(await found(world, DM, "trains trips four hours"))
    assert "four hours" in texts
    assert "%PDF" not in texts
    assert "obj" not in texts


async def test_binary_bytes_named_as_text_are_refused(world: SlackWorld) -> None:
    sharing = Sharing(world)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 40
    await sharing.share([sharing.host("notes.txt", png)])
    assert (await sharing.answer()).startswith("I couldn't learn notes.txt")
    assert await documents(world) == []


async def test_a_page_named_txt_is_learned_as_text_without_its_scripts(world: SlackWorld) -> None:
    sharing = Sharing(world)
    page = b"<html><body><p>Desks are booked weekly.</p><script>steal()</script></body></html>"
    await sharing.share([sharing.host("desks.txt", page)])
    assert (await sharing.answer()).startswith("Learned desks.txt")
    texts = " ".join(await found(world, DM, "desks booked weekly"))
    assert "booked weekly" in texts
    assert "steal()" not in texts
    assert "<p>" not in texts


async def test_slack_understating_a_size_is_cut_off_at_the_limit(world: SlackWorld) -> None:
    sharing = Sharing(world)
    described = sharing.host("big.md", b"# Big\n\n" + b"word " * 20_000) | {"size": 100}
    await sharing.share([described])
    assert "limit for shared files" in await sharing.answer()
    assert await documents(world) == []


async def test_a_file_shared_without_a_message_is_left_alone(world: SlackWorld) -> None:
    sharing = Sharing(world)
    file = sharing.host("handbook.md", HANDBOOK)
    event = {
        "type": "file_shared",
        "file_id": file["id"],
        "user_id": "UANN",
        "file": {"id": file["id"]},
        "channel_id": "DUANN",
        "event_ts": "1700003000.000100",
    }
    assert await world.send(event) == 200
    await world.quiet(0.3)
    assert world.api.posted("DUANN") == []
    assert await documents(world) == []


async def test_deleting_the_message_that_shared_a_file_forgets_the_learned_document(
    world: SlackWorld,
) -> None:
    """As docs/sources.md says: the message is forgotten, and the document with it, since no
    other message shares it."""
    sharing = Sharing(world)
    ts = await sharing.share([sharing.host("handbook.md", HANDBOOK)], channel="GSECRET")
    [answer] = await world.replies(1, "GSECRET")
    assert answer["text"].startswith("Learned handbook.md")
    assert any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))
    assert await world.send(deleted(ts, "GSECRET", "group")) == 200
    await world.quiet(0.5)
    assert await documents(world) == []
    assert not any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))


async def none_left(world: SlackWorld) -> bool:
    return await documents(world) == []


def deleted(ts: str, channel: str, channel_type: str, user: str = "UANN") -> dict[str, object]:
    """Slack's ``message_deleted`` for the message ``ts`` (which shared a file)."""
    return slack_payloads.deletion(channel=channel, channel_type=channel_type) | {
        "ts": f"{ts[:-3]}900",
        "deleted_ts": ts,
        "previous_message": {"type": "message", "user": user, "text": "", "ts": ts},
    }


async def test_a_file_shared_by_two_messages_stays_until_both_are_taken_back(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    file = sharing.host("handbook.md", HANDBOOK)
    ann = await sharing.share([file], channel="GSECRET", mention=True)
    await sharing.answer(channel="GSECRET")
    again = sharing.host("handbook.md", HANDBOOK)
    await sharing.share([again], channel="GSECRET", mention=True, user="UBEN")
    await sharing.answer(2, channel="GSECRET")
    [document] = await documents(world)
    assert document.shared_by == ("UANN", "UBEN")

    assert await world.send(deleted(ann, "GSECRET", "group")) == 200
    await world.quiet()
    [kept] = await documents(world)
    assert kept.shared_by == ("UBEN",)
    assert any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))

    gone = {"type": "file_deleted", "file_id": again["id"], "event_ts": "1700009999.000100"}
    assert await world.send(gone) == 200
    await until(lambda: none_left(world), "the document removed with the file")
    assert not any("sixteen weeks" in t for t in await found(world, SECRET, "parental leave"))


async def test_unsharing_a_file_from_one_channel_keeps_what_it_taught_elsewhere(
    world: SlackWorld,
) -> None:
    sharing = Sharing(world)
    file = sharing.host("handbook.md", HANDBOOK)
    await sharing.share([file], text="for me")
    await sharing.answer()
    await sharing.share([file], channel="GSECRET", mention=True)
    await sharing.answer(channel="GSECRET")
    assert len(await documents(world)) == 2

    unshared = {
        "type": "file_unshared",
        "file_id": file["id"],
        "user_id": "UANN",
        "channel_id": "GSECRET",
        "event_ts": "1700009999.000100",
    }
    assert await world.send(unshared) == 200

    async def only_the_dms() -> bool:
        left: list[SourceDocument] = await documents(world)
        return [str(d.scope) for d in left] == ["dm:UANN"]

    await until(only_the_dms, "the channel's document removed")


async def test_the_bot_token_goes_only_to_slacks_own_file_host(world: SlackWorld) -> None:
    """A file whose address is not Slack's (here the same fake under another host name) is
    refused before the token is sent anywhere."""
    sharing = Sharing(world)
    file = sharing.host("handbook.md", HANDBOOK)
    elsewhere = str(file["url_private"]).replace("127.0.0.1", "localhost")
    await sharing.share([file | {"url_private": elsewhere, "url_private_download": elsewhere}])
    assert (await sharing.answer()).startswith("I couldn't learn handbook.md: it is not on Slack")
    assert world.api.downloads == []
    assert await documents(world) == []


async def test_a_size_slack_overstates_is_refused_before_downloading(world: SlackWorld) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("handbook.md", HANDBOOK) | {"size": 10 * 2**20}])
    assert "over the 64 KiB limit" in await sharing.answer()
    assert world.api.downloads == []


async def test_a_file_name_cannot_mention_the_whole_channel(world: SlackWorld) -> None:
    sharing = Sharing(world)
    await sharing.share([sharing.host("<!channel> plan.md", HANDBOOK)], channel="GSECRET")
    [answer] = await world.replies(1, "GSECRET")
    assert "<!channel>" not in answer["text"]
    assert answer["text"].startswith("Learned &lt;!channel&gt; plan.md")


async def test_raw_html_in_markdown_keeps_its_words_not_its_scripts(world: SlackWorld) -> None:
    sharing = Sharing(world)
    notes = (
        b"# Leave\n\n<script>track('s3cr3t-md')</script>\n\n<style>.x{color:red}</style>\n\n"
        b"<!-- draft: remove -->\n\n<div align=center><b>Parents get sixteen weeks.</b></div>\n"
    )
    await sharing.share([sharing.host("leave.md", notes)])
    assert (await sharing.answer()).startswith("Learned leave.md")
    texts = " ".join(await found(world, DM, "parents sixteen weeks leave"))
    assert "Parents get sixteen weeks." in texts
    for hidden in ("s3cr3t-md", "color:red", "draft", "<div"):
        assert hidden not in texts


async def test_front_matter_is_not_learned_as_a_section(world: SlackWorld) -> None:
    sharing = Sharing(world)
    notes = b"---\ntitle: Leave policy\nowner: hr-team\n---\n\nParents get sixteen weeks.\n"
    await sharing.share([sharing.host("leave.md", notes)])
    assert await sharing.answer() == "Learned leave.md: 1 section (I'll use it only in our DMs)."
    texts = " ".join(await found(world, DM, "parents sixteen weeks"))
    assert "Parents get sixteen weeks." in texts
    assert "hr-team" not in texts
    [document] = await documents(world)
    chunks = await world.runtime.store.sources.chunks_of(document.id)
    assert [chunk.section for chunk in chunks] == [""]
