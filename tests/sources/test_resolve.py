"""Identifiers and resolve(): library first (aliases too), then arXiv by id or by citekey search."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.servers.arxiv_replay import ArxivReplay
from tests.sources.conftest import BIB
from triage.citekey import KeyParts, bbt_key, family_name, parse_bbt_key
from triage.config import Settings
from triage.errors import AmbiguousKeyError, SourceError
from triage.sources import Identifier, load_library, parse_identifier, resolve
from triage.sources.arxiv import ArxivClient


@pytest.mark.parametrize("text,expected", [
    ("@pfeifferModularDeepLearning2023", ("citekey", "pfeifferModularDeepLearning2023", None)),
    ("pfeifferModularDeepLearning2023", ("citekey", "pfeifferModularDeepLearning2023", None)),
    ("Ronnow.2014.Defining", ("citekey", "Ronnow.2014.Defining", None)),
    ("2302.11529", ("arxiv", "2302.11529", None)),
    ("2302.11529v2", ("arxiv", "2302.11529", 2)),
    ("0704.0001", ("arxiv", "0704.0001", None)),
    ("astro-ph/0601001", ("arxiv", "astro-ph/0601001", None)),
    ("quant-ph/0201082v1", ("arxiv", "quant-ph/0201082", 1)),
    ("math.GT/0309136", ("arxiv", "math.GT/0309136", None)),
    ("arXiv:2302.11529v1", ("arxiv", "2302.11529", 1)),
    ("https://arxiv.org/abs/2302.11529", ("arxiv", "2302.11529", None)),
    ("https://arxiv.org/pdf/2302.11529v2.pdf", ("arxiv", "2302.11529", 2)),
    ("http://arxiv.org/abs/hep-th/9901001v3", ("arxiv", "hep-th/9901001", 3)),
    ("https://export.arxiv.org/abs/2302.11529", ("arxiv", "2302.11529", None)),
    ("10.48550/arXiv.2302.11529", ("arxiv", "2302.11529", None)),
    ("https://doi.org/10.48550/arXiv.2302.11529", ("arxiv", "2302.11529", None)),
    ("10.1126/science.1252319", ("doi", "10.1126/science.1252319", None)),
    ("doi:10.1007/JHEP02(2016)087", ("doi", "10.1007/jhep02(2016)087", None)),
    ("https://example.org/paper.pdf", ("url", "https://example.org/paper.pdf", None)),
    ("  @liTrainLargeThen2020  ", ("citekey", "liTrainLargeThen2020", None)),
])
def test_parse_identifier(text: str, expected: tuple[str, str, int | None]) -> None:
    ident = parse_identifier(text)
    assert (ident.kind, ident.value, ident.version) == expected
    assert isinstance(ident, Identifier)


@pytest.mark.parametrize("hostile", [
    "../../etc/passwd", "@../../etc/passwd", "/etc/passwd", "key\x00.pdf", "a" * 10_000, "", "   ",
    "key with spaces", "..", "@", "C:\\Windows\\system32", "key/../../x", "https://evil.org/a b.pdf",
])
def test_hostile_identifiers_are_refused(hostile: str, settings: Settings, replay: ArxivReplay) -> None:
    with pytest.raises(SourceError) as exc:
        resolve(hostile, settings)
    assert len(str(exc.value)) < 300 and "\x00" not in str(exc.value)
    assert replay.requests == []  # never sent anywhere either


# -- citekey parts ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,parts", [
    ("pfeifferModularDeepLearning2023", ("pfeiffer", ["Modular", "Deep", "Learning"], 2023, "")),
    ("vandenoordWaveNetGenerativeModel2016", ("vandenoord", ["WaveNet", "Generative", "Model"], 2016, "")),
    ("liTrainLargeThen2020", ("li", ["Train", "Large", "Then"], 2020, "")),
    ("liTrainLargeThen2020a", ("li", ["Train", "Large", "Then"], 2020, "a")),
    ("baiConstitutionalAIHarmlessness2022", ("bai", ["Constitutional", "AI", "Harmlessness"], 2022, "")),
    ("rombachHighResolutionImageSynthesis2022", ("rombach", ["HighResolution", "Image", "Synthesis"], 2022, "")),
    ("brownLanguageModelsAre2020", ("brown", ["Language", "Models", "Are"], 2020, "")),
    ("@huangComposerCreativeControllable2023", ("huang", ["Composer", "Creative", "Controllable"], 2023, "")),
])
def test_parse_bbt_key(key: str, parts: tuple) -> None:
    assert parse_bbt_key(key) == KeyParts(*parts)


@pytest.mark.parametrize("key", ["Ronnow.2014.Defining", "Ramaswamy2022ELUDEGeneratingInterpretable",
                                 "chaudhari_stochastic_gradient_2018", "smith2020", "pfeifferModular", ""])
def test_parse_bbt_key_rejects_other_patterns(key: str) -> None:
    assert parse_bbt_key(key) is None


def test_bbt_key_round_trip() -> None:
    assert bbt_key(["Aaron van den Oord"], "WaveNet: A Generative Model for Raw Audio", 2016) == \
        "vandenoordWaveNetGenerativeModel2016"
    assert bbt_key(["Rombach, Robin"], "High-Resolution Image Synthesis with Latent Diffusion Models", 2022) == \
        "rombachHighResolutionImageSynthesis2022"
    assert bbt_key(["Jonas Pfeiffer"], "Modular Deep Learning", 2023) == "pfeifferModularDeepLearning2023"
    assert family_name("Rønnow, Troels F.") == "ronnow" and family_name("Ivan Vulić") == "vulic"


# -- resolve -------------------------------------------------------------------------------------------


@pytest.fixture
def library(tmp_path: Path):  # -> Library
    for f in BIB.iterdir():
        shutil.copy(f, tmp_path / f.name)
    return load_library([tmp_path / "broken.bib"])


def test_library_first_including_aliases(settings: Settings, replay: ArxivReplay, library) -> None:
    p = resolve("@goodFirstEntry2020", settings, library)
    assert p.resolved_by == "library:broken.bib" and p.arxiv_id == "2001.01234"
    p = resolve("2001.01234", settings, library)  # by arXiv id, still the library's record
    assert p.key == "goodFirstEntry2020"
    p = resolve("10.48550/arXiv.2105.00001", settings, library)
    assert p.key == "goodSecondEntry2021"
    assert replay.requests == []


def test_alias_resolves_to_the_same_paper(settings: Settings, corpus: Path) -> None:
    lib = load_library([corpus / "bib/zotero-better-bibtex/bbt-2058_arxiv-articles-as-online.biblatex"])
    assert resolve("@yang2021torchaudio", settings, lib).key == "yangTorchAudioBuildingBlocks2022"


def test_citekey_search_finds_the_one_match(settings: Settings, replay: ArxivReplay) -> None:
    p = resolve("@pfeifferModularDeepLearning2023", settings)
    assert (p.key, p.arxiv_id, p.arxiv_version, p.year) == ("pfeifferModularDeepLearning2023", "2302.11529", 2, 2023)
    assert p.resolved_by == "arxiv-search" and p.title == "Modular Deep Learning"
    queries = [r.params["search_query"] for r in replay.api_requests()]
    assert queries == ["au:pfeiffer AND ti:Modular AND ti:Deep AND ti:Learning"]


def test_citekey_search_drops_particles_from_the_query_when_needed(settings: Settings, replay: ArxivReplay) -> None:
    p = resolve("vandenoordWaveNetGenerativeModel2016", settings)
    assert p.arxiv_id == "1609.03499" and p.key == "vandenoordWaveNetGenerativeModel2016"
    assert len(replay.api_requests()) == 2 and not replay.unmatched


def test_citekey_search_ambiguous(settings: Settings, replay: ArxivReplay) -> None:
    with pytest.raises(AmbiguousKeyError) as exc:
        resolve("@zhangSparseMixtureExperts2022", settings)
    assert sorted(c.arxiv_id for c in exc.value.candidates) == ["2201.04567", "2209.07654"]
    assert "matches 2 arXiv papers" in str(exc.value)


def test_citekey_search_not_found(settings: Settings, replay: ArxivReplay) -> None:
    with pytest.raises(SourceError, match="no arXiv paper matches @nobodyNonexistentPaperTitle2021") as exc:
        resolve("nobodyNonexistentPaperTitle2021", settings)
    assert exc.value.exit_code == 1 and not isinstance(exc.value, AmbiguousKeyError)


def test_key_year_may_be_one_after_the_preprint(settings: Settings, replay: ArxivReplay) -> None:
    # The venue year (2021) on a key for a 2020 preprint still matches when nothing matches exactly.
    p = resolve("liTrainLargeThen2021", settings)
    assert p.arxiv_id == "2002.11794" and p.key == "liTrainLargeThen2021"
    assert "liTrainLargeThen2020" in p.aliases


def test_non_default_key_not_in_library(settings: Settings, replay: ArxivReplay) -> None:
    with pytest.raises(SourceError, match="not a default Better BibTeX key"):
        resolve("Smolin.2013.Classical", settings)
    assert replay.requests == []


def test_offline_never_asks_arxiv(settings: Settings, replay: ArxivReplay) -> None:
    settings.fetch.offline = True
    with pytest.raises(SourceError, match="offline"):
        resolve("@pfeifferModularDeepLearning2023", settings)
    bare = resolve("2302.11529v2", settings)
    assert (bare.arxiv_id, bare.arxiv_version, bare.key) == ("2302.11529", 2, "arXiv-2302.11529")
    assert replay.requests == []


def test_arxiv_id_doi_and_url_forms(settings: Settings, replay: ArxivReplay) -> None:
    with ArxivClient(settings.arxiv) as client:
        for ident in ("2302.11529", "https://arxiv.org/abs/2302.11529", "10.48550/arXiv.2302.11529"):
            p = resolve(ident, settings, arxiv=client)
            assert (p.key, p.resolved_by) == ("pfeifferModularDeepLearning2023", "arxiv-id")
    with pytest.raises(SourceError, match="arXiv has no paper 2399.00001"):
        resolve("2399.00001", settings)
    with pytest.raises(SourceError, match="DOI 10.1126/science.1252319 is not in your library"):
        resolve("10.1126/science.1252319", settings)
    p = resolve("https://example.org/paper.pdf", settings)
    assert p.resolved_by == "url" and p.pdf_url == "https://example.org/paper.pdf" and p.key.startswith("url-")
    with pytest.raises(SourceError, match="not a PDF link"):
        resolve("https://example.org/landing", settings)


def test_fraction_of_bbt_fixture_keys_that_resolve(settings: Settings, corpus: Path, replay: ArxivReplay) -> None:
    """Every usable key in the BBT fixtures resolves through the library that holds it, offline."""
    settings.fetch.offline = True
    total = resolved = 0
    for path in sorted((corpus / "bib/zotero-better-bibtex").iterdir()):
        lib = load_library([path])
        total += len(lib) + len(lib.errors)
        for key in lib:
            resolve(key, settings, lib)
            resolved += 1
    assert (resolved, total) == (266, 267)  # the one left: 'wang*_solving_minimax_2019', not a usable key
    with pytest.raises(SourceError, match="not a citekey"):
        resolve("wang*_solving_minimax_2019", settings)


class _EchoArxiv:
    """Pure matching logic: answers every search with one paper, its names printed as arXiv prints them."""

    def __init__(self, paper) -> None:  # noqa: ANN001
        self.paper = paper

    def search(self, query: str, max_results: int = 10) -> list:
        names = [" ".join(reversed(a.split(", ", 1))) for a in self.paper.authors]
        return [self.paper.model_copy(update={"authors": names})]


def test_search_matcher_accepts_the_default_keys_bbt_wrote_for_arxiv_papers(corpus: Path) -> None:
    from triage.sources.resolve import search_citekey

    d = corpus / "bib/zotero-better-bibtex"
    lib = load_library([d / "bbt-2058_arxiv-articles-as-online.biblatex", d / "bbt-2911_arxiv-pubstate-prepublished.biblatex"])
    keys = [k for k in lib if parse_bbt_key(k) and lib.get(k).arxiv_id]
    assert len(keys) == 4
    for key in keys:
        assert search_citekey(key, _EchoArxiv(lib.get(key))).arxiv_id == lib.get(key).arxiv_id  # type: ignore[arg-type]


def test_arxiv_answers_are_remembered_and_serve_offline(settings: Settings, replay: ArxivReplay) -> None:
    online = resolve("@pfeifferModularDeepLearning2023", settings)
    by_id = resolve("2302.11529", settings)
    n = len(replay.requests)
    assert resolve("pfeifferModularDeepLearning2023", settings) == online and len(replay.requests) == n
    settings.fetch.offline = True
    assert resolve("@pfeifferModularDeepLearning2023", settings) == online
    assert resolve("2302.11529", settings) == by_id
    assert len(replay.requests) == n


def test_remembered_answers_expire_online_but_not_offline(settings: Settings, replay: ArxivReplay) -> None:
    import json

    resolve("2302.11529", settings)
    cache = settings.cache_dir / "resolved.json"
    data = json.loads(cache.read_text())
    data["arxiv:2302.11529"]["at"] = 0  # 1970: stale
    cache.write_text(json.dumps(data))
    n = len(replay.requests)
    resolve("2302.11529", settings)
    assert len(replay.requests) == n + 1  # asked arXiv again (a newer version may be out)
    data = json.loads(cache.read_text())
    data["arxiv:2302.11529"]["at"] = 0
    cache.write_text(json.dumps(data))
    settings.fetch.offline = True
    assert resolve("2302.11529", settings).arxiv_version == 2 and len(replay.requests) == n + 1
    cache.write_text("{not json")
    assert resolve("2302.11529", settings).key == "arXiv-2302.11529"  # damaged cache: the bare record


def test_a_picked_candidate_never_expires_and_the_library_still_wins(settings: Settings, replay: ArxivReplay) -> None:
    import json

    from triage.sources import pick

    with pytest.raises(AmbiguousKeyError):
        resolve("zhangSparseMixtureExperts2022", settings)
    chosen = pick("@zhangSparseMixtureExperts2022", "2302.11529", settings)
    assert (chosen.key, chosen.arxiv_id, chosen.resolved_by) == ("zhangSparseMixtureExperts2022", "2302.11529",
                                                                  "arxiv-search, picked")
    cache = settings.cache_dir / "resolved.json"
    data = json.loads(cache.read_text())
    data["citekey:zhangSparseMixtureExperts2022"]["at"] = 0  # picked in 1970: still the reader's choice
    cache.write_text(json.dumps(data))
    n = len(replay.requests)
    assert resolve("zhangSparseMixtureExperts2022", settings) == chosen and len(replay.requests) == n

    with pytest.raises(SourceError, match="is not an arXiv id"):
        pick("zhangSparseMixtureExperts2022", "someOtherKey2020", settings)
    with pytest.raises(SourceError, match="is not a citekey"):
        pick("zhangSparseMixtureExperts2022", "../../etc/passwd", settings)
    with pytest.raises(SourceError, match="is not a citekey"):
        pick("2302.11529", "2302.11529", settings)
