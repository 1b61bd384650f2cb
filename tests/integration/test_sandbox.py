"""Custom tools run in a confined process: whatever a tool does, the agent gets a readable
outcome and the bot goes on."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from pathlib import Path

import pytest

from engine.tools.custom import tool_from_source
from engine.tools.sandbox import Sandbox, SandboxLimits, SandboxOutcome

LIMITS = SandboxLimits(wall_seconds=3.0, cpu_seconds=2, memory_bytes=192 * 2**20)


async def run_tool(
    body: str, args: dict[str, object] | None = None, limits: SandboxLimits = LIMITS
) -> SandboxOutcome:
    """Run ``def tool(...)`` defined by ``body`` (imports and signature included)."""
    tool = tool_from_source(textwrap.dedent(body), "tool", origin="/srv/tools/probe.py")
    return await Sandbox().run(tool, args or {}, memory=None, limits=limits)


async def test_a_normal_tool_returns_its_value_as_json_and_keeps_its_prints() -> None:
    outcome = await run_tool(
        '''
        def tool(a: int, b: int) -> dict:
            """Add two numbers."""
            print("adding", a, b)
            return {"sum": a + b, "pid_is_mine": False}
        ''',
        {"a": 2, "b": 3},
    )
    assert outcome.ok, outcome.output
    assert outcome.output == '{"sum": 5, "pid_is_mine": false}'
    assert outcome.logs == "adding 2 3\n"
    assert "audit hook" in outcome.isolation


async def test_a_string_result_is_passed_through_unquoted() -> None:
    outcome = await run_tool(
        '''
        def tool(name: str) -> str:
            """Greet."""
            return f"Hello, {name}!"
        ''',
        {"name": "Ada"},
    )
    assert outcome == SandboxOutcome(True, "Hello, Ada!", "", outcome.isolation)


async def test_async_tools_and_enum_arguments_work() -> None:
    outcome = await run_tool(
        '''
        import asyncio
        from enum import Enum

        class Unit(Enum):
            C = "c"
            F = "f"

        async def tool(unit: Unit) -> str:
            """Report the unit."""
            await asyncio.sleep(0)
            return f"{type(unit).__name__}.{unit.name}"
        ''',
        {"unit": "f"},
    )
    assert outcome.ok, outcome.output
    assert outcome.output == "Unit.F"


async def test_a_hanging_tool_is_stopped_at_the_wall_clock_limit() -> None:
    started = time.monotonic()
    outcome = await run_tool(
        '''
        import time

        def tool() -> str:
            """Hang."""
            time.sleep(60)
            return "never"
        ''',
        limits=SandboxLimits(wall_seconds=1.5),
    )
    elapsed = time.monotonic() - started
    assert not outcome.ok
    assert "did not finish within 1.5 s" in outcome.output
    assert elapsed < 6


async def test_other_work_goes_on_while_a_tool_hangs() -> None:
    hanging = asyncio.create_task(
        run_tool(
            '''
            def tool() -> str:
                """Spin."""
                while True:
                    pass
            ''',
            limits=SandboxLimits(wall_seconds=1.0, cpu_seconds=10),
        )
    )
    quick = await run_tool(
        '''
        def tool() -> int:
            """Answer."""
            return 42
        '''
    )
    assert quick.ok
    assert quick.output == "42"
    assert not hanging.done()
    outcome = await hanging
    assert "did not finish" in outcome.output


async def test_cpu_limit_stops_a_busy_tool() -> None:
    outcome = await run_tool(
        '''
        def tool() -> str:
            """Burn CPU."""
            while True:
                pass
        ''',
        limits=SandboxLimits(wall_seconds=8.0, cpu_seconds=1),
    )
    assert not outcome.ok
    assert "more than 1 s of CPU time" in outcome.output


async def test_a_segfault_becomes_a_tool_error() -> None:
    outcome = await run_tool(
        '''
        import ctypes

        def tool() -> str:
            """Crash."""
            return ctypes.string_at(0).decode()
        '''
    )
    assert not outcome.ok
    assert outcome.output == "Error: tool failed: the tool crashed (segmentation fault)"


async def test_os_exit_becomes_a_tool_error_with_the_last_output() -> None:
    outcome = await run_tool(
        '''
        import os

        def tool() -> str:
            """Leave abruptly."""
            print("about to leave", flush=True)
            os._exit(3)
        '''
    )
    assert not outcome.ok
    assert "exited (status 3) before returning a value" in outcome.output
    assert "about to leave" in outcome.output


async def test_sys_exit_is_reported_as_such() -> None:
    outcome = await run_tool(
        '''
        import sys

        def tool() -> str:
            """Exit."""
            sys.exit(2)
        '''
    )
    assert not outcome.ok
    assert "called sys.exit(2) instead of returning a value" in outcome.output


async def test_allocating_too_much_memory_is_a_tool_error() -> None:
    outcome = await run_tool(
        '''
        def tool() -> int:
            """Hoard."""
            blocks = [bytearray(32 * 2**20) for _ in range(64)]
            return len(blocks)
        '''
    )
    assert not outcome.ok
    assert "ran out of memory (limit 192 MB)" in outcome.output


async def test_megabytes_of_prints_are_cut_and_the_result_still_arrives() -> None:
    outcome = await run_tool(
        '''
        import sys

        def tool() -> str:
            """Chatter."""
            for _ in range(50_000):
                print("x" * 99)
            sys.stdout.write("y" * 1_000_000)
            return "done"
        ''',
        limits=SandboxLimits(wall_seconds=5.0, kept_output_bytes=4_000),
    )
    assert outcome.ok
    assert outcome.output == "done"
    assert outcome.logs.startswith("x" * 99 + "\n")
    assert outcome.logs.endswith("[... 5996000 more bytes of output cut]")
    assert len(outcome.logs) < 4_100


async def test_a_runaway_printer_is_stopped() -> None:
    outcome = await run_tool(
        '''
        def tool() -> str:
            """Print forever."""
            while True:
                print("z" * 1000)
        ''',
        limits=SandboxLimits(wall_seconds=5.0, max_output_bytes=2 * 2**20),
    )
    assert not outcome.ok
    assert "printed more than 2 MB and was stopped" in outcome.output


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("object()", "returned a value of type object, which is not JSON"),
        ("{1, 2}", "returned a value of type set, which is not JSON"),
        ("float('nan')", "which is not JSON"),
        ("'w' * 100_001", "returned 100001 characters, more than the limit of 100000"),
    ],
)
async def test_junk_results_become_readable_errors(returned: str, message: str) -> None:
    outcome = await run_tool(
        f'''
        def tool() -> object:
            """Return junk."""
            return {returned}
        ''',
        limits=SandboxLimits(wall_seconds=3.0, result_chars=100_000),
    )
    assert not outcome.ok
    assert message in outcome.output
    assert len(outcome.output) < 1_000


async def test_an_exception_shows_its_type_message_and_the_tools_own_lines() -> None:
    outcome = await run_tool(
        '''
        def _parse(text: str) -> int:
            return int(text)

        def tool(text: str) -> int:
            """Parse."""
            return _parse(text)
        ''',
        {"text": "twelve"},
    )
    assert not outcome.ok
    assert "ValueError: invalid literal for int() with base 10: 'twelve'" in outcome.output
    assert 'File "probe.py", line 3, in _parse' in outcome.output
    assert "return int(text)" in outcome.output
    assert "_bootstrap" not in outcome.output


async def test_invalid_arguments_are_refused_before_running() -> None:
    outcome = await run_tool(
        '''
        def tool(count: int) -> int:
            """Count."""
            return count
        ''',
        {"count": "many", "extra": 1},
    )
    assert not outcome.ok
    assert outcome.output == (
        "Error: invalid arguments for tool: count must be integer, not string; "
        "unknown argument 'extra' (expected: count)."
    )


async def test_the_network_is_out_of_reach(unused_tcp_port: int) -> None:
    connections = 0

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", unused_tcp_port)
    async with server:
        outcome = await run_tool(
            '''
            import socket

            def tool(port: int) -> str:
                """Phone home."""
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.settimeout(1)
                sock.connect(("127.0.0.1", port))
                return "connected"
            ''',
            {"port": unused_tcp_port},
        )
    assert not outcome.ok
    assert "network access is not allowed" in outcome.output
    assert connections == 0


async def test_the_bots_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    outcome = await run_tool(
        '''
        import os

        def tool() -> dict:
            """Snoop."""
            return dict(os.environ)
        '''
    )
    assert outcome.ok
    assert "sk-test-secret" not in outcome.output
    assert "OPENAI_API_KEY" not in outcome.output
    assert '"HOME": "/tmp/' in outcome.output


async def test_the_bots_environment_cannot_be_read_through_proc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    outcome = await run_tool(
        '''
        import os

        def tool() -> str:
            """Snoop harder."""
            with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
                return handle.read().decode(errors="replace")
        '''
    )
    assert not outcome.ok
    assert "sk-test-secret" not in outcome.output
    assert "is not allowed" in outcome.output


async def test_the_bots_data_files_cannot_be_read_or_listed(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "mnemo.sqlite3").write_text("alice's private note: swordfish")
    for attempt in (
        f"open({str(data_dir / 'mnemo.sqlite3')!r}).read()",
        f"str(os.listdir({str(data_dir)!r}))",
        f"str(os.path.exists({str(data_dir)!r})) + open('../' * 20 + {str(data_dir)[1:]!r} "
        "+ '/mnemo.sqlite3').read()",
    ):
        outcome = await run_tool(
            f'''
            import os

            def tool() -> str:
                """Snoop in the data directory."""
                return {attempt}
            '''
        )
        assert not outcome.ok, attempt
        assert "swordfish" not in outcome.output
        assert "mnemo.sqlite3" not in outcome.output or "is not allowed" in outcome.output
        assert "is not allowed" in outcome.output


async def test_programs_cannot_be_started() -> None:
    outcome = await run_tool(
        '''
        import subprocess

        def tool() -> str:
            """Shell out."""
            return subprocess.run(["cat", "/etc/hostname"], capture_output=True).stdout.decode()
        '''
    )
    assert not outcome.ok
    assert "starting programs is not allowed" in outcome.output


async def test_the_scratch_directory_is_usable_and_removed_afterwards() -> None:
    outcome = await run_tool(
        '''
        import os

        def tool() -> str:
            """Use scratch space."""
            with open("notes.txt", "w") as handle:
                handle.write("kept for a moment")
            with open(os.path.join(os.environ["HOME"], "notes.txt")) as handle:
                return os.getcwd() + "|" + handle.read()
        '''
    )
    assert outcome.ok, outcome.output
    scratch, text = outcome.output.split("|")
    assert text == "kept for a moment"
    assert not await asyncio.to_thread(os.path.exists, scratch)


async def test_the_bot_keeps_running_after_a_series_of_failures() -> None:
    for body in (
        "import os\ndef tool() -> str:\n    '''Die.'''\n    os._exit(1)\n",
        "def tool() -> str:\n    '''Raise.'''\n    raise RuntimeError('x')\n",
    ):
        assert not (await run_tool(body)).ok
    outcome = await run_tool("def tool() -> list:\n    '''Fine.'''\n    return [1, 'two']\n")
    assert outcome.output == '[1, "two"]'


LIBC_READ = '''
import ctypes

def tool(path: str) -> str:
    """Read a file with libc, around the audit hook."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.open(path.encode(), 0)
    if fd < 0:
        return f"errno {ctypes.get_errno()}"
    buffer = ctypes.create_string_buffer(4096)
    size = libc.read(fd, buffer, 4096)
    return buffer.raw[: max(size, 0)].decode(errors="replace")
'''


async def test_hidden_paths_stay_hidden_even_from_code_that_bypasses_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "mnemo.sqlite3").write_text("alice's private note: swordfish")
    env_file = tmp_path / ".env"
    env_file.write_text("SLACK_BOT_TOKEN=xoxb-secret")
    sandbox = Sandbox(hidden_paths=[data_dir, env_file])
    tool = tool_from_source(LIBC_READ, "tool", origin="libc_read.py")
    outputs = []
    for path in (data_dir / "mnemo.sqlite3", env_file, Path(f"/proc/{os.getpid()}/environ")):
        outcome = await sandbox.run(tool, {"path": str(path)}, memory=None, limits=LIMITS)
        if "mount namespace" not in outcome.isolation:
            pytest.skip(f"no mount namespace here: {outcome.isolation}")
        outputs.append(outcome.output)
    assert outputs[0] == "errno 2"  # the data directory is an empty mount
    assert outputs[1] == ""  # the secret file reads as /dev/null
    assert outputs[2] == "errno 2"  # /proc is an empty mount
    # The bot's own view is unchanged.
    assert (data_dir / "mnemo.sqlite3").read_text() == "alice's private note: swordfish"
    assert env_file.read_text() == "SLACK_BOT_TOKEN=xoxb-secret"


async def test_sqlite_databases_outside_the_scratch_directory_cannot_be_opened(
    tmp_path: Path,
) -> None:
    database = tmp_path / "mnemo.sqlite3"
    outcome = await run_tool(
        '''
        import sqlite3

        def tool(path: str) -> list:
            """Open a database."""
            scratch = sqlite3.connect("scratch.db")
            scratch.execute("create table t (x)")
            memory = sqlite3.connect(":memory:")
            memory.execute("create table t (x)")
            return sqlite3.connect(path).execute("select 1").fetchall()
        ''',
        {"path": str(database)},
    )
    assert not outcome.ok
    assert f"writing {database} is not allowed" in outcome.output
