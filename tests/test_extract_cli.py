"""`triage extract --json` on every real paper in the shared corpus: the documented shape, never a crash."""

from __future__ import annotations

import json
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
