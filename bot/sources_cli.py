"""``mnemo sources``: teach an agent from files, and list, show or remove what it was taught.

Each file gets one line (added, updated, unchanged, or why it failed); a file that fails
stores nothing and the next one is still read. On a terminal a progress bar counts files and
chunks with their rate; piped into a log, only the lines are written.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engine import (
    Agent,
    Embedder,
    IngestResult,
    IngestStatus,
    Scope,
    ScopeKind,
    SourceDocument,
    SourceLibrary,
    SourceLimits,
    SourceTarget,
    Store,
    cite_chunk,
    render_forget,
)

ACTIONS = ("add", "list", "show", "remove")
#: Extensions read when a folder is given (a file named on the line is always tried).
_READ_IN_FOLDERS = (".md", ".markdown", ".txt", ".text", ".pdf", ".html", ".htm")


def add_sources_arguments(sources: argparse.ArgumentParser, workspace: str) -> None:
    """The arguments of ``mnemo sources``: the action, its files or document, and whose."""
    sources.add_argument("action", choices=ACTIONS)
    sources.add_argument(
        "targets",
        nargs="*",
        metavar="PATH|DOCUMENT",
        help="add: files or folders; show, "
        "remove: a document's name or id (see `mnemo sources list`)",
    )
    sources.add_argument("--agent", help="agent name (default: MNEMO_AGENT)")
    sources.add_argument(
        "--workspace",
        default=workspace,
        help="the workspace as Mnemo names it: slack:<team id>, discord:<guild id> or, for "
        f"one person's Discord DMs, discord:dm:<user id> (default: {workspace})",
    )
    sources.add_argument(
        "--audience",
        default="workspace",
        help="add: who may read what the files teach: 'workspace' (everyone in the workspace, "
        "the default), 'private:<channel>' (one private channel) or 'dm:<user>' (one person's "
        "DMs)",
    )
    sources.add_argument(
        "--max-mb", type=float, default=25.0, help="add: refuse files larger than this"
    )


async def run_sources(
    store: Store, embedder: Embedder, agent: Agent, args: argparse.Namespace
) -> int:
    """One ``mnemo sources`` action for ``agent``; the exit status."""
    limits = SourceLimits(max_bytes=int(args.max_mb * 2**20))
    library = SourceLibrary(store, embedder, limits=limits)
    match args.action:
        case "add":
            return await _add(library, agent, args)
        case "list":
            documents = await library.documents(agent.id, args.workspace)
            if not documents and (others := await _elsewhere(library, agent, args.workspace)):
                print(
                    f"{agent.name} has no documents in {args.workspace}; it has some in "
                    f"{', '.join(others)} (list them with --workspace {others[0]})."
                )
                return 0
            print(documents_text(agent, documents))
            return 0
    document = await _find(library, agent, args)
    if document is None:
        return 1
    if args.action == "show":
        chunks = await store.sources.chunks_of(document.id)
        print(document_text(document, [cite_chunk(chunk) for chunk in chunks]))
        return 0
    report = await library.remove(document)
    print(f"Removed {document.name} and what was derived from it: {render_forget(report)}.")
    return 0


async def _add(library: SourceLibrary, agent: Agent, args: argparse.Namespace) -> int:
    try:
        scope = Scope.parse(args.audience)
    except ValueError as exc:
        print(f"mnemo: --audience: {exc}", file=sys.stderr)
        return 2
    if scope.kind is ScopeKind.AGENT:
        print(
            "mnemo: --audience: a document belongs to one workspace; use 'workspace' "
            "(everyone in it), 'private:<channel>' or 'dm:<user>'",
            file=sys.stderr,
        )
        return 2
    if problem := workspace_problem(args.workspace, scope):
        print(f"mnemo: {problem}", file=sys.stderr)
        return 2
    if args.max_mb <= 0:
        print(f"mnemo: --max-mb {args.max_mb:g}: give a size above 0 (MiB)", file=sys.stderr)
        return 2
    if not args.targets:
        print("mnemo: name the files to add: mnemo sources add PATH...", file=sys.stderr)
        return 2
    target = SourceTarget(agent.id, args.workspace, scope)
    paths = list(expand(Path(p) for p in args.targets))
    if not paths:
        print(
            f"mnemo: {' '.join(args.targets)}: no file to read there (in folders Mnemo reads "
            f"{', '.join(_READ_IN_FOLDERS)})",
            file=sys.stderr,
        )
        return 1
    bar = FileProgress(len(paths)) if sys.stderr.isatty() else None
    results: list[IngestResult] = []
    started = time.perf_counter()
    with bar or nullcontext():
        for path in paths:
            result = await library.add_file(target, path, bar)
            results.append(result)
            if bar is not None:
                bar.file_done()
            if result.status is IngestStatus.FAILED:
                print(f"mnemo: {path}: {result.error}", file=sys.stderr)
            else:
                print(result_line(result))
    if any(r.removed for r in results):
        await library.settle()
    print(summary_line(results, time.perf_counter() - started))
    return 1 if any(r.status is IngestStatus.FAILED for r in results) else 0


async def _find(
    library: SourceLibrary, agent: Agent, args: argparse.Namespace
) -> SourceDocument | None:
    """The one document named (by name or id) on the command line; None after saying why."""
    if len(args.targets) != 1:
        print(
            f"mnemo: name one document to {args.action} (see `mnemo sources list`)", file=sys.stderr
        )
        return None
    wanted = args.targets[0]
    found = [
        d
        for d in await library.documents(agent.id, args.workspace)
        if wanted in (d.id, d.name, d.origin)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        others = await _elsewhere(library, agent, args.workspace, wanted)
        where = f"add --workspace {others[0]}" if others else "see `mnemo sources list`"
        print(
            f"mnemo: {agent.name} has no document {wanted!r} in {args.workspace} ({where})",
            file=sys.stderr,
        )
    else:
        ids = ", ".join(d.id for d in found)
        print(
            f"mnemo: several documents are called {wanted!r}; name one by id: {ids}",
            file=sys.stderr,
        )
    return None


async def _elsewhere(
    library: SourceLibrary, agent: Agent, workspace: str, wanted: str = ""
) -> list[str]:
    """The other workspaces where ``agent`` has documents (called ``wanted``, when given): a
    document taught to a Slack or Discord workspace is not found from the terminal's."""
    return sorted(
        {
            d.workspace
            for d in await library.documents(agent.id)
            if d.workspace != workspace and (not wanted or wanted in (d.id, d.name, d.origin))
        }
    )


def workspace_problem(workspace: str, scope: Scope) -> str:
    """Why no conversation would read a document taught to ``workspace`` under ``scope``
    ("" when one would): a platform's own id instead of Mnemo's name for it, or a person's
    Discord DMs, which are a workspace of their own, not a server's."""
    if ":" not in workspace:
        return (
            f"--workspace {workspace!r}: write slack:{workspace} for a Slack workspace or "
            f"discord:{workspace} for a Discord server, as Mnemo names them"
        )
    if scope.kind is ScopeKind.DM and workspace.startswith("discord:"):
        dms = f"discord:dm:{scope.about}"
        if workspace != dms:
            return (
                f"--audience {scope}: a person's Discord DMs are their own workspace; "
                f"use --workspace {dms}"
            )
    return ""


def expand(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path, with a folder replaced by the readable files under it, in name order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _READ_IN_FOLDERS
            )
        else:
            yield path


class FileProgress(AbstractContextManager["FileProgress"]):
    """A rich progress bar on standard error: files done, chunks stored and their rate."""

    def __init__(self, files: int) -> None:
        self._progress = Progress(
            TextColumn("teaching"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[chunks]} chunks · {task.fields[rate]:.0f} chunks/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("files", total=files, chunks=0, rate=0.0)
        self._chunks = 0
        self._started = time.perf_counter()

    def __enter__(self) -> FileProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def chunks_done(self, count: int) -> None:
        self._chunks += count
        rate = self._chunks / max(time.perf_counter() - self._started, 1e-6)
        self._progress.update(self._task, chunks=self._chunks, rate=rate)

    def file_done(self) -> None:
        self._progress.advance(self._task)


def result_line(result: IngestResult) -> str:
    """What adding one file did, as the person at the terminal reads it."""
    match result.status:
        case IngestStatus.ADDED:
            return f"added {result.name}: {result.chunks} chunks"
        case IngestStatus.UPDATED:
            return (
                f"updated {result.name}: {result.written} new chunks, {result.removed} removed, "
                f"{result.chunks} in all"
            )
        case IngestStatus.UNCHANGED:
            return f"unchanged {result.name}: {result.chunks} chunks already stored"
        case IngestStatus.FAILED:
            return f"{result.name} {result.error}"


def summary_line(results: Sequence[IngestResult], seconds: float) -> str:
    counts = {status: sum(r.status is status for r in results) for status in IngestStatus}
    outcomes = ", ".join(f"{n} {status.value}" for status, n in counts.items() if n)
    written = sum(r.written for r in results)
    rate = written / seconds if seconds > 0 else 0.0
    return (
        f"{len(results)} file{'s' if len(results) != 1 else ''}: {outcomes or 'none'}; "
        f"{written} chunks stored in {seconds:.1f} s "
        f"({rate:.0f} chunks/s)"
    )


def documents_text(agent: Agent, documents: Sequence[SourceDocument]) -> str:
    """``mnemo sources list``: one line per document."""
    if not documents:
        return f"{agent.name} has no documents (add some with `mnemo sources add PATH`)."
    lines = [f"{agent.name}'s documents:"]
    for d in documents:
        lines.append(
            f"  {d.name}  {d.kind}, {d.chunks} chunks, readable by {d.scope} "
            f"(updated {d.updated_at:%Y-%m-%d %H:%M})  id {d.id}"
        )
    return "\n".join(lines)


def document_text(document: SourceDocument, places: Sequence[str]) -> str:
    """``mnemo sources show``: the document and where each of its chunks sits."""
    lines = [
        f"{document.name}: {document.title}",
        f"  from {document.origin}",
        f"  {document.kind}, {document.size} bytes, {document.chunks} chunks, "
        f"readable by {document.scope} in {document.workspace}",
        f"  sha256 {document.content_hash}",
        "  chunks:",
    ]
    lines += [f"    {number}. {place}" for number, place in enumerate(places, start=1)]
    return "\n".join(lines)
