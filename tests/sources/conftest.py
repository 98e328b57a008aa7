"""Fixtures for the sources tests: a loopback arXiv, settings pointed at it, small PDFs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.arxiv_replay import ArxivReplay, atom_entry, atom_feed, make_pdf
from triage.config import ArxivSettings, FetchSettings, Settings

DATA = Path(__file__).resolve().parents[1] / "data"
ATOM = DATA / "atom"
BIB = DATA / "bib"


@pytest.fixture(scope="session")
def pdf_bytes() -> bytes:
    """A valid two-page PDF."""
    return make_pdf("Modular Deep Learning")


@pytest.fixture
def replay(pdf_bytes: bytes) -> Iterator[ArxivReplay]:
    """The loopback arXiv with the project's own Atom fixtures and PDFs for the papers in them."""
    with ArxivReplay() as server:
        server.load_atom_dir(ATOM)
        for vid in ("2302.11529v2", "2002.11794v2", "1609.03499v2"):
            server.serve_pdf(vid, make_pdf(f"Paper {vid}"))
        yield server


@pytest.fixture
def recorded(corpus: Path) -> Iterator[ArxivReplay]:
    """The loopback arXiv replaying the ``arxiv`` package's recorded responses (skips without ../shared)."""
    with ArxivReplay() as server:
        assert server.load_recorded(corpus / "atom" / "arxiv.py_fixtures" / "recorded_json") == 20
        yield server


def settings_for(server: ArxivReplay, home: Path, **arxiv: object) -> Settings:
    """Settings whose arXiv endpoints are the loopback server; small delay and timeouts for tests."""
    opts: dict[str, object] = {"api_url": server.api_url, "pdf_url": server.pdf_url, "delay_s": 0.05,
                               "timeout_s": 2.0, "max_retries": 2, **arxiv}
    return Settings(home=home, arxiv=ArxivSettings(**opts), fetch=FetchSettings())  # type: ignore[arg-type]


@pytest.fixture
def settings(replay: ArxivReplay, triage_home: Path) -> Settings:
    """Settings pointed at ``replay``."""
    return settings_for(replay, triage_home)


#: A citekey the project's Atom fixtures answer with two papers, and the one a reader picks.
AMBIGUOUS_KEY, PICKED = "zhangSparseMixtureExperts2022", "2209.07654"


def serve_the_pick(server: ArxivReplay) -> None:
    """Let ``server`` answer the id lookup and the PDF download of ``PICKED`` (the search is in ATOM)."""
    entry = atom_entry(PICKED, 3, "Sparse Mixture of Experts Routing at Scale", ["Yu Zhang", "Ana Souza"],
                       summary="We route tokens to sparse experts.", published="2022-09-15T08:00:00Z")
    server.add_feed(atom_feed([entry], params={"id_list": PICKED, "max_results": "100"}))
    server.serve_pdf(f"{PICKED}v3", make_pdf("Sparse Mixture of Experts Routing at Scale"))
