"""The PDF cache: every paper's PDF, validated, stored once by content hash.

``papers/<sha256>.pdf`` holds the bytes; ``papers/index.json`` maps what names a
paper (``arxiv:2302.11529v2``, ``arxiv:2302.11529``, ``key:pfeiffer…2023``,
``doi:…``, ``url:…``) to its hash.  Nothing reaches the cache unvalidated: a
download is held in memory (capped at ``fetch.max_mb``), checked (``%PDF``
magic, an ``%%EOF`` trailer, opens in PyMuPDF, page limit), then written to a
temp file in the cache folder, fsynced and renamed into place.  A download
that is killed or cut short therefore leaves nothing behind, and the next run
simply downloads again.  An HTML error page saved as ``.pdf`` is rejected with
a message that says so.

A library attachment (``Paper.pdf_path``) that validates is used in place and
never copied; one the library lists but the disk lacks (``Paper.missing_pdf``)
is named in the error when nothing else serves the paper.  Offline, only the
attachment and the cache are consulted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from triage.atomic import write_atomic
from triage.config import Settings
from triage.errors import OfflineMiss, PdfError, SourceError
from triage.models import Paper

if TYPE_CHECKING:
    from triage.sources.arxiv import ArxivClient

__all__ = ["sha256_bytes", "check_pdf_bytes", "read_pdf", "validate_pdf", "store_pdf", "fetch_pdf", "cache_names", "cached_pdf"]

_INDEX = "index.json"
_index_lock = threading.Lock()
_STALE_TEMP_S = 3600.0


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``: the PDF's name in the cache."""
    return hashlib.sha256(data).hexdigest()


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml")) or b"<html" in head[:256]


# Other kinds of file that end up saved as .pdf: named, so an error never echoes their bytes.
_OTHER_KINDS = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"PK\x03\x04", "a ZIP archive (EPUB, DOCX?)"),
    (b"\x1f\x8b", "a gzip archive"), (b"%!PS", "a PostScript file"), (b"{\\rtf", "an RTF document"),
    (b"\xd0\xcf\x11\xe0", "a Microsoft Office document"), (b"AT&TFORM", "a DjVu document"),
)


def check_pdf_bytes(data: bytes, name: str = "") -> None:
    """What the bytes alone say is wrong: empty, an HTML page, another kind of file, no header, cut short.

    Cheap and free of PyMuPDF, so a command can reject bad input before its heavy imports.
    Messages start with ``name`` when given.
    """
    where = f"{name}: " if name else ""
    if not data:
        raise PdfError(f"{where}empty file (0 bytes), not a PDF", hint="the download or copy did not finish; get the file again")
    if _looks_like_html(data):
        raise PdfError(f"{where}server returned an HTML page, not a PDF",
                       hint="the link may need a login, or the server sent an error page")
    for magic, kind in _OTHER_KINDS:
        if data.startswith(magic):
            raise PdfError(f"{where}{kind}, not a PDF (no %PDF header)", hint="export or download the paper as PDF")
    # The spec lets junk precede the header; real files put it in the first 1 KiB.  A file whose
    # header was damaged but whose objects survive is left to MuPDF's repair.
    if b"%PDF-" not in data[:1024] and b"endobj" not in data:
        raise PdfError(f"{where}not a PDF (no %PDF header)", hint="download the paper's PDF again")
    if b"%%EOF" not in data[-2048:]:
        raise PdfError(f"{where}damaged or truncated PDF (no %%EOF trailer): the download was cut short",
                       hint="download the file again")


def read_pdf(path: Path) -> bytes:
    """The bytes of a local PDF, checked by ``check_pdf_bytes``; every error names the file."""
    path = Path(path)
    if path.is_dir():
        raise PdfError(f"{path} is a folder, not a PDF", hint="give the path of a PDF file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PdfError(f"cannot read {path}: no such file", hint="check the path") from None
    except OSError as e:
        raise PdfError(f"cannot read {path}: {e.strerror or e}", hint="check the path and permissions") from None
    check_pdf_bytes(data, str(path))
    return data


def validate_pdf(data: bytes, *, max_mb: float, max_pages: int) -> int:
    """Check that ``data`` is a usable PDF within the limits; returns its page count.

    Raises ``PdfError`` for an HTML error page, missing ``%PDF`` magic, a file cut
    short (no ``%%EOF`` trailer), one PyMuPDF cannot open, and one over the size
    or page limits.
    """
    if len(data) > max_mb * 1024 * 1024:
        raise PdfError(f"PDF is {len(data) / 1048576:.1f} MiB, over the {max_mb:g} MiB limit",
                       hint="raise fetch.max_mb (TRIAGE_FETCH__MAX_MB) to accept it")
    check_pdf_bytes(data)
    import pymupdf

    try:
        with pymupdf.open(stream=data, filetype="pdf") as doc:
            if doc.needs_pass:
                raise PdfError("PDF is encrypted and needs a password")
            pages = doc.page_count
    except PdfError:
        raise
    except Exception as exc:
        raise PdfError(f"PDF does not open: {exc}") from None
    if pages < 1:
        raise PdfError("PDF has no pages")
    if pages > max_pages:
        raise PdfError(f"PDF has {pages} pages, over the {max_pages} page limit",
                       hint="raise fetch.max_pages (TRIAGE_FETCH__MAX_PAGES) to accept it")
    return pages


def _sweep_temp(papers_dir: Path) -> None:
    """Remove temp files a killed process left behind (old enough that nobody is writing them)."""
    now = time.time()
    for tmp in papers_dir.glob(".*.tmp"):  # triage.atomic names its temporary files so
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > _STALE_TEMP_S:
                tmp.unlink()


def store_pdf(data: bytes, papers_dir: Path) -> Path:
    """Write ``data`` to ``papers_dir/<sha256>.pdf`` atomically; a file already there is kept (idempotent)."""
    papers_dir.mkdir(parents=True, exist_ok=True)
    target = papers_dir / f"{sha256_bytes(data)}.pdf"
    if target.is_file() and target.stat().st_size == len(data):
        return target
    _sweep_temp(papers_dir)
    write_atomic(target, data)
    return target


# -- index: names -> hash ---------------------------------------------------------------------


@contextlib.contextmanager
def _locked(papers_dir: Path) -> Iterator[None]:
    """Serialise index updates between threads and, via a lock file, between processes."""
    from filelock import FileLock

    papers_dir.mkdir(parents=True, exist_ok=True)
    with _index_lock, FileLock(str(papers_dir / ".index.lock"), timeout=30):
        yield


def _read_index(papers_dir: Path) -> dict[str, str]:
    try:
        data = json.loads((papers_dir / _INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def cache_names(paper: Paper) -> list[str]:
    """The index names a paper is found under, most specific first."""
    names = []
    if paper.arxiv_id:
        if paper.arxiv_version:
            names.append(f"arxiv:{paper.versioned_id}")
        names.append(f"arxiv:{paper.arxiv_id}")
    if paper.doi:
        names.append(f"doi:{paper.doi.lower()}")
    if paper.pdf_url:
        names.append(f"url:{paper.pdf_url}")
    names.append(f"key:{paper.key}")
    return names


def cached_pdf(paper: Paper, papers_dir: Path) -> Path | None:
    """The cached PDF for ``paper``, if any name it goes by is in the index and the file is there."""
    index = _read_index(papers_dir)
    for name in cache_names(paper):
        sha = index.get(name)
        if sha and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
            path = papers_dir / f"{sha}.pdf"
            if path.is_file():
                return path
    return None


def _remember(paper: Paper, sha: str, papers_dir: Path) -> None:
    with _locked(papers_dir):
        index = _read_index(papers_dir)
        for name in cache_names(paper):
            index[name] = sha
        write_atomic(papers_dir / _INDEX, json.dumps(index, indent=1, sort_keys=True).encode())


# -- fetch ------------------------------------------------------------------------------------------


def _pdf_url(paper: Paper, settings: Settings) -> str | None:
    if paper.pdf_url:
        return paper.pdf_url
    if paper.arxiv_id:
        return settings.arxiv.pdf_url.format(id=paper.versioned_id)
    return None


def fetch_pdf(paper: Paper, settings: Settings, *, client: ArxivClient | None = None) -> Path:
    """A local, validated PDF for ``paper``: its attachment, else the cache, else a download.

    Offline (``settings.fetch.offline``), a paper with neither attachment nor
    cached PDF raises ``OfflineMiss("offline: no cached PDF for @key")``.
    """
    max_mb, max_pages = settings.fetch.max_mb, settings.fetch.max_pages
    local_error: PdfError | SourceError | None = None
    if paper.pdf_path is not None and Path(paper.pdf_path).is_file():
        try:
            validate_pdf(Path(paper.pdf_path).read_bytes(), max_mb=max_mb, max_pages=max_pages)
            return Path(paper.pdf_path)
        except PdfError as exc:
            local_error = PdfError(f"{paper.pdf_path}: {exc.message}", hint=exc.hint)
        except OSError as exc:
            local_error = PdfError(f"cannot read {paper.pdf_path}: {exc.strerror or exc}")

    papers_dir = settings.papers_dir
    hit = cached_pdf(paper, papers_dir)
    if hit is not None:
        return hit

    url = _pdf_url(paper, settings)
    if local_error is None and paper.pdf_path is None and paper.missing_pdf is not None:
        local_error = SourceError(f"the PDF your library attaches to @{paper.key} is missing: {paper.missing_pdf}",
                                  hint="restore the file (in Zotero: Show File / re-download), or fix the attachment")
    if settings.fetch.offline:
        if local_error is not None:
            raise local_error
        raise OfflineMiss(f"offline: no cached PDF for @{paper.key}", hint="run online to download it")
    if url is None:
        if local_error is not None:
            raise local_error
        raise SourceError(f"no PDF for @{paper.key}: no file attachment and no arXiv id or PDF link",
                          hint="attach the PDF in Zotero, or add the arXiv id")

    own = client is None
    if client is None:
        from triage.sources.arxiv import ArxivClient

        client = ArxivClient(settings.arxiv)
    try:
        data = client.download(url, max_bytes=int(settings.fetch.max_mb * 1024 * 1024))
    finally:
        if own:
            client.close()
    try:
        validate_pdf(data, max_mb=max_mb, max_pages=max_pages)
    except PdfError as exc:
        raise PdfError(f"{url}: {exc.message}", hint=exc.hint) from None
    path = store_pdf(data, papers_dir)
    _remember(paper, path.stem, papers_dir)
    return path
