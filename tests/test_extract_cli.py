"""`triage extract --json` on every real paper in the shared corpus: the documented shape, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import CORPUS
from triage.cli import app

PDFS = sorted(CORPUS.glob("pdfs/**/*.pdf")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.name)
def test_extract_json_on_corpus_pdf(pdf: Path, corpus: Path) -> None:
    result = CliRunner().invoke(app, ["extract", str(pdf), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"title", "abstract", "conclusion", "conclusion_heading", "conclusion_found", "pages"} <= data.keys()
    assert data["pages"] > 0


def test_corpus_is_there_or_skipped(corpus: Path) -> None:
    assert PDFS, "the corpus has PDFs"


@pytest.mark.parametrize(
    "content, message",
    [(b"<html><body>Rate limited</body></html>", "html"), (b"%PDF-1.7\n1 0 obj", "pdf"), (b"", "pdf")],
    ids=["html", "truncated", "empty"],
)
def test_extract_bad_files_exit_1_with_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "paper.pdf"
    bad.write_bytes(content)
    result = CliRunner().invoke(app, ["extract", str(bad), "--json"])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr and message in result.stderr.lower()
    assert result.stdout == ""


def test_extract_missing_file() -> None:
    result = CliRunner().invoke(app, ["extract", "/nonexistent/paper.pdf"])
    assert result.exit_code == 1 and "no such file" in result.stderr


def _real_pdf_bytes(tmp_path: Path) -> bytes:
    import pymupdf

    doc = pymupdf.open()
    for n in range(6):
        doc.new_page().insert_text((72, 72), f"Page {n + 1} of a paper that will be cut short.")
    doc.save(tmp_path / "whole.pdf")
    return (tmp_path / "whole.pdf").read_bytes()


@pytest.mark.parametrize(
    "kind, message",
    [("truncated", "damaged or truncated"), ("folder", "is a folder, not a PDF"), ("empty", "empty file (0 bytes)"),
     ("png", "a PNG image, not a PDF")],
)
def test_damaged_input_is_named_for_what_it_is(tmp_path: Path, kind: str, message: str) -> None:
    """Each says what is wrong with the file, on one line, exit 1; a PNG's bytes are never echoed."""
    bad = tmp_path / "paper.pdf"
    if kind == "truncated":
        data = _real_pdf_bytes(tmp_path)
        bad.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "folder":
        bad.mkdir()
    elif kind == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    result = CliRunner().invoke(app, ["extract", str(bad), "--json"])
    assert result.exit_code == 1, result.output
    first = result.stderr.splitlines()[0]
    assert message in first and "Traceback" not in result.stderr
    assert "IHDR" not in result.stderr and "\\x" not in result.stderr
    assert result.stdout == ""


def test_bad_input_is_refused_before_pymupdf_loads(tmp_path: Path) -> None:
    bad = tmp_path / "paper.pdf"
    bad.write_bytes(b"")
    probe = (
        "import sys; from typer.testing import CliRunner; from triage.cli import app; "
        f"r = CliRunner().invoke(app, ['extract', {str(bad)!r}]); "
        "print(r.exit_code, 'pymupdf' in sys.modules or 'fitz' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["1", "False"], out.stderr
