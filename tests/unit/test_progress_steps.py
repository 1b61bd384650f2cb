"""Steps reported by tools reach the platform of the turn that runs them, and showing a step
never fails or stalls the tool."""

from __future__ import annotations

import asyncio

from engine.progress import STEP_TIMEOUT_S, report_step, reporting_steps


async def test_steps_go_to_the_reporter_of_the_running_turn_only() -> None:
    shown: list[str] = []

    async def show(label: str) -> None:
        shown.append(label)

    await report_step("before any turn")
    with reporting_steps(show):
        await report_step("searching memory…")
        await asyncio.create_task(report_step("in a task the turn started"))
        await report_step("")
    await report_step("after the turn")
    assert shown == ["searching memory…", "in a task the turn started"]


async def test_a_failing_or_hanging_platform_never_stops_the_tool() -> None:
    async def broken(label: str) -> None:
        raise ConnectionError("the platform is down")

    async def hanging(label: str) -> None:
        await asyncio.sleep(60)

    with reporting_steps(broken):
        await report_step("searching memory…")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with reporting_steps(hanging):
        await report_step("updating notes…")
    # Given up after its timeout, far before the platform would have answered.
    assert STEP_TIMEOUT_S - 0.1 <= loop.time() - started < 30
