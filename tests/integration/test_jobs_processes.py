"""Two bot processes' schedulers on one store: each conversation is consolidated once."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jobs import JobHistory, RunStatus
from tests.integration.test_jobs_world import BACKENDS, World, dm, open_world, public

#: One replica: the consolidation job on its own scheduler, ticking every 0.3 s for a while.
REPLICA = """
import asyncio, json, sys
from engine.llm import LLMClient
from jobs import JobRunner, JobScheduler, JobSettings
from jobs.consolidation import ConsolidationJob
from tests.fakes.embedder import HashEmbedder

async def main(config):
    if config["backend"] == "sqlite":
        from engine.store.sqlite import SQLiteStore
        from pathlib import Path
        store = SQLiteStore(Path(config["path"]))
        await store.setup()
    else:
        from engine.store.mongo import MongoStore
        store = await MongoStore.connect(config["uri"], config["database"])
    llm = LLMClient(base_url=config["llm"], api_key="test")
    settings = JobSettings(consolidate_every_s=0.3, idle_minutes=1, yield_to_live_s=0)
    runner = JobRunner(store, llm, settings, holder=config["holder"])
    job = ConsolidationJob(store, HashEmbedder(), settings, settings.consolidate_every_s)
    scheduler = JobScheduler(runner, [job])
    scheduler.start()
    await asyncio.sleep(config["seconds"])
    await scheduler.stop()
    await llm.aclose()
    await store.close()

asyncio.run(main(json.loads(sys.argv[1])))
"""


@pytest.fixture(params=BACKENDS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(request.param, tmp_path) as opened:
        yield opened


@pytest.mark.slow
async def test_two_processes_consolidate_each_conversation_once(world: World) -> None:
    await world.said(public("general"), "uma", "we moved standup to 10")
    await world.said(public("random"), "vic", "lunch at noon?")
    await world.said(dm("uma"), "uma", "I'm off on Friday")
    config: dict[str, object] = {"backend": world.backend, "llm": world.llm.base_url}
    if world.backend == "sqlite":
        config["path"] = str(world.path)
    else:
        from tests.fakes.mongo_wire import mongo_test_uri

        config.update(uri=mongo_test_uri(), database=world.path.name)

    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            REPLICA,
            json.dumps(config | {"holder": holder, "seconds": 2.5}),
            stderr=asyncio.subprocess.PIPE,
        )
        for holder in ("process-a", "process-b")
    ]
    async with asyncio.timeout(60):
        results = [await replica.communicate() for replica in replicas]
    assert [r.returncode for r in replicas] == [0, 0], [err.decode()[-2000:] for _, err in results]

    runs = await JobHistory(world.store.jobs).runs("consolidate")
    targets = [r.target.split("/")[2] for r in runs]
    assert sorted(targets) == ["D-uma", "general", "random"]
    assert {r.status for r in runs} == {RunStatus.OK}
    assert len(world.llm.chat_requests) == 3
