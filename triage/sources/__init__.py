"""Where papers come from: the reader's library, arXiv, and ``resolve()`` that tries them in order.

``bibtex`` reads Better BibTeX exports (BibTeX/BibLaTeX, CSL-JSON, BBT JSON)
and hands Zotero libraries to ``zotero``, which reads them in place;
``arxiv`` talks to the arXiv API politely (one shared rate limit, retries);
``resolve`` turns a citekey, arXiv id, URL or DOI into a ``Paper``;
``listing`` reads arXiv's nightly feeds for the digest.  The arXiv client is
imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from triage.sources.bibtex import (
    forget_library,
    library_path,
    load_library,
    remember_library,
    remembered_libraries,
)
from triage.sources.library import Library
from triage.sources.resolve import Identifier, parse_identifier, pick, resolve

if TYPE_CHECKING:
    from triage.sources.arxiv import ArxivClient

__all__ = [
    "Library",
    "load_library",
    "library_path",
    "remembered_libraries",
    "remember_library",
    "forget_library",
    "Identifier",
    "parse_identifier",
    "resolve",
    "pick",
    "ArxivClient",
]


def __getattr__(name: str) -> Any:
    if name == "ArxivClient":
        from triage.sources.arxiv import ArxivClient

        return ArxivClient
    raise AttributeError(f"module 'triage.sources' has no attribute {name!r}")
