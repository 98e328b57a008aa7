"""The LLM critic's decision rules (issue 13 item 5), against the scripted server, and as pure logic."""

from __future__ import annotations

import json

import pytest

from tests.critic.conftest import make_paper
from tests.servers.openai_scripted import NOT_IN_PAPER
from triage.critic.constitution import parse_constitution
from triage.critic.decide import MIN_CONFIDENCE, aggregate, evidence_failure, rule
from triage.critic.llm import LLMCritic, read_trace
from triage.errors import EXIT_SERVICE, NotJudged
from triage.models import Decision, PrincipleScore, Quote, Verdict

OFF_TOPIC_ABSTRACT = (
    "We segment farmland parcels in Sentinel-2 satellite images with a U-Net trained on labelled tiles. "
    "Parcel boundaries are refined with a conditional random field over the predicted masks. "
    "On three regions the method reaches an intersection over union of 0.81 against 0.74 for the baseline."
)
OFF_TOPIC_CONCLUSION = (
    "Satellite parcel segmentation benefits from boundary refinement on top of a standard U-Net. "
    "Cloud cover remains the main source of error in winter images. "
    "Future work will add radar imagery from Sentinel-1 to see through clouds."
)


def off_topic(i: int = 0):
    return make_paper(i, abstract=OFF_TOPIC_ABSTRACT, conclusion=OFF_TOPIC_CONCLUSION)


def score(pid: str, value: float | None, *, weight: float = 1.0, against: bool = False, flagged: bool = False,
          verified: bool = True) -> PrincipleScore:
    quotes = [Quote(text="a quote from the paper itself", verified=verified)] if value is not None else []
    return PrincipleScore(id=pid, score=value, weight=weight, against=against, flagged=flagged, quotes=quotes)


CONSTITUTION = parse_constitution(
    "promote_at: 6.0\ndrop_below: 3.5\n\n## a (weight 3)\nA.\n\n## b (weight 3)\nB.\n\n## c (weight 2)\nC.\n\n"
    "## hype (weight 1, against)\nHype.\n"
)


# -- against the scripted server: an off-topic paper a permissive model answers badly -----------------


def test_nulls_on_most_principles_do_not_promote_an_off_topic_paper(critic, openai_server, constitution):
    """A model says null on five principles, 9 on one (with a real quote), 0 hype: the old mean said 9.2, read."""
    openai_server.default = "nulls"
    verdict = critic.judge(*off_topic(), constitution)

    assert verdict.decision is not Decision.READ
    evidence = next(p for p in verdict.principles if p.id == "evidence")
    assert evidence.score == 9 and not evidence.flagged
    # Nulls count as absence: the mean is over every principle in favour, not just the one the model scored.
    in_favour = sum(p.weight for p in constitution.principles if not p.against)
    assert verdict.score == pytest.approx(round((9 * evidence.weight + 10 * 1) / (in_favour + 1), 2))
    assert verdict.confidence < MIN_CONFIDENCE
    old_rule = (9 * evidence.weight + 10 * 1) / (evidence.weight + 1)  # nulls removed from the mean
    assert constitution.decide(old_rule) is Decision.READ


@pytest.fixture
def core(llm_settings, tmp_path):
    from triage.config import Settings
    from triage.service import Triage

    core = Triage(Settings(home=tmp_path / "home", critic="llm", llm=llm_settings))
    yield core
    core.close()


def test_one_imprecise_quote_per_principle_is_no_verdict_and_not_cached(core, openai_server):
    """Every quote shortened with '…' and a word changed: the evidence check fails everywhere, so no verdict."""
    paper, sections = off_topic()
    openai_server.default = "imprecise"
    with pytest.raises(NotJudged) as info:
        core.judge(paper, sections)
    assert info.value.exit_code == EXIT_SERVICE
    assert "@paper0 not judged: the evidence check failed for 6 of 6 scored principles" in str(info.value)
    assert core._state.latest_verdict("paper0") is None  # not cached
    # The next run asks again (nothing cached), and a good answer is a verdict.
    openai_server.default = "valid"
    verdict, cached = core.judge(paper, sections)
    assert not cached and verdict.principles


def test_one_bad_quote_costs_that_quote_not_the_principle(critic, openai_server, constitution):
    openai_server.default = "one_bad_quote"
    verdict = critic.judge(*make_paper(), constitution)
    for p in verdict.principles:
        assert not p.flagged, p.id
        assert [q.verified for q in p.quotes] == [True, False] and p.quotes[1].text == NOT_IN_PAPER
    # The principles count with their scores: the same verdict as without the bad quotes.
    openai_server.default = "valid"
    clean = critic.judge(*make_paper(1), constitution)
    assert verdict.score == clean.score and verdict.decision is clean.decision


def test_against_principles_alone_never_promote(llm_settings, openai_server, tmp_path):
    """A reader who weighs hype heavily: a paper that shows nothing in favour but no hype scores 7.5."""
    constitution = parse_constitution(
        "promote_at: 6.0\ndrop_below: 3.5\n\n## modularity (weight 1)\nModular deep learning.\n\n"
        "## hype (weight 3, against)\nUnsupported hype.\n"
    )
    openai_server.scores = {"modularity": 0, "hype": 0}
    openai_server.revise_change = False
    verdict = LLMCritic(llm_settings, sleep=lambda s: None).judge(*off_topic(), constitution)
    assert verdict.score == 7.5 and constitution.decide(verdict.score) is Decision.READ
    assert verdict.decision is Decision.SKIM
    assert any("against-principles cannot earn a promotion" in why for why in verdict.held_back)


def test_low_confidence_never_promotes(llm_settings, openai_server, constitution, tmp_path):
    """Three samples that disagree wildly: the median says read, the spread says nobody knows."""
    settings = llm_settings.model_copy(update={"samples": 3})
    critic = LLMCritic(settings, trace_dir=tmp_path, sleep=lambda s: None)
    openai_server.revise_change = False
    openai_server.push_for("Towers 0\n", "valid", "valid", "valid", "valid")
    ids = [p.id for p in constitution.principles if not p.against]
    spread = iter([{p: 10 for p in ids}, {p: 7 for p in ids}, {p: 0 for p in ids}])
    original = openai_server.answer

    def varying(stage, user, step="valid"):
        # The revision keeps the median draft it was shown.
        openai_server.scores = {**(next(spread) if stage == "judge" else {p: 7 for p in ids}), "hype": 0}
        return original(stage, user, step)

    openai_server.answer = varying  # type: ignore[method-assign]
    verdict = critic.judge(*make_paper(), constitution)
    assert len(openai_server.requests) == 4  # three judge samples, one revision
    revise = next(m["content"] for m in openai_server.requests[3]["messages"] if m["role"] == "user")
    draft = json.loads(revise.split("<draft_untrusted>")[1].split("</draft_untrusted>")[0])
    assert {p["id"]: p["score"] for p in draft["principles"]} == {**{i: 7 for i in ids}, "hype": 0}  # medians
    assert verdict.score >= constitution.promote_at
    assert verdict.confidence < MIN_CONFIDENCE and verdict.decision is Decision.SKIM
    assert any("confidence" in why for why in verdict.held_back)
    assert critic.prompt_version.endswith("+s3")  # another verdict than one sample's: another cache entry
    assert read_trace(next(tmp_path.glob("*.json")))["samples"] == 3


def test_the_answer_schema_asks_for_quotes_then_rationale_then_score_with_anchors(critic, openai_server, constitution):
    critic.judge(*make_paper(), constitution)
    request = openai_server.requests[0]
    system = request["messages"][0]["content"]
    for anchor in ("- 0:", "- 3:", "- 6:", "- 10:"):
        assert anchor in system
    assert system.index("quotes:") < system.index("rationale:") < system.index("score:")
    item = request["response_format"]["json_schema"]["schema"]["properties"]["principles"]["items"]
    assert list(item["properties"]) == ["id", "quotes", "rationale", "score"]


# -- the rules as pure logic ------------------------------------------------------------------------------


def test_rule_counts_absence_and_leaves_unshown_against_principles_out():
    scores = [score("a", 9, weight=3), score("b", None, weight=3), score("c", 6, weight=2, flagged=True),
              score("hype", None, weight=1, against=True)]
    ruling = rule(scores, CONSTITUTION)
    assert ruling.score == pytest.approx(round(27 / 8, 2))  # b and the flagged c count 0; hype is left out
    assert ruling.coverage == pytest.approx(round(3 / 9, 2))
    assert aggregate(scores, CONSTITUTION) == (ruling.score, ruling.decision, ruling.confidence)


def test_rule_holds_a_promotion_back_for_each_reason():
    full = [score("a", 8, weight=3), score("b", 7, weight=3), score("c", 7, weight=2),
            score("hype", 1, weight=1, against=True)]
    assert rule(full, CONSTITUTION).decision is Decision.READ
    capped = rule(full, CONSTITUTION, caps=["planted instruction"])
    assert capped.decision is Decision.SKIM and capped.held_back == ("planted instruction",)
    # A lenient reader (promote_at 4): two principles of three shown is not enough to promote.
    lenient = parse_constitution(CONSTITUTION.text.replace("promote_at: 6.0", "promote_at: 4.0").replace(
        "drop_below: 3.5", "drop_below: 2.0"))
    thin = [score("a", 10, weight=3), score("b", None, weight=3), score("c", None, weight=2),
            score("hype", 0, against=True)]
    thin_ruling = rule(thin, lenient)
    assert thin_ruling.score >= 4.0 and thin_ruling.decision is Decision.SKIM
    assert "shown with evidence" in thin_ruling.held_back[0]
    # A drop is never held back: absence is what makes an off-topic paper a drop.
    empty = [score("a", 0, weight=3), score("b", None, weight=3), score("c", None, weight=2)]
    assert rule(empty, CONSTITUTION).decision is Decision.DROP


def test_evidence_failure():
    assert evidence_failure([score("a", None), score("b", None)]) == "no principle was judged with a quote found in the paper"
    bad = [score("a", 8, flagged=True, verified=False), score("b", 7, flagged=True, verified=False),
           score("c", 7, flagged=True, verified=False), score("d", 6)]
    assert "failed for 3 of 4 scored principles (a, b, c)" in evidence_failure(bad)
    assert evidence_failure(bad[2:]) is None


def test_top_principles_rank_by_contribution_to_the_decision():
    principles = [score("a", 8, weight=1), score("b", 6, weight=3), score("c", 9, weight=2, flagged=True),
                  score("hype", 0, weight=2, against=True), score("d", None, weight=5)]
    read = Verdict(key="k", decision=Decision.READ, score=7, confidence=0.8, critic="x", principles=principles)
    # hype 0 is worth 10 x 2 to the reader; b 6 x 3; a 8 x 1; the flagged and the null ones never count.
    assert [p.id for p in read.top_principles(4)] == ["hype", "b", "a"]
    drop = read.model_copy(update={"decision": Decision.DROP})
    assert [p.id for p in drop.top_principles(2)] == ["b", "a"]  # what held it down most: (10 - 6) x 3, then 2 x 1
