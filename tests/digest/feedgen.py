"""Generate a night of arXiv as a listing feed (Atom, the rss.arxiv.org format), for tests and the bench.

The night mixes three kinds of papers in a fixed, seeded order: a few on
adapters, LoRA and frozen backbones (what the default constitution's reader
wants), a few hundred on crop yields (what they do not), and the rest spread
over other machine-learning topics.  Titles and abstracts are assembled from
phrase lists, so every abstract is different but its topic is unambiguous.
"""

from __future__ import annotations

import random
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["generate_listing", "write_listing", "ADAPTER", "CROP", "OTHER"]

ADAPTER, CROP, OTHER = "adapter", "crop", "other"

_ADAPTER_METHODS = ["sparse adapters", "low-rank adaptation (LoRA)", "bottleneck adapter modules", "prefix tuning",
                    "prompt tuning", "a mixture of LoRA experts", "parallel adapters", "composable adapter modules"]
_ADAPTER_BACKBONES = ["a frozen pretrained language model", "a frozen vision transformer", "a frozen CLIP encoder",
                      "a frozen multimodal backbone", "frozen speech and text encoders"]
_ADAPTER_CLAIMS = [
    "Only {p}% of the parameters are trained and the backbone stays frozen.",
    "A learned routing function selects which modules to activate for each input.",
    "Modules trained on different tasks are aggregated by averaging their low-rank updates.",
    "It matches full fine-tuning within {d} points while training {k} times fewer parameters.",
    "A single linear projection maps the frozen image features into the language model's input space.",
]
_CROPS = ["maize", "wheat", "rice", "soybean", "sorghum", "barley", "cassava", "potato"]
_REGIONS = ["the US Corn Belt", "the Punjab", "the Sahel", "northern China", "the Pampas", "East Africa", "Ukraine"]
_CROP_DATA = ["satellite vegetation indices", "weather station records", "soil moisture sensors",
              "seasonal rainfall forecasts", "farm management surveys", "drone imagery"]
_CROP_MODELS = ["gradient-boosted trees", "a random forest", "a process-based crop model", "a linear mixed model"]
_OTHER_TOPICS = [
    ("graph neural networks for molecule property prediction", "message passing over atoms and bonds"),
    ("reinforcement learning for robot grasping", "a reward learned from human demonstrations"),
    ("differential privacy for tabular data release", "calibrated noise on marginal queries"),
    ("traffic forecasting on road networks", "spatio-temporal convolutions over sensor graphs"),
    ("medical image segmentation of tumours", "a U-Net trained on annotated MRI scans"),
    ("causal discovery from observational data", "conditional independence tests"),
    ("speech recognition for low-resource languages", "self-training on untranscribed audio"),
    ("anomaly detection in industrial sensors", "an autoencoder's reconstruction error"),
    ("recommender systems for online retail", "implicit feedback from clicks"),
    ("theory of stochastic gradient descent", "convergence bounds for non-convex losses"),
    ("weather nowcasting from radar", "optical-flow extrapolation of precipitation"),
    ("fairness auditing of credit scoring", "group-wise error rates"),
]
_FIRST = ["Ana", "Wei", "John", "Maria", "Tom", "Li", "Sara", "Ivan", "Aisha", "Kenji", "Lucas", "Nora"]
_LAST = ["Smith", "Zhang", "Garcia", "Olsen", "Kumar", "Müller", "Rossi", "Okafor", "Tanaka", "Silva", "Novak", "Haddad"]


def _authors(rng: random.Random) -> str:
    return ", ".join(f"{rng.choice(_FIRST)} {rng.choice(_LAST)}" for _ in range(rng.randint(1, 4)))


def _adapter(rng: random.Random) -> tuple[str, str]:
    method, backbone = rng.choice(_ADAPTER_METHODS), rng.choice(_ADAPTER_BACKBONES)
    title = f"{method[0].upper() + method[1:]} on {backbone.replace('a frozen', 'Frozen').replace('frozen', 'Frozen')}"
    claims = rng.sample(_ADAPTER_CLAIMS, 3)
    body = " ".join(c.format(p=rng.choice([0.1, 0.5, 1, 2]), d=rng.choice([0.3, 0.5, 1.2]), k=rng.choice([10, 40, 100]))
                    for c in claims)
    return title, f"We study parameter-efficient fine-tuning of {backbone} with {method}. {body}"


def _crop(rng: random.Random) -> tuple[str, str]:
    crop, region = rng.choice(_CROPS), rng.choice(_REGIONS)
    data, model = rng.sample(_CROP_DATA, 2), rng.choice(_CROP_MODELS)
    title = f"Predicting {crop} yields in {region} from {data[0]}"
    abstract = (f"We predict {crop} yields in {region} from {data[0]} and {data[1]} with {model}. "
                f"Harvest records from {rng.randint(3, 40)} seasons are used for validation. "
                f"The model explains {rng.randint(40, 85)}% of the variance in yield, and July rainfall is the most "
                f"important feature for the harvest.")
    return title, abstract


def _other(rng: random.Random) -> tuple[str, str]:
    topic, method = rng.choice(_OTHER_TOPICS)
    title = f"{topic[0].upper() + topic[1:]} with {method}"
    abstract = (f"We address {topic} using {method}. Experiments on {rng.randint(2, 9)} benchmarks show an "
                f"improvement of {rng.randint(1, 15)}% over strong baselines, and an ablation shows which "
                f"component matters most.")
    return title, abstract


def generate_listing(n: int = 1000, *, adapters: int = 25, crops: int = 300, seed: int = 7,
                     night: str = "2026-03-10", category: str = "cs.LG") -> tuple[str, dict[str, str]]:
    """An Atom listing of ``n`` entries and each entry's kind (``adapter``, ``crop``, ``other``) by arXiv id."""
    rng = random.Random(seed)
    kinds = [ADAPTER] * adapters + [CROP] * crops + [OTHER] * (n - adapters - crops)
    rng.shuffle(kinds)
    entries, truth = [], {}
    types = ["new"] * 6 + ["cross"] * 2 + ["replace", "replace-cross"]
    for i, kind in enumerate(kinds):
        arxiv_id = f"{night[2:4]}{night[5:7]}.{10000 + i:05d}"
        title, abstract = {ADAPTER: _adapter, CROP: _crop, OTHER: _other}[kind](rng)
        announce = rng.choice(types)
        version = 1 if announce in ("new", "cross") else rng.randint(2, 4)
        truth[arxiv_id] = kind
        entries.append(f"""  <entry>
    <id>oai:arXiv.org:{arxiv_id}v{version}</id>
    <title>{escape(title)}</title>
    <link href="https://arxiv.org/abs/{arxiv_id}" rel="alternate" type="text/html"/>
    <summary>arXiv:{arxiv_id}v{version} Announce Type: {announce}
Abstract: {escape(abstract)}</summary>
    <category term="{category}"/>
    <published>{night}T00:00:00-05:00</published>
    <arxiv:announce_type>{announce}</arxiv:announce_type>
    <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
    <dc:creator>{escape(_authors(rng))}</dc:creator>
  </entry>""")
    feed = f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns="http://www.w3.org/2005/Atom">
  <id>http://rss.arxiv.org/atom/{category}</id>
  <title>{category} updates on arXiv.org (generated)</title>
  <updated>{night}T05:00:00+00:00</updated>
{chr(10).join(entries)}
</feed>
"""
    return feed, truth


def write_listing(path: Path, n: int = 1000, **kwargs) -> dict[str, str]:
    """Write a generated listing to ``path``; returns each entry's kind by arXiv id."""
    feed, truth = generate_listing(n, **kwargs)
    path.write_text(feed, encoding="utf-8")
    return truth
