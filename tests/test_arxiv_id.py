"""arXiv identifiers, every form triage meets, through the one parser; and the one LaTeX decoder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from triage.arxiv_id import find_arxiv_id, parse_arxiv_id, split_version, versioned_id, year_of_id
from triage.latex import decode_latex
from triage.models import Paper

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("typed, expected", [
    ("2302.11529", ("2302.11529", None)),
    ("2302.11529v2", ("2302.11529", 2)),
    ("0706.0001", ("0706.0001", None)),
    ("astro-ph/0601001", ("astro-ph/0601001", None)),
    ("math.GT/0309136v1", ("math.GT/0309136", 1)),
    ("arXiv:2302.11529", ("2302.11529", None)),
    ("  arxiv: 2302.11529v3 ", ("2302.11529", 3)),
    ("https://arxiv.org/abs/2302.11529v2", ("2302.11529", 2)),
    ("http://export.arxiv.org/abs/hep-th/0601001", ("hep-th/0601001", None)),
    ("https://arxiv.org/pdf/2302.11529.pdf", ("2302.11529", None)),
    ("https://arxiv.org/html/2302.11529v1#S2", ("2302.11529", 1)),
    ("10.48550/arXiv.2302.11529", ("2302.11529", None)),
    ("2302.115", None),  # too short for a new-style id
    ("2302.11529.pdf", None),
    ("pfeifferModularDeepLearning2023", None),
    ("https://example.org/abs/2302.11529", None),
    ("10.1126/science.1252319", None),
])
def test_what_a_reader_types(typed: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_arxiv_id(typed) == expected


def test_ids_inside_text_only_where_arxiv_is_named() -> None:
    assert find_arxiv_id("see https://arxiv.org/pdf/2302.11529v2.pdf") == ("2302.11529", 2)
    assert find_arxiv_id(None, "arXiv: astro-ph/0601001") == ("astro-ph/0601001", None)
    assert find_arxiv_id("oai:arXiv.org:2508.13426v12") == ("2508.13426", 12)
    assert find_arxiv_id("doi 10.48550/arXiv.2302.11529 …") == ("2302.11529", None)
    assert find_arxiv_id("pages 1234.5678, no id here 2020.1") is None


def test_versions_are_written_one_way() -> None:
    assert split_version("2302.11529v2") == ("2302.11529", 2)
    assert split_version("abc") == ("abc", None)  # not an id: passed on for arXiv to refuse by name
    assert versioned_id("2302.11529", 2) == "2302.11529v2" and versioned_id("2302.11529", None) == "2302.11529"
    assert Paper(key="k", arxiv_id="2302.11529", arxiv_version=2).versioned_id == "2302.11529v2"
    assert Paper(key="k", arxiv_id="2302.11529").versioned_id == "2302.11529"
    assert Paper(key="k").versioned_id is None
    assert (year_of_id("2508.13426"), year_of_id("astro-ph/9601001"), year_of_id("hep-th/0601001")) == (2025, 1996, 2006)


def test_one_arxiv_id_regex_in_the_code_base() -> None:
    """Every other module asks triage.arxiv_id: no second spelling of the id's digits anywhere."""
    spelled = re.compile(r"\\d\{4\}\\\.\\d\{4,5\}|/\\d\{7\}")
    found = [f"{path.relative_to(REPO)}:{n}"
             for folder in ("triage", "tui")
             for path in sorted((REPO / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if spelled.search(line)]
    assert found == ["triage/arxiv_id.py:19"]


@pytest.mark.parametrize("tex, text", [
    (r"G\"odel, Fran\c{c}ois, {\o}ystein, Garc\'{\i}a", "Gödel, François, øystein, García"),
    (r"{{BERT}}: 0.9\% of {\"U}ber", "BERT: 0.9% of Über"),
    (r"Andr\'e reaches 50% with \emph{sparse} experts", "André reaches 50% with sparse experts"),
    ("A   title\n over lines", "A title over lines"),
    ("", ""),
])
def test_latex_decoder(tex: str, text: str) -> None:
    assert decode_latex(tex) == text
