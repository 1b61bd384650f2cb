"""The inspector page in headless Chromium against a ``mnemo run`` process: chat as a user,
watch the agent's memory block change and the context window grow, and see the audience
rules keep a DM's memory out of a public channel."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from tests.e2e.mnemo_process import MnemoProcess, bot_environment
from tests.fakes.openai_server import FakeOpenAI, tool_call

pytestmark = pytest.mark.slow

#: Debian's Chromium, installed by ``make test``; nothing here downloads a browser.
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Milliseconds the page gets to show a turn's outcome (a shared, busy machine).
SHOWN = 30_000
expect.set_options(timeout=SHOWN)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (make test installs it: apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def mnemo_environment(llm: FakeOpenAI, workdir: Path, **settings: str) -> dict[str, str]:
    """Settings of every ``mnemo`` command a test runs: one store under ``workdir``."""
    return bot_environment(
        OPENAI_API_KEY="sk-inspector-e2e",
        OPENAI_BASE_URL=llm.base_url,
        MNEMO_DATA_DIR=str(workdir / "data"),
        **settings,
    )


async def mnemo(llm: FakeOpenAI, workdir: Path, *command: str, typed: str = "") -> None:
    """Run one ``mnemo`` command to its end, ``typed`` on its standard input."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *command,
        cwd=workdir,
        env=mnemo_environment(llm, workdir),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(typed.encode()), timeout=SHOWN / 1000)
    assert process.returncode == 0, err.decode()


@asynccontextmanager
async def inspector_page(browser: Browser, llm: FakeOpenAI, workdir: Path) -> AsyncIterator[Page]:
    """The inspector page of a ``mnemo run`` whose store is under ``workdir``."""
    token = secrets.token_urlsafe(16)
    env = mnemo_environment(
        llm,
        workdir,
        MNEMO_HTTP_HOST="127.0.0.1",
        MNEMO_HTTP_PORT="0",
        MNEMO_LOG_FORMAT="json",
        MNEMO_INSPECTOR_TOKEN=token,
    )
    async with MnemoProcess(env, workdir, "inspector") as bot:
        opened = await browser.new_page()
        opened.set_default_timeout(SHOWN)
        await opened.goto(f"http://127.0.0.1:{bot.port}/inspector/#token={token}")
        yield opened
        await opened.close()


@pytest.fixture
async def page(browser: Browser, llm: FakeOpenAI, tmp_path: Path) -> AsyncIterator[Page]:
    async with inspector_page(browser, llm, tmp_path) as opened:
        yield opened


def block(page: Page, label: str) -> Locator:
    return page.locator(f'.block[data-label="{label}"]')


async def messages_tokens(page: Page) -> int:
    return int(await page.locator('[data-section="messages"] td').nth(1).inner_text())


async def test_chat_changes_a_block_and_the_context_window(page: Page, llm: FakeOpenAI) -> None:
    await expect(page.locator("#agent option")).to_have_text(["mnemo"])
    await expect(block(page, "persona")).to_contain_text("friendly, concise assistant")
    await expect(page.locator('[data-section="messages"]')).to_be_visible()
    before = await messages_tokens(page)

    llm.push(
        tool_call("core_memory_append", label="human", content="Loves sailing on weekends."),
        tool_call("send_message", message="Sailing sounds wonderful!"),
    )
    await page.fill("#chat-input", "I go sailing every weekend")
    await page.click("#chat-send")

    await expect(page.locator("#transcript .line.agent")).to_contain_text(
        "Sailing sounds wonderful!"
    )
    human = block(page, "human")
    await expect(human.locator("textarea").first).to_have_value("Loves sailing on weekends.")
    await expect(human.locator(".size")).to_have_text("26/2000")
    await expect(page.locator("#context-messages")).to_contain_text("I go sailing every weekend")
    await expect(page.locator("#context-messages")).to_contain_text("Loves sailing on weekends.")
    assert await messages_tokens(page) > before

    # What was said is in this conversation's recall, found by the recall panel's search.
    await page.click('[data-panel="recall"]')
    await page.check("#recall-channel")
    await page.fill("#recall-query", "sailing every weekend")
    await page.click("#recall-form button[type=submit]")
    await expect(page.locator("#recall-results li").first).to_contain_text("sailing")
    await expect(page.locator("#recall-total")).to_contain_text("messages visible")
    await page.click('[data-panel="context"]')

    # The same user in a public channel: the DM's memory is not in view there.
    await page.select_option("#kind", "public")
    await expect(page.locator("#audience")).to_contain_text("writes to workspace")
    await expect(block(page, "human").locator("textarea")).to_have_count(1)
    await expect(block(page, "human").locator("textarea")).to_have_value("")
    await expect(page.locator("#context-messages")).not_to_contain_text("sailing")


async def test_block_edited_on_the_page_reaches_the_context_window(page: Page) -> None:
    persona = block(page, "persona").locator(".part:not(.new)")
    await expect(persona).to_contain_text("seen everywhere")
    await persona.locator("textarea").fill("I am Mnemo, and I answer in haiku.")
    await persona.get_by_role("button", name="Save").click()
    await expect(page.locator("#status")).to_have_text("persona saved")
    await expect(block(page, "persona").locator(".size")).to_have_text("34/3000")
    await expect(page.locator("#context-messages")).to_contain_text("I answer in haiku.")


async def test_tool_tester_stores_a_passage_found_by_search_and_deleted(page: Page) -> None:
    await page.click('[data-panel="tools"]')
    await page.select_option("#tool-name", "archival_memory_insert")
    await page.fill("#tool-args", '{"content": "The boat is called Seagull.", "tags": ["boat"]}')
    await page.click("#tool-form button[type=submit]")
    await expect(page.locator("#tool-result")).to_contain_text("Stored in archival memory.")
    await expect(page.locator("#context-messages")).to_contain_text("Archival memory: 1 passages")

    await page.click('[data-panel="archival"]')
    await page.fill("#archival-query", "boat name")
    await page.click("#archival-form button[type=submit]")
    results = page.locator("#archival-results li")
    await expect(results).to_contain_text(["The boat is called Seagull."])

    page.once("dialog", lambda dialog: dialog.accept())
    await results.get_by_role("button", name="Delete").click()
    await expect(page.locator("#archival-total")).to_have_text(
        "0 passages visible to this audience"
    )
    await expect(results).to_have_count(0)


async def test_the_page_opens_on_the_default_agent_in_its_latest_conversation(
    browser: Browser, llm: FakeOpenAI, tmp_path: Path
) -> None:
    # Another agent whose name sorts first, and a terminal chat with the default agent.
    await mnemo(llm, tmp_path, "agents", "create", "aardvark")
    llm.push(tool_call("send_message", message="Bees! How lovely."))
    await mnemo(llm, tmp_path, "chat", typed="I keep bees on the roof.\n")

    async with inspector_page(browser, llm, tmp_path) as page:
        await expect(page.locator("#agent option:checked")).to_have_text("mnemo")
        await expect(page.locator("#workspace")).to_have_value("console:local")
        await expect(page.locator("#channel")).to_have_value("dm-you")
        await expect(page.locator("#context-messages")).to_contain_text("I keep bees on the roof.")


async def test_sources_panel_cites_a_line_and_forgets_it(page: Page, llm: FakeOpenAI) -> None:
    llm.push(
        tool_call("core_memory_append", label="human", content="Loves sailing on weekends."),
        tool_call("send_message", message="Sailing sounds wonderful!"),
    )
    await page.fill("#chat-input", "I go sailing every weekend")
    await page.click("#chat-send")
    await expect(page.locator("#transcript .line.agent")).to_contain_text("Sailing sounds")

    await page.click('[data-panel="sources"]')
    await page.fill("#sources-query", "sailing")
    await page.click("#sources-form button[type=submit]")
    line = page.locator("#sources-results li").filter(has_text="Loves sailing on weekends.")
    await expect(line.locator(".sources")).to_contain_text("I go sailing every weekend")

    page.once("dialog", lambda dialog: dialog.accept())
    await line.get_by_role("button", name="Forget").click()
    await expect(page.locator("#status")).to_contain_text("Forgot")
    await expect(block(page, "human").locator("textarea")).to_have_value("")
