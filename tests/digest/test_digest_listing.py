"""Listing feeds, keys, API queries and schedule units: pure logic, no model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.digest.support import DATA
from triage import notes
from triage.digest import build_api_query, derive_key, schedule_units
from triage.errors import SourceError
from triage.sources.listing import (
    ListingEntry,
    load_listing,
    parse_listing,
    split_authors,
)


def test_recorded_feed(recorded_feed: Path) -> None:
    listing = load_listing(recorded_feed)
    assert listing.category == "cs.AI"
    assert listing.night == date(2025, 8, 20)
    assert listing.warnings == []
    assert len(listing.entries) == 7
    first = listing.entries[0]
    assert (first.arxiv_id, first.version, first.announce_type) == ("2508.13426", 1, "cross")
    assert first.authors == ("Chunhua Liu", "Kabir Manandhar Shrestha", "Sukai Huang")
    assert first.categories[:2] == ("cs.CL", "cs.AI") and first.primary_category == "cs.CL"
    assert first.license_name == "CC BY-NC-SA 4.0"
    assert first.abstract.startswith("As large language models (LLMs) increasingly mediate")
    assert "Announce Type" not in first.abstract
    assert first.is_cross_list and not first.is_replacement
    # A TeX accent in dc:creator becomes a letter.
    assert listing.entries[2].authors == ("Paulo André Lima de Castro",)
    assert [e.announce_type for e in listing.entries].count("new") == 2


def test_hand_written_feed_kinds_and_warnings() -> None:
    listing = load_listing(DATA / "night1.atom.xml")
    assert listing.night == date(2026, 3, 3)
    assert len(listing.entries) == 6
    assert listing.warnings == ["1 entry without an arXiv id skipped (entry 6)"]
    by_id = {e.arxiv_id: e for e in listing.entries}
    assert by_id["2603.00104"].is_replacement and by_id["2603.00104"].version == 2
    assert by_id["2603.00104"].license_name == "arXiv non-exclusive"
    assert by_id["2603.00107"].announce_type == "replace-cross"
    assert by_id["2603.00107"].is_cross_list and by_id["2603.00107"].is_replacement
    assert by_id["2603.00101"].authors == ("Ana Pérez", "John Smith", "Wei Zhang")
    assert by_id["2603.00103"].authors[0] == "Maria García"
    assert by_id["2603.00107"].authors[1] == "Günter Müller"


def test_rss_format_parses_to_the_same_entries() -> None:
    listing = load_listing(DATA / "night1.rss.xml")
    assert listing.category == "cs.CL"
    assert listing.night == date(2026, 3, 3)
    assert [e.versioned_id for e in listing.entries] == ["2603.00101v1", "2603.00110v1"]
    assert listing.entries[0].authors == ("Ana Pérez", "John Smith", "Wei Zhang")
    assert listing.entries[0].abstract.startswith("We study parameter-efficient")


def test_entry_round_trips_and_becomes_a_paper() -> None:
    entry = load_listing(DATA / "night1.atom.xml").entries[0]
    assert ListingEntry.from_dict(entry.to_dict()) == entry
    paper = entry.to_paper("perezSparseAdaptersFrozen2026")
    assert paper.arxiv_id == "2603.00101" and paper.arxiv_version == 1 and paper.year == 2026
    assert paper.abstract == entry.abstract


@pytest.mark.parametrize(
    "data, message",
    [
        (b"<feed", "not valid XML"),
        (b"<html><body>maintenance</body></html>", "not an Atom or RSS feed"),
        (b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaa">]><feed>&a;</feed>', "refusing"),
        # A long comment in the prolog pushes the DOCTYPE past any fixed-size prefix.
        (b'<?xml version="1.0"?><!--' + b"x" * 8192 + b'--><!DOCTYPE f [<!ENTITY a "aaaa">]><feed>&a;</feed>',
         "refusing"),
        ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE f><feed/>'.encode("utf-16"), "refusing"),
    ],
)
def test_bad_feeds_are_one_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_listing(data, source="x.xml")


def test_missing_feed_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        load_listing(tmp_path / "nope.xml")
    assert info.value.exit_code == 1


def test_empty_night() -> None:
    listing = parse_listing(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><id>http://rss.arxiv.org/atom/cs.LG</id>'
        b"<updated>2026-03-07T05:00:00+00:00</updated></feed>"
    )
    assert listing.entries == [] and listing.night == date(2026, 3, 7)


def test_authors_as_printed() -> None:
    assert split_authors("A B, C D, and E F") == ["A B", "C D", "E F"]
    assert split_authors("A B and C D") == ["A B", "C D"]
    assert split_authors(r"Kurt G\"odel and Fran\c{c}ois Garc\'{\i}a") == ["Kurt Gödel", "François García"]


@pytest.mark.parametrize(
    "authors, title, year, key",
    [  # the keys in the reader's own note (../shared/seed/reading-session.md)
        (["Jonas Pfeiffer"], "Modular Deep Learning", 2023, "pfeifferModularDeepLearning2023"),
        (["Zhuohan Li"], "Train Large, Then Compress: Rethinking Model Size for Efficient Training", 2020, "liTrainLargeThen2020"),
        (["Jack Merullo"], "Linearly Mapping from Image to Text Space", 2022, "merulloLinearlyMappingImage2022"),
        (["Lianghua Huang"], "Composer: Creative and Controllable Image Synthesis with Composable Conditions", 2023,
         "huangComposerCreativeControllable2023"),
        (["Yuntao Bai"], "Constitutional AI: Harmlessness from AI Feedback", 2022, "baiConstitutionalAIHarmlessness2022"),
        (["Robin Rombach"], "High-Resolution Image Synthesis with Latent Diffusion Models", 2022,
         "rombachHighResolutionImageSynthesis2022"),
        (["Yann LeCun"], "A Path Towards Autonomous Machine Intelligence", 2022, "lecunPathAutonomousMachine2022"),
        (["Emilien Dupont"], "From data to functa: Your data point is a function", 2022, "dupontDataFunctaYour2022"),
        (["Arsha Nagrani"], "Attention Bottlenecks for Multimodal Fusion", 2022, "nagraniAttentionBottlenecksMultimodal2022"),
        (["Grégoire Mialon"], "Augmented Language Models: a Survey", 2023, "mialonAugmentedLanguageModels2023"),
        (["Paulo André Lima de Castro"], "AlphaX: An AI-Based Value Investing Strategy", 2025, "decastroAlphaXAIBasedValue2025"),
        (["Smith, Alice"], "Deep Nets", 2024, "smithDeepNets2024"),
        ([], "", None, "anon"),
    ],
)
def test_better_bibtex_style_keys(authors: list[str], title: str, year: int | None, key: str) -> None:
    assert derive_key(authors, title, year) == key


def test_api_query_by_submission_date() -> None:
    q = build_api_query(["cs.LG", "cs.CL"], "abs:adapter", date(2026, 3, 2), date(2026, 3, 3))
    assert q == "(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202603020000 TO 202603032359] AND (abs:adapter)"
    assert build_api_query([], None, date(2026, 3, 2), date(2026, 3, 2)) == "submittedDate:[202603020000 TO 202603022359]"


def test_schedule_units_name_the_command_and_the_home(tmp_path: Path) -> None:
    units = schedule_units("/opt/triage/bin/triage digest --email", home=tmp_path)
    line = units["crontab"].splitlines()[-1]
    minute, hour, dom, month, dow, *command = line.split()
    assert (dom, month, dow) == ("*", "*", "1-5") and 0 <= int(hour) < 24 and 0 <= int(minute) < 60
    assert f"TRIAGE_HOME={tmp_path}" in line and "/opt/triage/bin/triage digest --email" in line
    assert "ExecStart=/opt/triage/bin/triage digest --email" in units["service"]
    assert "Type=oneshot" in units["service"] and "SuccessExitStatus=75" in units["service"]
    assert "OnCalendar=Mon..Fri *-*-* 06:30:00 UTC" in units["timer"] and "Persistent=true" in units["timer"]
    assert "WantedBy=timers.target" in units["timer"]


def test_untrusted_titles_are_escaped_in_the_note_and_the_mail() -> None:
    from triage.digest import Candidate, DigestReport, render_html, render_markdown
    from triage.sources.listing import ListingEntry

    entry = ListingEntry(arxiv_id="2603.00999", version=1, title="<script>alert(1)</script> [click](http://x)",
                         abstract="An abstract with enough words to be a sentence.", authors=("Eve <e@x>",))
    report = DigestReport(night=date(2026, 3, 3), top=[Candidate(entry=entry, key="eveScriptAlert2026", score=0.5)])
    page = render_html(report)
    assert "<script>" not in page and "&lt;script&gt;" in page and "Eve &lt;e@x&gt;" in page
    text = render_markdown(report)
    assert "\\[click\\](http://x)" in text  # a title cannot smuggle a link into the note
    assert "- [skim(@eveScriptAlert2026)]" in text and "triage: not judged (below the cut)" in text


HOSTILE_TITLE = ("<script>alert(1)</script> <img src=x onerror=alert(2)> **bold** _em_ `code` "
                 "[[@victimKey2020]] see @smithInjected2021 #tag $x$ ~~gone~~ ==hi==")


def test_hostile_feed_text_renders_as_the_same_words_in_the_digest_note() -> None:
    from markdown_it import MarkdownIt

    from triage.digest import Candidate, DigestReport, render_markdown
    from triage.sources.listing import ListingEntry

    entry = ListingEntry(arxiv_id="2603.00998", version=1, title=HOSTILE_TITLE,
                         abstract="We show *that* <b>this</b> works @otherKey2019 `rm -rf` in all cases tested.",
                         authors=("Mallory <img src=y onerror=alert(3)>", "@authorKey2022", "**Trent**"))
    also = Candidate(entry=ListingEntry(arxiv_id="2603.00997", version=1, title=HOSTILE_TITLE, abstract="x",
                                        authors=("_Eve_ @eveKey2020",)), key="eveAlso2026", score=0.1)
    report = DigestReport(night=date(2026, 3, 3), top=[Candidate(entry=entry, key="malloryScript2026", score=0.5)],
                          rest=[also])
    text = render_markdown(report)
    html = MarkdownIt("commonmark").render(text)
    # No markup from the feed survives: no HTML, emphasis or code of its own, only the digest's own **title**.
    for tag in ("<script", "<img", "<b>", "<em>", "<code>", "<del>"):
        assert tag not in html, tag
    assert html.count("<strong>") == 1  # the digest's own bold title; the feed's **bold** and **Trent** stay words
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "**bold**" in html and "`code`" in html
    # The only citekeys and wiki links a tool finds are the digest's own: none smuggled in by a title or author.
    from triage.citekey import find_citekeys

    assert set(find_citekeys(text)) == {"malloryScript2026", "eveAlso2026"}
    assert "[[@victimKey2020]]" not in text and "\\[\\[\\@victimKey2020\\]\\]" in text
    parsed = notes.parse(text)
    assert {m.key for m in parsed.mentions} | parsed.entry_keys() == {"malloryScript2026", "eveAlso2026"}


def _atom(entries: str) -> bytes:
    return (b'<feed xmlns="http://www.w3.org/2005/Atom"><id>http://rss.arxiv.org/atom/cs.LG</id>'
            b"<updated>2026-03-07T05:00:00+00:00</updated>" + entries.encode() + b"</feed>")


def test_entries_without_an_arxiv_id_are_counted_not_skipped_silently() -> None:
    good = ("<entry><id>oai:arXiv.org:2603.00101v1</id><title>T</title><summary>arXiv:2603.00101v1 Announce Type: "
            "new Abstract: A.</summary></entry>")
    bare = "<entry><title>No id {n}</title><summary>An abstract.</summary></entry>"
    listing = parse_listing(_atom(good + "".join(bare.format(n=n) for n in range(3))), source="x.xml")
    assert [e.arxiv_id for e in listing.entries] == ["2603.00101"]
    assert listing.warnings == ["3 entries without an arXiv id skipped (entry 2, entry 3, entry 4)"]


def test_a_feed_file_over_the_size_or_entry_limit_is_refused_with_a_message(tmp_path: Path) -> None:
    feed = tmp_path / "big.xml"
    entry = ("<entry><id>oai:arXiv.org:2603.{n:05d}v1</id><title>T</title>"
             "<summary>arXiv:2603.{n:05d}v1 Announce Type: new Abstract: A.</summary></entry>")
    feed.write_bytes(_atom("".join(entry.format(n=n) for n in range(50))))
    with pytest.raises(SourceError, match=r"lists 50 entries, over the limit of 40") as info:
        load_listing(feed, max_entries=40)
    assert info.value.exit_code == 1 and "limits.feed_entries" in info.value.hint
    with pytest.raises(SourceError, match=r"KiB, over the 1.0 KiB limit for one feed") as info:
        load_listing(feed, max_bytes=1024)
    assert "limits.feed_mb" in info.value.hint
    assert len(load_listing(feed, max_entries=50, max_bytes=feed.stat().st_size).entries) == 50
