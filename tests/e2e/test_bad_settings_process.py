"""``mnemo run`` started the way an operator starts it, with one thing wrong: it stops at once
with exit code 2 and one line saying what to change, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.mnemo_process import bot_environment

pytestmark = pytest.mark.slow

#: Nothing listens here: a model endpoint that is never called at start.
NO_MODEL = "http://127.0.0.1:9/v1"


def _mnemo_run(workdir: Path, **settings: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``mnemo run`` with these settings."""
    env = bot_environment(OPENAI_BASE_URL=NO_MODEL, **settings)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )
    return done.returncode, done.stdout, done.stderr


def _the_one_problem(stderr: str) -> str:
    """The line naming the problem (log lines may precede it); fails on a traceback."""
    assert "Traceback" not in stderr
    problems = [line for line in stderr.splitlines() if line.startswith("mnemo: ")]
    assert len(problems) == 1, stderr
    return problems[0]


def test_a_port_in_use_is_named_and_no_inspector_link_points_at_the_other_server(
    tmp_path: Path,
) -> None:
    with socket.socket() as other_server:
        other_server.bind(("127.0.0.1", 0))
        other_server.listen()
        port = other_server.getsockname()[1]

        code, out, err = _mnemo_run(tmp_path, MNEMO_HTTP_PORT=str(port))

    assert code == 2
    problem = _the_one_problem(err)
    assert problem.startswith(f"mnemo: MNEMO_HTTP_PORT: cannot listen on 127.0.0.1:{port}")
    assert "free port" in problem
    assert "Inspector:" not in out


def test_a_mongodb_uri_that_is_not_one_is_said_at_once(tmp_path: Path) -> None:
    code, _, err = _mnemo_run(tmp_path, MONGODB_URI="notauri")

    assert code == 2  # before any connection is tried: "unreachable" would exit 1
    assert _the_one_problem(err).startswith("mnemo: Invalid settings: MONGODB_URI: not a MongoDB")


def test_discord_out_of_reach_is_one_line_without_voice_warnings(tmp_path: Path) -> None:
    # Discord is unreachable from a sandbox and refuses this token from anywhere else:
    # both end the start the same way.
    code, _, err = _mnemo_run(tmp_path, DISCORD_TOKEN="not-a-real-token", MNEMO_HTTP_PORT="0")

    assert code == 2
    problem = _the_one_problem(err)
    assert "DISCORD_TOKEN" in problem
    assert "voice" not in err.lower()


def test_a_host_that_is_not_this_machine_s_is_named(tmp_path: Path) -> None:
    # 192.0.2.1 is reserved for documentation (RFC 5737): no machine has it.
    code, _, err = _mnemo_run(tmp_path, MNEMO_HTTP_HOST="192.0.2.1", MNEMO_INSPECTOR_TOKEN="t")

    assert code == 2
    problem = _the_one_problem(err)
    assert problem.startswith("mnemo: MNEMO_HTTP_HOST: cannot listen on 192.0.2.1:")
    assert "an address of this machine" in problem
