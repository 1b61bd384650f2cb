"""Steps reported by tools reach the platform of the turn that runs them, in order, without
the tool waiting for the platform; showing a step never fails or stalls the tool, and nothing
is shown once the turn's steps are closed."""

from __future__ import annotations

import asyncio

from engine.progress import STEP_TIMEOUT_S, report_step, reporting_steps, supersede_steps

#: Far longer than reporting a step takes, far shorter than the platform's timeout.
AT_ONCE_S = STEP_TIMEOUT_S / 2


async def test_steps_go_to_the_reporter_of_the_running_turn_only() -> None:
    shown: list[str] = []

    async def show(label: str) -> None:
        shown.append(label)

    await report_step("before any turn")
    async with reporting_steps(show) as sender:
        await report_step("searching memory…")
        await sender.landed(STEP_TIMEOUT_S)
        await asyncio.create_task(report_step("in a task the turn started"))
        await sender.landed(STEP_TIMEOUT_S)
        await report_step("")
    await report_step("after the turn")
    assert shown == ["searching memory…", "in a task the turn started"]


async def test_a_failing_or_hanging_platform_never_stops_the_tool() -> None:
    async def broken(label: str) -> None:
        raise ConnectionError("the platform is down")

    async def hanging(label: str) -> None:
        await asyncio.sleep(60)

    async with reporting_steps(broken):
        await asyncio.wait_for(report_step("searching memory…"), AT_ONCE_S)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with reporting_steps(hanging):
        await asyncio.wait_for(report_step("updating notes…"), AT_ONCE_S)
        reported = loop.time()
    # The tool went on at once; closing the turn's steps gave up after the platform's timeout.
    assert reported - started < AT_ONCE_S
    assert loop.time() - started < 30


async def test_steps_are_shown_in_order_and_a_superseded_one_is_skipped() -> None:
    shown: list[str] = []
    release = asyncio.Event()

    async def slow(label: str) -> None:
        shown.append(label)
        await release.wait()

    async with reporting_steps(slow) as sender:
        await report_step("searching memory…")
        await asyncio.sleep(0)  # the sender takes it, and waits for the platform
        for label in ("updating notes…", "asking the calendar…"):
            # Never waits for the platform, though it has not answered the first step yet.
            await asyncio.wait_for(report_step(label), AT_ONCE_S)
        assert shown == ["searching memory…"]
        release.set()
        await sender.landed(STEP_TIMEOUT_S)
        assert shown == ["searching memory…", "asking the calendar…"]
        await report_step("asking the calendar…")  # already shown: not sent again
        await sender.landed(STEP_TIMEOUT_S)
    assert shown == ["searching memory…", "asking the calendar…"]


class _HeldPlatform:
    """A platform that shows each step at once but answers only once ``release`` is set."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.landed: list[str] = []
        self.release = asyncio.Event()

    async def show(self, label: str) -> None:
        self.shown.append(label)
        await self.release.wait()
        self.landed.append(label)


async def test_no_step_is_shown_after_the_turns_steps_are_closed() -> None:
    platform = _HeldPlatform()
    async with reporting_steps(platform.show):
        await report_step("searching memory…")
        await asyncio.sleep(0)
        await report_step("updating notes…")  # still waiting when the turn ends
        asyncio.get_running_loop().call_later(0.05, platform.release.set)
    # The step on its way landed before the block was left; the waiting one was dropped.
    assert platform.landed == ["searching memory…"]
    await report_step("too late")
    await asyncio.sleep(0.1)
    assert platform.shown == ["searching memory…"]


async def test_the_reply_supersedes_a_waiting_step_once_the_one_on_its_way_landed() -> None:
    platform = _HeldPlatform()
    async with reporting_steps(platform.show) as sender:
        await report_step("searching memory…")
        await asyncio.sleep(0)
        await report_step("updating notes…")
        asyncio.get_running_loop().call_later(0.05, platform.release.set)
        await supersede_steps()  # the reply is about to show
        assert platform.landed == ["searching memory…"]
        await report_step("searching past conversations…")  # a step after the reply shows
        await sender.landed(STEP_TIMEOUT_S)
    assert platform.shown == ["searching memory…", "searching past conversations…"]
