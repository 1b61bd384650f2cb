"""The image's build files, checked as text without a Docker engine: the Dockerfile, the
build context that .dockerignore lets through, the package data the wheel ships, and the
compose file with MongoDB Atlas Local."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.logging import CREDENTIAL_SHAPES
from bot.settings import Settings
from engine.pipeline import PipelineSettings

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "engine", "adapters", "jobs")


# -- the Dockerfile ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str
    arguments: str
    stage: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped, by build stage."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), arguments.strip(), stage))
    return instructions


@cache
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((REPO / "Dockerfile").read_text())


def final_stage() -> list[Instruction]:
    instructions = dockerfile()
    last = instructions[-1].stage
    return [i for i in instructions if i.stage == last]


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    values: dict[str, str] = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for pair in instruction.arguments.split():
                name, _, value = pair.partition("=")
                values[name] = value
    return values


def secret_setting_names() -> set[str]:
    """The environment variables that carry secrets (SecretStr settings)."""
    return {
        field.alias or name
        for name, field in Settings.model_fields.items()
        if SecretStr in getattr(field.annotation, "__args__", (field.annotation,))
    }


def test_the_image_is_built_in_stages_and_runs_on_a_slim_base() -> None:
    stages = [i.arguments for i in dockerfile() if i.keyword == "FROM"]
    assert len(stages) >= 2
    assert stages[0].endswith("AS builder")
    base = next(i.arguments for i in dockerfile() if i.keyword == "ARG")
    assert "slim" in base
    installs = [i.arguments for i in final_stage() if i.keyword in ("RUN", "COPY")]
    assert any("from=builder" in step for step in installs), "the runtime stage builds nothing"
    assert not any("pip wheel" in step or "build-essential" in step for step in installs)


def test_the_bot_runs_as_an_unprivileged_user() -> None:
    users = [i.arguments for i in final_stage() if i.keyword == "USER"]
    assert users, "the runtime stage sets no USER, so the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert any("useradd" in i.arguments and user in i.arguments for i in final_stage())


def test_the_entrypoint_is_mnemo_run_with_its_port_exposed_and_health_checked() -> None:
    stage = final_stage()
    by_keyword = {i.keyword: i.arguments for i in stage}
    assert json.loads(by_keyword["ENTRYPOINT"]) == ["mnemo"]
    assert json.loads(by_keyword["CMD"]) == ["run"]
    port = env_of(stage)["MNEMO_HTTP_PORT"]
    assert env_of(stage)["MNEMO_HTTP_HOST"] == "0.0.0.0"
    assert by_keyword["EXPOSE"].split() == [port]
    options, _, command = by_keyword["HEALTHCHECK"].partition(" CMD ")
    assert "--interval=" in options
    program, flag, code = json.loads(command)
    assert (program, flag) == ("python", "-c")
    compile(code, "HEALTHCHECK", "exec")
    assert "/healthz" in code
    assert env_of(stage)["MNEMO_LOG_FORMAT"] == "json"


def test_runtime_files_are_proven_inside_the_image_with_the_network_off() -> None:
    offline = [i.arguments for i in final_stage() if i.arguments.startswith("--network=none")]
    assert offline, "no build step loads the runtime files without network"
    assert "LocalEmbedder" in offline[0]
    assert "TokenCounter" in offline[0]


def test_no_secret_is_baked_into_the_image() -> None:
    secrets = secret_setting_names()
    assert {"OPENAI_API_KEY", "SLACK_BOT_TOKEN", "DISCORD_TOKEN", "MONGODB_URI"} <= secrets
    for instruction in dockerfile():
        if instruction.keyword in ("ENV", "ARG", "LABEL"):
            assert not any(name in instruction.arguments for name in secrets), instruction
    text = (REPO / "Dockerfile").read_text()
    assert not CREDENTIAL_SHAPES.search(text)
    assert ".env" not in " ".join(i.arguments for i in dockerfile() if i.keyword == "COPY")


# -- the build context ------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern (Go filepath.Match syntax plus ``**``) as a regex."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


@cache
def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) in file order."""
    rules = []
    for line in (REPO / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        rules.append((exception, _pattern_regex(line.lstrip("!").strip("/"))))
    return rules


def in_build_context(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for exception, pattern in dockerignore():
        if any(pattern.match(candidate) for candidate in candidates):
            included = exception
    return included


@cache
def repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [path for path in listed if (REPO / path).is_file()]


@pytest.mark.parametrize(
    "path",
    [
        "tests/unit/test_deploy_files.py",
        "tests/fakes/openai_server.py",
        ".venv/bin/python",
        "data/mnemo.sqlite3",
        ".git/config",
        ".env",
        ".env.production",
        "engine/.env",
        "bot/__pycache__/cli.cpython-313.pyc",
        "engine/store/test.sqlite3-wal",
        "bench/throughput.py",
        "docker-compose.yml",
    ],
)
def test_the_build_context_leaves_out_tests_environments_data_and_secrets(path: str) -> None:
    assert not in_build_context(path)


def test_the_build_context_holds_every_file_the_image_installs() -> None:
    sources = [
        source.rstrip("/")
        for i in dockerfile()
        if i.keyword == "COPY" and "--from" not in i.arguments
        for source in i.arguments.split()[:-1]
    ]
    assert set(PACKAGES) <= set(sources)
    for source in sources:
        files = [p for p in repository_files() if p == source or p.startswith(source + "/")]
        assert files, f"{source} is copied but missing"
        left_out = [p for p in files if not in_build_context(p) and "__pycache__" not in p]
        assert not left_out, left_out
    assert all(in_build_context(p) for p in repository_files() if p.startswith("engine/data/"))
    assert not [p for p in repository_files() if in_build_context(p) and p.startswith("tests/")]


def test_the_wheel_ships_every_runtime_file_of_the_packages() -> None:
    """Tokenizer encodings, the local embedding model and other data reach the image only as
    package data of the wheel."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns: list[str] = pyproject["tool"]["setuptools"]["package-data"]["*"]
    data_files = [
        p
        for p in repository_files()
        if p.split("/")[0] in PACKAGES and not p.endswith((".py", ".pyc"))
    ]
    assert any(p.startswith("engine/data/") for p in data_files)
    unshipped = [p for p in data_files if not any(fnmatch(Path(p).name, g) for g in patterns)]
    assert not unshipped, f"add their patterns to [tool.setuptools.package-data]: {unshipped}"


# -- docker-compose.yml -----------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def service_with_image(prefix: str) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return next(s for s in services.values() if str(s.get("image", "")).startswith(prefix))


def bot_service() -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return next(s for s in services.values() if s.get("build") == ".")


def test_compose_runs_atlas_local_with_its_data_and_search_indexes_on_volumes() -> None:
    atlas = service_with_image("mongodb/mongodb-atlas-local")
    image = atlas["image"]
    assert ":" in image
    assert not image.endswith(":latest")
    mounts = {volume.split(":")[1] for volume in atlas["volumes"]}
    assert {"/data/db", "/data/configdb", "/data/mongot"} <= mounts
    assert atlas["environment"]["MONGODB_INITDB_ROOT_PASSWORD"].startswith("${")


def test_every_compose_service_has_a_healthcheck_and_the_bot_waits_for_the_database() -> None:
    for name, service in compose()["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    bot = bot_service()
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    (database, condition), *_ = bot["depends_on"].items()
    assert condition == {"condition": "service_healthy"}
    assert compose()["services"][database] is service_with_image("mongodb/mongodb-atlas-local")
    uri = bot["environment"]["MONGODB_URI"]
    assert uri.startswith("mongodb://")
    assert f"@{compose()['services'][database]['hostname']}:27017/" in uri


def test_the_bot_gets_time_to_drain_and_an_init_that_forwards_sigterm() -> None:
    bot = bot_service()
    assert bot["init"] is True
    grace = bot["stop_grace_period"]
    assert grace.endswith("s")
    assert float(grace[:-1]) > PipelineSettings().stop_deadline + 5


def test_compose_publishes_the_bot_port_and_holds_no_literal_secret() -> None:
    bot = bot_service()
    container_port = bot["environment"]["MNEMO_HTTP_PORT"]
    assert any(str(p).endswith(f":{container_port}") for p in bot["ports"])
    assert not CREDENTIAL_SHAPES.search((REPO / "docker-compose.yml").read_text())
    userinfo = bot["environment"]["MONGODB_URI"].split("://", 1)[1].rsplit("@", 1)[0]
    assert "${MONGODB_PASSWORD" in userinfo
    for name in secret_setting_names() - {"MONGODB_URI"}:
        assert name not in bot["environment"], f"{name} belongs in .env, not in the compose file"


def test_every_apt_install_skips_recommended_packages() -> None:
    makefile = (REPO / "Makefile").read_text()
    installs = re.findall(r"apt-get install[^)\n]*", makefile + (REPO / "Dockerfile").read_text())
    assert installs
    for install in installs:
        assert "--no-install-recommends" in install, install
