"""Digest runs end to end with the real local MiniLM and the offline critic."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.digest.feedgen import ADAPTER, CROP, write_listing
from tests.digest.support import DATA
from triage import notes
from triage.config import Settings
from triage.digest import DigestOptions, abstract_sections, pdf_sections, prefilter, run_digest
from triage.models import Paper, Status
from triage.service import Triage
from triage.sources.listing import load_listing

NIGHT1, NIGHT2 = str(DATA / "night1.atom.xml"), str(DATA / "night2.atom.xml")


def _seen_rows(core: Triage) -> list[tuple]:
    return [tuple(r) for r in core._state._db.execute("SELECT arxiv_id, version, night, key, kind FROM digest_seen")]


def test_recorded_feed_digest_and_rerun(core: Triage, counting, recorded_feed: Path) -> None:
    critic = counting()
    report = run_digest(core, DigestOptions(feeds=[str(recorded_feed)], top_n=3), critic=critic)
    assert report.exit_code == 0 and report.night == date(2025, 8, 20)
    assert report.listed == 7 and report.candidates == 7 and len(report.top) == 3
    assert critic.calls == 3 and all(c.verdict for c in report.top)
    path = core.settings.digests_dir / "2025-08-20.md"
    assert report.path == path
    text = path.read_text(encoding="utf-8")

    # The digest is a note the reader's tools can read: three skim entries, each with a quote and a verdict.
    note = notes.parse(text)
    assert note.entry_keys("skim") == {c.key for c in report.top}
    for entry in note.entries:
        assert any(child.strip().startswith('- "') for child in entry.children)
        assert any("triage: " in child for child in entry.children)
    assert "## tl;dr" in text and "## Context" in text and "## Also tonight" in text
    assert "CC BY" in text and "https://arxiv.org/abs/" in text
    # The top N are queued for the TUI's inbox.
    assert {r.key for r in core.papers(Status.QUEUED)} == {c.key for c in report.top}

    # Same night again: identical file, no critic call, nothing added anywhere.
    rows = _seen_rows(core)
    again = run_digest(core, DigestOptions(feeds=[str(recorded_feed)], top_n=3), critic=counting())
    assert again.critic_calls == 0 and all(c.cached for c in again.top)
    assert path.read_text(encoding="utf-8") == text
    assert _seen_rows(core) == rows
    assert len(core.papers()) == 3
    assert [r["status"] for r in core.digest_runs()] == ["ok", "ok"]
    log = (core.settings.home / "logs" / "digest.log").read_text(encoding="utf-8")
    assert log.count("digest finished") == 2


def test_next_night_skips_seen_notes_versions_and_known(core: Triage, counting) -> None:
    run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2), critic=counting())
    # The reader already has this one in their state, under their own key.
    core._state.upsert_paper(Paper(key="pfeifferModularDeepLearningRevisited", title="Modular Deep Learning Revisited",
                                   arxiv_id="2603.00301"), status=Status.READ)
    critic = counting()
    report = run_digest(core, DigestOptions(feeds=[NIGHT2], top_n=5), critic=critic)
    assert report.night == date(2026, 3, 4)
    assert report.old == 1  # 2603.00101v1 was seen on night 1
    assert {c.entry.arxiv_id for c in report.top + report.rest} == {"2603.00201", "2603.00202"}
    noted = {n.entry.arxiv_id: n for n in report.noted}
    assert noted["2603.00102"].kind == "version" and "v2; v1 seen 2026-03-03" in noted["2603.00102"].detail
    assert noted["2603.00102"].key == "merulloLinearProjectionBridges2026"  # the key it was given on night 1
    assert noted["2603.00301"].kind == "known" and noted["2603.00301"].key == "pfeifferModularDeepLearningRevisited"
    assert critic.calls == 2
    text = report.path.read_text(encoding="utf-8")
    assert "## Seen before" in text and "@merulloLinearProjectionBridges2026" in text
    assert core.paper("pfeifferModularDeepLearningRevisited").status is Status.READ  # untouched


def test_merged_sources_one_entry_per_paper(core: Triage, counting) -> None:
    report = run_digest(core, DigestOptions(feeds=[NIGHT1, str(DATA / "night1.rss.xml")], top_n=0), critic=counting())
    ids = [c.entry.arxiv_id for c in report.top + report.rest]
    assert len(ids) == len(set(ids)) == 7
    merged = next(c.entry for c in report.rest if c.entry.arxiv_id == "2603.00101")
    assert merged.announce_type == "new" and set(merged.categories) == {"cs.LG", "cs.CL"}


def test_prefilter_ranks_the_readers_interests_first(core: Triage) -> None:
    entries = load_listing(NIGHT1).entries
    scores = dict(zip((e.arxiv_id for e in entries), prefilter(core, entries)))
    wanted = [scores[i][0] for i in ("2603.00101", "2603.00102", "2603.00107")]
    unwanted = [scores[i][0] for i in ("2603.00103", "2603.00104", "2603.00105")]
    assert min(wanted) > max(unwanted)
    assert scores["2603.00101"][1] == "modularity"


CROP_PAPERS = [
    ("Crop yield prediction from rainfall and soil moisture", "We predict maize and wheat yields from rainfall, soil moisture and satellite data across 40 districts."),
    ("Wheat yield forecasting with gradient boosted trees", "Gradient boosted trees forecast wheat yields from weather records and soil surveys, beating linear baselines by 12%."),
    ("Satellite vegetation indices for rice yield estimation", "NDVI time series from satellites estimate rice yields at field scale with an error of 0.4 t/ha."),
    ("Irrigation scheduling from soil moisture probes", "Soil moisture probes and weather forecasts schedule irrigation, saving 18% of water on maize farms."),
    ("Drought stress detection in maize from drone imagery", "Drone imagery detects drought stress in maize canopies two weeks before visible wilting."),
]
ADAPTER_PAPERS = [
    ("Parameter-efficient transfer learning with adapters", "Adapter modules fine-tune a frozen pretrained model with few parameters."),
    ("Low-rank adaptation of large language models", "LoRA trains low-rank update matrices next to frozen weights, cutting trainable parameters 10,000 times."),
    ("Prefix tuning for generation", "Prefix tuning keeps the language model frozen and optimises a small continuous prefix."),
    ("Routing between adapter experts", "A learned router selects among adapter experts attached to a frozen backbone for each token."),
    ("Merging LoRA modules trained by different clients", "Federated clients train LoRA modules that a server merges into one adapter."),
]
ORDINARY_PAPERS = [
    ("A survey of continuum robots", "We review the design, modelling and control of continuum robots for surgery."),
    ("Password managers in the wild", "We interview forty users about how they choose and store their passwords."),
    ("Real-time scheduling in ROS 2", "We analyse the response times of the ROS 2 executor under fixed-priority scheduling."),
    ("Smart contract vulnerabilities", "A static analyser finds reentrancy bugs in 1,200 Ethereum smart contracts."),
    ("Energy-aware gait selection for quadrupeds", "A power model picks the gait that saves the most energy on a wheeled robot."),
    ("Query optimisation for graph databases", "Cardinality estimates for graph pattern queries cut planning errors by half."),
]


def test_the_readers_decisions_move_the_ranking(core: Triage) -> None:
    entries = load_listing(NIGHT1).entries
    before = dict(zip((e.arxiv_id for e in entries), (s for s, _ in prefilter(core, entries))))
    # A reader who, beyond what their constitution says, reads crop-yield papers: a new interest.
    decisions = [("farmer", CROP_PAPERS, "promote"), ("modular", ADAPTER_PAPERS, "promote"),
                 ("ordinary", ORDINARY_PAPERS, "drop")]
    for prefix, papers, action in decisions:
        for i, (title, abstract) in enumerate(papers):
            key = f"{prefix}{i}Paper2024"
            core._state.upsert_paper(Paper(key=key, title=title, abstract=abstract))
            getattr(core, action)(key)
    model = core.reader_model()
    assert model.learned and "learned from 16 of your decisions" in model.describe()
    after = dict(zip((e.arxiv_id for e in entries), prefilter(core, entries)))
    assert after["2603.00103"][0] > before["2603.00103"] + 2  # maize yields: like the crop papers promoted
    assert after["2603.00103"][1].startswith("@farmer")  # closest to a paper the reader promoted
    assert after["2603.00101"][0] >= before["2603.00101"] - 1  # sparse adapters: still wanted


def test_too_few_decisions_leave_the_constitution_in_charge(core: Triage) -> None:
    entries = load_listing(NIGHT1).entries
    before = [s for s, _ in prefilter(core, entries)]
    title, abstract = CROP_PAPERS[0]
    core._state.upsert_paper(Paper(key="farmerCropYields2024", title=title, abstract=abstract))
    core.promote("farmerCropYields2024")
    assert not core.reader_model().learned
    assert [s for s, _ in prefilter(core, entries)] == before


@pytest.fixture(scope="module")
def generated_night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("night") / "cs.LG.xml"
    return path, write_listing(path, 1000)


def test_generated_night_of_1000(core: Triage, counting, generated_night: tuple[Path, dict[str, str]]) -> None:
    path, truth = generated_night
    critic = counting()
    report = run_digest(core, DigestOptions(feeds=[str(path)], top_n=20), critic=critic)
    assert report.listed == 1000 and report.candidates == 1000
    ranked = [truth[c.entry.arxiv_id] for c in report.top + report.rest]
    adapter_ranks = [i for i, k in enumerate(ranked) if k == ADAPTER]
    crop_ranks = [i for i, k in enumerate(ranked) if k == CROP]
    assert max(adapter_ranks) < min(crop_ranks)  # every adapter/LoRA paper above every crop-yield paper
    assert all(truth[c.entry.arxiv_id] == ADAPTER for c in report.top)
    assert critic.calls == 20
    assert len(core.papers(Status.QUEUED)) == 20
    text = report.path.read_text(encoding="utf-8")
    assert len(notes.parse(text).entries) == 20 and "and 950 more" in text


def test_budget_stops_the_critic_not_the_digest(core: Triage, counting) -> None:
    critic = counting(cost=0.01)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=5, max_cost_usd=0.025), critic=critic)
    assert report.exit_code == 0 and report.budget_reached
    assert critic.calls == 3 and report.cost_usd == pytest.approx(0.03)
    judged = [c for c in report.top if c.verdict]
    unjudged = [c for c in report.top if not c.verdict]
    assert len(judged) == 3 and len(unjudged) == 2
    assert all("budget of $0.025 reached" in c.not_judged for c in unjudged)
    text = report.path.read_text(encoding="utf-8")
    assert text.count("not judged (budget of $0.025 reached)") == 2
    assert len(notes.parse(text).entries) == 5
    # A bigger budget the next time judges the rest, and only the rest.
    critic = counting(cost=0.01)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=5, max_cost_usd=1.0), critic=critic)
    assert critic.calls == 2 and all(c.verdict for c in report.top)


def test_a_free_critic_is_not_stopped_by_a_zero_cap(core: Triage, counting) -> None:
    critic = counting(cost=0.0)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, max_cost_usd=0.0), critic=critic)
    assert critic.calls == 3 and not report.budget_reached and all(c.verdict for c in report.top)


def test_critic_failure_still_writes_the_digest(core: Triage, counting) -> None:
    critic = counting(fail=True)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=5), critic=critic)
    assert report.exit_code == 3 and report.path is not None and report.path.is_file()
    assert critic.calls == 3  # three failures in a row: the endpoint is taken as down
    assert all(c.not_judged for c in report.top)
    assert report.top[-1].not_judged == "critic unavailable"


def test_crash_mid_run_then_rerun_completes_without_duplicates(core: Triage, counting, monkeypatch) -> None:
    # The process dies after two of the four verdicts are saved (here: the third save raises).
    save = core._state.save_verdict
    saved = []

    def crashing_save(verdict) -> None:
        if len(saved) == 2:
            raise RuntimeError("injected crash in the middle of judging")
        saved.append(verdict.key)
        save(verdict)

    monkeypatch.setattr(core._state, "save_verdict", crashing_save)
    with pytest.raises(RuntimeError, match="injected crash"):
        run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=4), critic=counting())
    monkeypatch.setattr(core._state, "save_verdict", save)
    assert not (core.settings.digests_dir / "2026-03-03.md").exists()
    assert core.digest_runs()[0]["status"] == "failed"
    seen_after_crash = _seen_rows(core)
    assert len(seen_after_crash) == 6

    critic = counting()
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=4), critic=critic)
    assert report.exit_code == 0
    assert critic.calls == 2  # the two saved before the crash come from the verdict cache
    assert sorted(c.key for c in report.top if c.cached) == sorted(saved)
    assert _seen_rows(core) == seen_after_crash
    text = report.path.read_text(encoding="utf-8")
    keys = [e.key for e in notes.parse(text).entries]
    assert len(keys) == len(set(keys)) == 4
    queued = core.papers(Status.QUEUED)
    assert sorted(r.key for r in queued) == sorted(keys)
    assert [r["status"] for r in core.digest_runs()] == ["ok", "failed"]
    verdict_rows = core._state._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
    assert verdict_rows == 4


def test_one_paper_surprising_the_critic_does_not_sink_the_night(core: Triage, counting) -> None:
    critic = counting(crash_on=2)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=4), critic=critic)
    assert report.exit_code == 3 and report.path.is_file()
    assert [bool(c.verdict) for c in report.top].count(True) == 3
    assert "RuntimeError: injected crash" in next(c.not_judged for c in report.top if not c.verdict)


def test_dry_run_writes_nothing(core: Triage, counting) -> None:
    critic = counting()
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, dry_run=True), critic=critic)
    assert report.dry_run and report.path is None and critic.calls == 0
    assert report.candidates == 6 and all(c.not_judged == "dry run" for c in report.top)
    assert _seen_rows(core) == [] and core.papers() == [] and core.digest_runs() == []
    assert not core.settings.digests_dir.joinpath("2026-03-03.md").exists()


def test_json_summary_and_out_dir(core: Triage, counting, tmp_path: Path) -> None:
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2, out_dir=tmp_path / "out"), critic=counting())
    assert report.path == tmp_path / "out" / "2026-03-03.md"
    data = json.loads(json.dumps(report.to_dict()))
    assert data["night"] == "2026-03-03" and len(data["top"]) == 2 and data["exit_code"] == 0
    assert data["warnings"] == [f"{NIGHT1}: 1 entry without an arXiv id skipped (entry 6)"]
    assert {"key", "arxiv_id", "prefilter", "decision", "score", "cached"} <= set(data["top"][0])


def test_llm_critic_judges_the_top_and_stops_before_the_cap(openai_server) -> None:
    core = Triage(Settings.load(critic="llm"))
    try:
        report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, max_cost_usd=0.00001))
        # The LLM critic reserves its estimate first: the cap is never crossed, so nothing is sent.
        assert report.exit_code == 0 and report.budget_reached and openai_server.calls == 0
        assert report.critic.startswith("llm:") and not any(c.verdict for c in report.top)
        assert report.path.read_text(encoding="utf-8").count("not judged (budget of $1e-05 reached)") == 3

        report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, max_cost_usd=1.0))
        assert all(c.verdict and c.verdict.critic.startswith("llm:") for c in report.top)
        assert openai_server.calls >= 3 and 0 < report.cost_usd < 1.0
        calls = openai_server.calls
        again = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, max_cost_usd=1.0))
        assert openai_server.calls == calls and again.critic_calls == 0
    finally:
        core.close()


def test_empty_night_writes_no_file_and_sends_nothing(core: Triage, counting, tmp_path: Path) -> None:
    feed = tmp_path / "saturday.xml"
    feed.write_text('<feed xmlns="http://www.w3.org/2005/Atom"><id>http://rss.arxiv.org/atom/cs.LG</id>'
                    "<updated>2026-03-07T05:00:00+00:00</updated></feed>", encoding="utf-8")
    report = run_digest(core, DigestOptions(feeds=[str(feed)]), critic=counting())
    assert report.exit_code == 0 and report.path is None and report.candidates == 0
    assert not core.settings.digests_dir.joinpath("2026-03-07.md").exists()
    assert core.digest_runs()[0]["status"] == "ok"
    # A night whose papers were all seen before is empty too.
    run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=1), critic=counting())
    relisted = tmp_path / "relisted.xml"
    relisted.write_text(Path(NIGHT1).read_text(encoding="utf-8").replace("2026-03-03T05:00:12", "2026-03-05T05:00:12"),
                        encoding="utf-8")
    later = run_digest(core, DigestOptions(feeds=[str(relisted)], top_n=1), critic=counting())
    assert later.night == date(2026, 3, 5) and later.old == 6 and later.path is None


def test_the_best_ranked_are_judged_with_the_conclusion_from_their_pdf(counting, tmp_path: Path) -> None:
    """--pdf-top 2: the first paper's PDF comes from the loopback arXiv, the second's is missing (abstract only)."""
    from tests.servers.arxiv_replay import ArxivReplay, make_pdf
    from triage.config import ArxivSettings
    from triage.fetch import sha256_bytes

    with ArxivReplay() as arxiv:
        settings = Settings.load().model_copy(update={"arxiv": ArxivSettings(
            api_url=arxiv.api_url, pdf_url=arxiv.pdf_url, delay_s=0.0, max_retries=0)})
        core = Triage(settings)
        try:
            ranked = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, dry_run=True))
            first, second = ranked.top[0].entry, ranked.top[1].entry
            pdf = make_pdf(first.title, body=first.abstract)
            arxiv.serve_pdf(first.versioned_id, pdf)
            critic = counting()
            critic.inner = core.make_critic("offline")
            report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, pdf_top=2), critic=critic)
            assert report.exit_code == 0 and all(c.verdict for c in report.top)
            pdfs = [r.path for r in arxiv.requests if r.path.startswith("/pdf/")]
            assert pdfs == [f"/pdf/{first.versioned_id}", f"/pdf/{second.versioned_id}"]  # the third is never fetched
            # The first verdict is on the PDF (abstract and conclusion); the second on its abstract, with a warning.
            sections = pdf_sections(core, report.top[0])
            assert sections.conclusion == "Modules compose." and sections.abstract == first.abstract
            assert report.top[0].verdict.paper_hash == sha256_bytes(pdf) == sections.sha256
            assert report.top[1].verdict.paper_hash == abstract_sections(second).sha256
            missing = [w for w in report.warnings if "no PDF" in w]
            assert len(missing) == 1 and missing[0].startswith(f"@{report.top[1].key}: no PDF (") and "HTTP 404" in missing[0]

            # A rerun reads the PDF from the cache and calls no critic.
            again = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=3, pdf_top=2), critic=critic)
            assert again.critic_calls == 0 and [r.path for r in arxiv.requests if r.path.startswith("/pdf/")][2:] == [
                f"/pdf/{second.versioned_id}"]  # only the missing one is tried again
        finally:
            core.close()


def test_a_rerun_with_fewer_papers_listed_says_how_many_are_new_of_those_listed(core: Triage, counting,
                                                                                tmp_path: Path) -> None:
    first = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=2), critic=counting())
    assert first.listed == first.new == first.candidates
    # The same night again, from a feed that lists two of its papers: none of them is new.
    text = Path(NIGHT1).read_text(encoding="utf-8")
    head, *entries = text.split("<entry>")
    two = tmp_path / "two.atom.xml"
    two.write_text(head + "<entry>" + "<entry>".join(e.split("</entry>")[0] + "</entry>" for e in entries[:2])
                   + "\n</feed>\n", encoding="utf-8")
    again = run_digest(core, DigestOptions(feeds=[str(two)], top_n=2), critic=counting())
    assert (again.listed, again.new) == (2, 0) and again.candidates > again.listed
    assert again.to_dict()["new"] == 0
    assert f"{again.candidates} new papers ranked from {again.listed} listed" not in notes.parse(
        again.path.read_text(encoding="utf-8")).text


def test_a_run_killed_outright_is_marked_interrupted_by_the_next(core: Triage, counting) -> None:
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a process id that no longer runs, as a kill -9 leaves it
    killed = core.digest_run_start("2026-03-03", "night1", gone.pid)
    report = run_digest(core, DigestOptions(feeds=[NIGHT1], top_n=1), critic=counting())
    assert report.exit_code == 0
    runs = {r["id"]: r for r in core.digest_runs()}
    assert runs[killed]["status"] == "interrupted" and runs[killed]["finished_at"]
    assert [r["status"] for r in runs.values() if r["id"] != killed] == ["ok"]
