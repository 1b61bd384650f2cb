"""Knowledge-source ingestion figures: chunks per second with the embedded model (target
>= 500/s), peak memory (bounded: files are read one at a time), archival search p95 over the
ingested chunks, and recall@5 of questions whose answers sit in known sections.

The corpus is generated on disk first: Markdown, HTML and text files of ~500-word pages, and
PDFs written byte by byte. Each section states one fact ("The budget of project Kestrel-42 is
amber lantern."); a question asks it back in other words, and a hit is a top-5 passage from
that document and section.

Usage: .venv/bin/python bench/ingest.py [--pages 2000] [--pdf-pages 300] [--queries 300]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from engine import (
    Audience,
    AudienceKind,
    HybridSearch,
    LocalEmbedder,
    RecordFilter,
    Scope,
    SourceLibrary,
    SourceTarget,
    utcnow,
)
from engine.store.sqlite import SQLiteStore
from tests.fakes.pdf_files import pdf_bytes

AGENT = "agent-1"
WORKSPACE = "T1"
WORDS_PER_PAGE = 500
SECTIONS_PER_PAGE = 2
PAGES_PER_FILE = 20
PDF_PAGES_PER_FILE = 25

rng = random.Random(19)
VOCABULARY = [
    "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
    for _ in range(6000)
]
WEIGHTS = [1 / (rank + 1) for rank in range(len(VOCABULARY))]  # Zipf-like word frequencies
ATTRIBUTES = ["budget", "owner", "deadline", "location", "codename", "supplier", "risk", "goal"]
ASKED = {
    "budget": "How much money does {p} have?",
    "owner": "Who runs {p}?",
    "deadline": "When must {p} be finished?",
    "location": "Where is {p} based?",
    "codename": "What is {p} called internally?",
    "supplier": "Who supplies {p}?",
    "risk": "What could go wrong with {p}?",
    "goal": "What is {p} trying to achieve?",
}


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    document: str
    #: The section (Markdown, HTML), page (PDF) or "" (text) the answer is in.
    place: str
    #: The sentence that answers it.
    answer: str


def sentence(words: int) -> str:
    return " ".join(rng.choices(VOCABULARY, WEIGHTS, k=words)).capitalize() + "."


def filler(words: int) -> list[str]:
    """Paragraphs of about ``words`` words."""
    paragraphs = []
    while words > 0:
        size = min(words, rng.randint(40, 90))
        paragraphs.append(" ".join(sentence(rng.randint(8, 16)) for _ in range(size // 12 + 1)))
        words -= size
    return paragraphs


def fact(project: str) -> tuple[str, str]:
    """A fact about ``project`` and a question asking it back in other words."""
    attribute = rng.choice(ATTRIBUTES)
    value = " ".join(rng.choices(VOCABULARY[200:], k=2))
    return (
        f"The {attribute} of project {project} is {value}.",
        ASKED[attribute].format(p=f"project {project}"),
    )


def write_corpus(folder: Path, pages: int, pdf_pages: int) -> list[Question]:
    """Files of ``pages`` text pages (Markdown, HTML, text in turn) and ``pdf_pages`` PDF
    pages; returns the questions, each with the document and section (or page) answering it."""
    questions: list[Question] = []
    kinds = ["md", "html", "txt"]
    for number in range(pages // PAGES_PER_FILE):
        kind = kinds[number % 3]
        name = f"doc{number:04d}.{kind}"
        parts: list[str] = []
        for section in range(PAGES_PER_FILE * SECTIONS_PER_PAGE):
            heading = " ".join(rng.choices(VOCABULARY[:300], k=3)).title()
            said, asked = fact(f"{number}-{section}")
            body = [said, *filler(WORDS_PER_PAGE // SECTIONS_PER_PAGE)]
            rng.shuffle(body)
            if kind == "md":
                parts.append(f"## {heading}\n\n" + "\n\n".join(body))
            elif kind == "html":
                parts.append(f"<h2>{heading}</h2>" + "".join(f"<p>{p}</p>" for p in body))
            else:
                parts.append("\n\n".join(body))
            where = "" if kind == "txt" else heading
            questions.append(Question(asked, name, where, said))
        text = "\n\n".join(parts)
        if kind == "html":
            text = f"<html><head><title>Doc {number}</title></head><body>{text}</body></html>"
        (folder / name).write_text(text)
    for number in range(pdf_pages // PDF_PAGES_PER_FILE):
        name = f"report{number:03d}.pdf"
        page_lines: list[list[str]] = []
        for page in range(1, PDF_PAGES_PER_FILE + 1):
            said, asked = fact(f"R{number}-{page}")
            words = " ".join(filler(WORDS_PER_PAGE)).split()
            lines = [" ".join(words[i : i + 14]) for i in range(0, len(words), 14)]
            lines.insert(rng.randrange(len(lines)), said)
            page_lines.append(lines)
            questions.append(Question(asked, name, str(page), said))
        (folder / name).write_bytes(pdf_bytes(page_lines, f"Report {number}"))
    return questions


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000, help="text pages (md, html, txt)")
    parser.add_argument("--pdf-pages", type=int, default=300)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        folder.mkdir()
        questions = write_corpus(folder, args.pages, args.pdf_pages)
        files = sorted(folder.iterdir())
        size = sum(f.stat().st_size for f in files)
        print(
            f"corpus: {len(files)} files, {args.pages} text pages + {args.pdf_pages} PDF pages, "
            f"{size / 2**20:.1f} MiB"
        )
        store = SQLiteStore(Path(tmp) / "mnemo.sqlite3")
        await store.setup()
        embedder = LocalEmbedder()
        await embedder.embed(["warm up"])
        library = SourceLibrary(store, embedder)
        target = SourceTarget(AGENT, WORKSPACE, Scope.workspace())
        before = peak_rss_mib()
        started, cpu_started = time.perf_counter(), time.process_time()
        chunks = 0
        for path in files:
            result = await library.add_file(target, path)
            assert not result.error, (path, result.error)
            chunks += result.written
        took, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(
            f"ingest: {chunks} chunks in {took:.1f} s = {chunks / took:.0f} chunks/s "
            f"({size / 2**20 / took:.1f} MiB/s), embedded model {embedder.name}; "
            f"{cpu:.1f} s of CPU = {chunks / cpu:.0f} chunks per CPU-second"
        )
        print(f"peak memory: {peak_rss_mib():.0f} MiB (before ingest {before:.0f} MiB)")

        started = time.perf_counter()
        again = [await library.add_file(target, path) for path in files]
        print(
            f"adding the unchanged corpus again: {time.perf_counter() - started:.2f} s, "
            f"{sum(r.written for r in again)} chunks written"
        )

        search = HybridSearch(store, embedder, clock=utcnow)
        where = RecordFilter.for_audience(AGENT, Audience(WORKSPACE, AudienceKind.PUBLIC, "C1"))
        asked = rng.sample(questions, min(args.queries, len(questions)))
        timings: list[float] = []
        found = 0
        for question in asked:
            t0 = time.perf_counter()
            hits = await search.passages(where, question.text, 5)
            timings.append((time.perf_counter() - t0) * 1000)
            texts = {hit.record.id: hit.record.text for hit in hits}
            found += any(
                c.document_name == question.document
                and question.place in (c.section, str(c.page))
                and question.answer in " ".join(texts[c.id].split())
                for c in await store.sources.chunks(list(texts))
            )
        timings.sort()
        p95 = timings[int(0.95 * (len(timings) - 1))]
        print(
            f"search over {chunks} chunks: p50 {statistics.median(timings):.1f} ms, "
            f"p95 {p95:.1f} ms ({len(timings)} queries)"
        )
        print(f"recall@5: {found / len(asked):.3f} ({found}/{len(asked)} questions)")

        started = time.perf_counter()
        for document in await library.documents(AGENT, WORKSPACE):
            await library.remove(document)
        left = await store.passages.count(where)
        print(
            f"removing every document with its chunks: {time.perf_counter() - started:.1f} s, "
            f"{left} passages left"
        )
        await store.close()


if __name__ == "__main__":
    asyncio.run(main())
