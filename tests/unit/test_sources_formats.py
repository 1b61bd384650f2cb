"""Each format is read by structure (headings, pages, paragraphs) and chunked under a token
cap; a file that cannot be read is refused with one sentence saying why."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from engine.sources.chunking import chunk_blocks
from engine.sources.formats import parse_document
from engine.sources.parsed import SourceError, TextBlock
from engine.sources.plan import plan_document
from engine.tokens import TokenCounter
from tests.fakes.pdf_files import pdf_bytes

COUNTER = TokenCounter("gpt-4o")

MARKDOWN = b"""# Team handbook

Welcome aboard.

## Leave

### Parental leave

Sixteen weeks, **fully paid**, see [the policy](https://example.com).

- ask your lead
- tell HR

| Kind | Days |
| --- | --- |
| Sick | 10 |

```
leave --request
```

## Expenses

Paid within two weeks.
"""

HTML = b"""<!doctype html><html><head><title>Travel policy</title>
<style>p { color: red }</style><script>alert("no")</script></head>
<body><nav><a href="/">Home</a> menu</nav>
<h1>Travel</h1><p>Trains under <b>four</b> hours.</p>
<h2>Hotels</h2><ul><li><p>Up to 150 EUR a night.</p></li></ul>
<table><tr><th>City</th><th>Cap</th></tr><tr><td>Paris</td><td>180</td></tr></table>
</body></html>"""


def test_markdown_keeps_heading_paths_lists_tables_and_code() -> None:
    parsed = parse_document("handbook.md", MARKDOWN)
    assert parsed.title == "Team handbook"
    assert [(b.section, b.text) for b in parsed.blocks] == [
        ("Team handbook", "Welcome aboard."),
        ("Team handbook > Leave > Parental leave", "Sixteen weeks, fully paid, see the policy."),
        ("Team handbook > Leave > Parental leave", "- ask your lead"),
        ("Team handbook > Leave > Parental leave", "- tell HR"),
        ("Team handbook > Leave > Parental leave", "Kind | Days"),
        ("Team handbook > Leave > Parental leave", "Sick | 10"),
        ("Team handbook > Leave > Parental leave", "leave --request"),
        ("Team handbook > Expenses", "Paid within two weeks."),
    ]


def test_html_keeps_headings_and_drops_scripts_styles_and_navigation() -> None:
    parsed = parse_document("travel.html", HTML)
    assert parsed.title == "Travel policy"
    assert [(b.section, b.text) for b in parsed.blocks] == [
        ("Travel", "Trains under four hours."),
        ("Travel > Hotels", "- Up to 150 EUR a night."),
        ("Travel > Hotels", "City | Cap"),
        ("Travel > Hotels", "Paris | 180"),
    ]


def test_html_without_paragraph_tags_is_read_by_its_text() -> None:
    parsed = parse_document("notes.htm", b"<body><div>First note.</div><div>Second.</div></body>")
    assert [b.text for b in parsed.blocks] == ["First note.", "Second."]
    assert parsed.title == "notes"


def test_pdf_pages_are_cited_by_number_and_titled_from_metadata() -> None:
    data = pdf_bytes([["Vacation: 30 days (paid)."], ["Travel: trains first."]], "Handbook")
    parsed = parse_document("handbook.pdf", data)
    assert parsed.title == "Handbook"
    assert [(b.page, b.text) for b in parsed.blocks] == [
        (1, "Vacation: 30 days (paid)."),
        (2, "Travel: trains first."),
    ]


def test_pdf_bookmarks_name_the_section_of_each_page() -> None:
    pages = [["Welcome."], ["Leave rules."], ["Parents get sixteen weeks."], ["More of it."]]
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(pages))))
    writer.add_outline_item(title="Intro", page_number=0)
    leave = writer.add_outline_item(title="Leave", page_number=1)
    writer.add_outline_item(title="Parental", page_number=2, parent=leave)
    out = io.BytesIO()
    writer.write(out)
    parsed = parse_document("handbook.pdf", out.getvalue())
    assert [(b.page, b.section) for b in parsed.blocks] == [
        (1, "Intro"),
        (2, "Leave"),
        (3, "Leave > Parental"),
        (4, "Leave > Parental"),
    ]


def test_plain_text_is_read_by_paragraphs_and_titled_by_file_name() -> None:
    parsed = parse_document("notes.txt", b"\xef\xbb\xbfFirst line\nsame paragraph.\r\n\r\nSecond.")
    assert parsed.title == "notes"
    assert [b.text for b in parsed.blocks] == ["First line same paragraph.", "Second."]


def test_chunks_stay_under_the_cap_and_never_span_sections() -> None:
    sentence = "The quick brown fox jumps over the lazy dog. "
    blocks = [
        TextBlock("A", 0, sentence * 3),
        TextBlock("A", 0, sentence * 40),
        TextBlock("B", 0, "Short."),
        TextBlock("B", 0, "word " * 200),
    ]
    chunks = list(chunk_blocks(blocks, COUNTER.count, 60))
    assert all(COUNTER.count(c.text) <= 60 for c in chunks)
    assert [c.section for c in chunks] == sorted(c.section for c in chunks)
    assert chunks[0].text.startswith(sentence.strip())
    words = " ".join(c.text for c in chunks).split()
    assert words == " ".join(b.text for b in blocks).split()


def test_the_same_paragraph_twice_gets_two_stable_chunk_ids() -> None:
    data = b"# Doc\n\nRepeat me.\n\n## Other\n\nText.\n\n## Again\n\nRepeat me.\n"
    first = plan_document("doc-1", "doc.md", data, COUNTER.count, 5)
    again = plan_document("doc-1", "doc.md", data, COUNTER.count, 5)
    assert [c.id for c in first.chunks] == [c.id for c in again.chunks]
    assert len({c.id for c in first.chunks}) == len(first.chunks) == 3
    elsewhere = plan_document("doc-2", "doc.md", data, COUNTER.count, 5)
    assert not {c.id for c in first.chunks} & {c.id for c in elsewhere.chunks}


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes([["Secret plans."]]))))
    writer.encrypt("hunter2")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("locked.pdf", encrypted_pdf(), "is an encrypted PDF; save a copy without a password"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Cat", "is a damaged PDF that cannot be read"),
        ("renamed.pdf", b"PK\x03\x04 a zip file", "is not a PDF (no %PDF header)"),
        ("scan.pdf", pdf_bytes([[]]), "is a PDF without a text layer"),
        ("photo.txt", bytes(range(256)) * 8, "is not UTF-8 text"),
        ("nul.md", b"text\x00\x00\x00\x00" * 100, "looks like binary data, not text"),
        ("slides.pptx", b"PK\x03\x04", "has an unsupported type (.pptx); Mnemo reads"),
        ("Makefile", b"all:", "has an unsupported type (no extension)"),
        ("empty.md", b"\n\n", "has no text to learn from"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(SourceError, match="^" + reason.replace("(", r"\(").replace(")", r"\)")):
        plan_document("doc-1", name, data, COUNTER.count, 100)


def test_text_without_spaces_is_cut_under_the_cap() -> None:
    base64ish = "QUJD" * 400
    chinese = "\u6bcf\u4e2a\u4eba\u90fd\u6709\u4e09\u5341\u5929\u5047\u3002" * 60
    blocks = [TextBlock("", 0, base64ish), TextBlock("", 0, chinese)]
    chunks = list(chunk_blocks(blocks, COUNTER.count, 50))
    assert all(COUNTER.count(c.text) <= 50 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").replace("\n", "") == (
        base64ish + chinese
    )
