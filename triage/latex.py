"""LaTeX in metadata as plain Unicode: the one decoder for library fields and arXiv's feeds.

BibTeX exports and arXiv listings both carry TeX markup in titles, names and
abstracts (``Andr\\'e``, ``G\\"odel``, ``{\\o}``, ``\\emph{…}``, ``$\\alpha$``).
``pylatexenc`` (already required by bibtexparser) does the decoding; a ``%``
that is not escaped is text here, not a TeX comment, so it is escaped first.
"""

from __future__ import annotations

import functools
import re
from typing import Any

__all__ = ["decode_latex"]

_BARE_PERCENT = re.compile(r"(?<!\\)%")


@functools.cache
def _converter() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text  # type: ignore[import-untyped]

    return LatexNodes2Text()


def decode_latex(text: str) -> str:
    """``Andr\\'e`` -> ``André``, ``\\emph{x}`` -> ``x``, ``$\\alpha$`` -> ``α``; braces dropped, spaces collapsed."""
    if not text:
        return ""
    if "\\" in text or "$" in text:
        try:
            text = _converter().latex_to_text(_BARE_PERCENT.sub(r"\\%", text))
        except Exception:  # malformed markup: keep the text as it is rather than lose the field
            pass
    return " ".join(text.replace("{", "").replace("}", "").split())
