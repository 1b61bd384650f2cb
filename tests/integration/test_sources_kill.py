"""An add killed outright (SIGKILL, no clean-up) part-way through a file resumes without
duplicates: adding the file again stores exactly the chunks that were missing."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from engine import Audience, AudienceKind, RecordFilter, Scope, SourceLibrary, SourceTarget
from engine.store.sqlite import SQLiteStore
from tests.fakes.embedder import HashEmbedder

#: Adds the file one chunk per batch with an embedder that kills its own process when asked
#: for the third batch (asked while the first is written): one chunk is stored, then nothing.
_KILLED_ADD = """
import asyncio, os, signal, sys
from pathlib import Path
import numpy as np
from engine.audience import Scope
from engine.sources.library import SourceLibrary, SourceLimits, SourceTarget
from engine.store.sqlite import SQLiteStore

class KillingEmbedder:
    name, dimensions, calls = "test-kill", 8, 0
    async def embed(self, texts):
        KillingEmbedder.calls += 1
        if KillingEmbedder.calls == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return np.ones((len(texts), 8), dtype=np.float32) / np.sqrt(8)

async def main():
    store = SQLiteStore(Path(sys.argv[1]))
    await store.setup()
    library = SourceLibrary(store, KillingEmbedder(), limits=SourceLimits(chunk_tokens=20, batch=1))
    await library.add_file(SourceTarget("agent-1", "T1", Scope.workspace()), Path(sys.argv[2]))

asyncio.run(main())
"""


def write_notes(path: Path) -> None:
    sections = [f"## Topic {n}\n\nFact number {n} is worth keeping." for n in range(6)]
    path.write_text("# Notes\n\n" + "\n\n".join(sections) + "\n")


async def test_an_add_killed_midway_resumes_without_duplicates(tmp_path: Path) -> None:
    database, notes = tmp_path / "mnemo.sqlite3", tmp_path / "notes.md"
    write_notes(notes)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _KILLED_ADD, str(database), str(notes), cwd=Path.cwd()
    )
    async with asyncio.timeout(60):
        assert await process.wait() == -signal.SIGKILL

    store = SQLiteStore(database)
    await store.setup()
    try:
        where = RecordFilter.for_audience("agent-1", Audience("T1", AudienceKind.PUBLIC, "C1"))
        assert await store.passages.count(where) == 1
        assert await store.sources.documents("agent-1") == []

        target = SourceTarget("agent-1", "T1", Scope.workspace())
        resumed = await SourceLibrary(store, HashEmbedder()).add_file(target, notes)
        assert resumed.error == ""
        assert (resumed.chunks, resumed.written) == (6, 5)
        stored = await store.passages.list(where, 100)
        assert len(stored) == len({p.text for p in stored}) == 6
    finally:
        await store.close()
