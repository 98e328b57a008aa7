"""The quoted sentences carry the paper's claim: its contribution and measured result, not its motivation."""

from __future__ import annotations

from triage.claims import claim_sentence, has_measurement, is_limitation, split_sentences

ABSTRACT = (
    "Large language models are increasingly deployed in many settings. "
    "Fine-tuning them fully is expensive for most research groups. "
    "We propose RouteLoRA, a router that selects among low-rank adapters attached to a frozen backbone. "
    "On eight benchmarks RouteLoRA recovers 97.1% of full fine-tuning accuracy while training 0.8% of the parameters. "
    "Code is available online."
)
CONCLUSION = (
    "We showed that routing between adapters recovers nearly all of the quality of full fine-tuning at 2% of the cost. "
    "A limitation of our study is that we evaluate only English tasks, and we leave multilingual routing to future work."
)


def test_the_abstract_quote_is_the_measured_result_not_the_opening_motivation() -> None:
    assert claim_sentence(ABSTRACT).startswith("On eight benchmarks RouteLoRA recovers 97.1%")


def test_without_a_measurement_the_contribution_is_quoted() -> None:
    text = ABSTRACT.replace(" On eight benchmarks RouteLoRA recovers 97.1% of full fine-tuning accuracy while "
                            "training 0.8% of the parameters.", "")
    assert claim_sentence(text).startswith("We propose RouteLoRA")


def test_the_conclusion_quote_is_the_finding_not_the_limitation() -> None:
    assert claim_sentence(CONCLUSION, conclusion=True).startswith("We showed that routing")
    assert is_limitation(split_sentences(CONCLUSION)[1]) and not is_limitation(split_sentences(CONCLUSION)[0])


def test_sentences_are_not_cut_at_abbreviations() -> None:
    text = "Adapters (e.g. LoRA and prefix tuning) are cheap to train on one GPU. Smith et al. showed this before us."
    assert split_sentences(text) == ["Adapters (e.g. LoRA and prefix tuning) are cheap to train on one GPU.",
                                     "Smith et al. showed this before us."]


def test_measurements_are_quantities_not_citations() -> None:
    assert has_measurement("It is 3.2x faster than full fine-tuning.")
    assert has_measurement("Accuracy improves by 4 points over the baseline.")
    assert not has_measurement("Adapters were introduced by Houlsby et al. [12] for transfer learning.")


def test_the_verdict_breaks_ties_towards_what_it_rests_on() -> None:
    text = ("We introduce a router for adapter modules on frozen models. "
            "We present a federated protocol that merges client adapters on a server.")
    assert claim_sentence(text).startswith("We introduce")
    leaned = ["We present a federated protocol that merges client adapters on a server."]
    assert claim_sentence(text, leaned_on=leaned).startswith("We present a federated")
