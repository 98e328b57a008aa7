"""The one door: what ``Triage.paper`` shows, and the batch path's hook the digest stops a failing critic with."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.config import FetchSettings, Settings
from triage.critic.constitution import Constitution
from triage.errors import CriticError
from triage.models import Chunk, Paper, Sections, SectionsSummary, Status, Verdict
from triage.service import Triage

KEY = "okaforRoutingAdaptersFrozen2024"


@pytest.fixture
def core(triage_home: Path) -> Triage:
    core = Triage(Settings(home=triage_home, critic="offline", fetch=FetchSettings(offline=True)))
    yield core
    core.close()


def test_a_summary_kept_before_issue_16_is_read_with_its_counts(core: Triage) -> None:
    # Summaries used to be whole Sections with the lists emptied; a summary now counts chunks and figures.
    old = Sections(title="Routing Adapters", abstract="We route adapters.", conclusion="It works.", pages=9,
                   chunks=[Chunk(text="a"), Chunk(text="b")], sha256="abc")
    path = core.settings.cache_dir / "sections" / "abc.json"
    path.parent.mkdir(parents=True)
    path.write_text(old.model_dump_json(), encoding="utf-8")
    core._state.upsert_paper(Paper(key=KEY, title="Routing Adapters"), pdf_sha="abc")

    view = core.paper(KEY)
    assert view is not None and view.sections == SectionsSummary(
        title="Routing Adapters", abstract="We route adapters.", conclusion="It works.", pages=9, chunks=2)
    assert view.problem == "" and view.pdf_to_extract is None


def test_a_paper_is_none_when_the_state_has_none_and_its_pdf_gone_is_said(core: Triage, tmp_path: Path) -> None:
    assert core.paper("doeUnknownPaper2021") is None
    assert core.paper("../../etc/passwd") is None  # cannot be a citekey: no paper, not an error
    gone = tmp_path / "moved.pdf"
    core._state.upsert_paper(Paper(key=KEY, title="Routing Adapters", pdf_path=gone))
    core.promote(KEY, reason="worth it")

    view = core.paper(KEY)
    assert view is not None and view.status is Status.READ and [t.reason for t in view.history] == ["worth it"]
    assert view.problem == f"the PDF is gone: {gone}" and view.pdf_to_extract is None and view.sections is None
    brief = core.paper(KEY, brief=True)
    assert brief is not None and brief.title == "Routing Adapters" and brief.history == [] and brief.paper is None
    assert [v.key for v in core.papers()] == [KEY] and core.papers()[0] == brief


class _Down:
    """A critic whose endpoint is down: every paper fails."""

    name = "llm:down"
    prompt_version = "t1"

    def __init__(self) -> None:
        self.calls = 0

    def judge(self, paper: Paper, sections: Sections, constitution: Constitution) -> Verdict:
        self.calls += 1
        raise CriticError(f"@{paper.key}: the endpoint is down")


def test_judge_many_starts_no_paper_after_the_hook_says_stop(core: Triage) -> None:
    core.settings.llm.concurrency = 1  # one paper at a time, so "after" is exact
    critic = _Down()
    items = [(Paper(key=f"paper{i}"), Sections.from_metadata(f"Paper {i}", "An abstract.", f"paper{i}"))
             for i in range(5)]
    seen = []

    def give_up_after_two(result) -> bool:
        seen.append(result.status)
        return len(seen) == 2

    results = core.judge_many(items, critic=critic, on_result=give_up_after_two)
    assert critic.calls == 2
    assert [r.status for r in results] == ["error", "error", "budget", "budget", "budget"]
