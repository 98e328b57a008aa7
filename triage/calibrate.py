"""Fit the constitution's thresholds to the reader's own past decisions.

Ground truth is what the reader decided, never what the critic did: each
paper's standing reader decision in the state (``State.reader_decisions()``:
promote → ``read``, keep → ``skim``, drop → ``drop``, ``done`` counts as read;
undone ones excluded), wherever it was made — the CLI, the TUI, the API, or an
entry the reader wrote in a note (the service syncs notes into the state
first).

Each labelled paper's score is its newest verdict's; an LLM verdict's
principle scores are re-aggregated under the *current* constitution's weights,
so verdicts made before the reader re-weighted a principle still count.  A
paper the reader decided on but no critic judged (one they logged by hand) is
scored by ``score_of`` when given (the service passes the constitution-only
reader model, which needs only its abstract).  The fit is a grid
search over ``drop_below <= promote_at`` (steps of 0.25) for the best balanced
accuracy over the classes present (mean per-class recall, so a reader who
promotes one paper in ten is not fitted by "never promote"), ties broken by
Cohen's kappa and then by the smallest move from the current thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from triage.atomic import write_atomic
from triage.critic.base import aggregate
from triage.critic.constitution import Constitution, parse_constitution
from triage.errors import ConfigError
from triage.models import Decision, Paper, Status

__all__ = ["Sample", "Agreement", "Calibration", "labels_from_state", "fit", "calibrate",
           "balanced_accuracy", "cohen_kappa", "write_thresholds"]

_CLASSES = (Decision.READ, Decision.SKIM, Decision.DROP)
_STATUS_LABEL = {Status.READ: Decision.READ, Status.DONE: Decision.READ, Status.SKIM: Decision.SKIM,
                 Status.DROPPED: Decision.DROP}
MIN_SAMPLES = 4


@dataclass(frozen=True)
class Sample:
    """One paper: the critic's score and what the reader decided."""

    key: str
    score: float
    label: Decision
    source: str  # where the reader decided: "note", "cli", "tui", "api"


@dataclass(frozen=True)
class Agreement:
    """How well thresholds reproduce the reader's decisions."""

    promote_at: float
    drop_below: float
    balanced_accuracy: float
    kappa: float
    accuracy: float

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {k: round(v, 3) for k, v in self.__dict__.items()}


@dataclass
class Calibration:
    """Current and calibrated thresholds with their agreement on the same papers."""

    samples: list[Sample]
    current: Agreement
    calibrated: Agreement
    counts: dict[str, int] = field(default_factory=dict)
    unscored: list[str] = field(default_factory=list)  # decided by the reader, but nothing to score them on

    def to_dict(self) -> dict:
        """JSON-ready (``triage calibrate --json``)."""
        return {
            "papers": len(self.samples),
            "labels": self.counts,
            "current": self.current.to_dict(),
            "calibrated": self.calibrated.to_dict(),
            "unscored": self.unscored,
            "samples": [{"key": s.key, "score": s.score, "reader": s.label.value, "from": s.source} for s in self.samples],
        }


# -- agreement measures ---------------------------------------------------------------


def _decide(score: float, promote_at: float, drop_below: float) -> Decision:
    if score >= promote_at:
        return Decision.READ
    if score < drop_below:
        return Decision.DROP
    return Decision.SKIM


def balanced_accuracy(truth: list[Decision], predicted: list[Decision]) -> float:
    """Mean recall over the classes present in ``truth``."""
    recalls = []
    for c in _CLASSES:
        idx = [i for i, t in enumerate(truth) if t == c]
        if idx:
            recalls.append(sum(predicted[i] == c for i in idx) / len(idx))
    return sum(recalls) / len(recalls) if recalls else 0.0


def cohen_kappa(truth: list[Decision], predicted: list[Decision]) -> float:
    """Agreement beyond chance: 1 perfect, 0 chance, negative worse than chance."""
    n = len(truth)
    if n == 0:
        return 0.0
    observed = sum(t == p for t, p in zip(truth, predicted)) / n
    expected = sum((truth.count(c) / n) * (predicted.count(c) / n) for c in _CLASSES)
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def _agreement(samples: list[Sample], promote_at: float, drop_below: float) -> Agreement:
    truth = [s.label for s in samples]
    predicted = [_decide(s.score, promote_at, drop_below) for s in samples]
    return Agreement(
        promote_at=promote_at,
        drop_below=drop_below,
        balanced_accuracy=balanced_accuracy(truth, predicted),
        kappa=cohen_kappa(truth, predicted),
        accuracy=sum(t == p for t, p in zip(truth, predicted)) / len(samples) if samples else 0.0,
    )


def fit(samples: list[Sample], constitution: Constitution, step: float = 0.25) -> Agreement:
    """The thresholds that agree best with the reader (see the module docstring)."""
    grid = [round(i * step, 4) for i in range(int(10 / step) + 1)]
    best: tuple[float, float, float] | None = None
    best_agreement: Agreement | None = None
    for promote_at in grid:
        for drop_below in grid:
            if drop_below > promote_at:
                break
            a = _agreement(samples, promote_at, drop_below)
            move = abs(promote_at - constitution.promote_at) + abs(drop_below - constitution.drop_below)
            rank = (round(a.balanced_accuracy, 9), round(a.kappa, 9), -move)
            if best is None or rank > best:
                best, best_agreement = rank, a
    assert best_agreement is not None
    return best_agreement


# -- labels -----------------------------------------------------------------------------


def labels_from_state(state) -> dict[str, tuple[Decision, str]]:
    """The reader's standing decision per paper, and where it was made (``note``, ``cli``…)."""
    return {paper.key: (_STATUS_LABEL[status], source or "state")
            for paper, status, source in state.reader_decisions() if status in _STATUS_LABEL}


def _score(verdict, constitution: Constitution) -> float:
    ids = {p.id for p in constitution.principles}
    if verdict.critic.startswith("llm:") and any(p.id in ids for p in verdict.principles):
        return aggregate(verdict.principles, constitution)[0]
    return verdict.score  # the offline critic's score is the reader model's, not a mean of its principles


def calibrate(state, constitution: Constitution, score_of: Callable[[Paper], float | None] | None = None) -> Calibration:
    """Fit thresholds to the reader's decisions; ConfigError when there are too few to fit."""
    labels = labels_from_state(state)
    samples, unscored = [], []
    for paper, _status, _source in state.reader_decisions():
        if paper.key not in labels:
            continue
        label, source = labels[paper.key]
        verdict = state.latest_verdict(paper.key)
        score = _score(verdict, constitution) if verdict is not None else (score_of(paper) if score_of else None)
        if score is None:
            unscored.append(paper.key)
            continue
        samples.append(Sample(key=paper.key, score=round(score, 2), label=label, source=source))
    samples.sort(key=lambda s: s.key)
    counts = {c.value: sum(s.label == c for s in samples) for c in _CLASSES}
    if len(samples) < MIN_SAMPLES or sum(1 for n in counts.values() if n) < 2:
        decided = {c.value: sum(lab == c for lab, _ in labels.values()) for c in _CLASSES}
        raise ConfigError(
            f"not enough reader decisions to calibrate: you decided {len(labels)} paper(s) "
            f"({', '.join(f'{k} {v}' for k, v in decided.items())}), {len(samples)} with a verdict or an abstract "
            f"to score ({', '.join(f'{k} {v}' for k, v in counts.items())}); need {MIN_SAMPLES} in at least two classes",
            hint=("judge the papers you decided by hand with 'triage run NOTE', or add your library so their "
                  "abstracts are known" if unscored else
                  "promote, keep or drop a few more papers ('triage promote KEY', 'triage drop KEY'), or pass --note"),
        )
    return Calibration(
        samples=samples,
        current=_agreement(samples, constitution.promote_at, constitution.drop_below),
        calibrated=fit(samples, constitution),
        counts=counts,
        unscored=unscored,
    )


# -- writing the thresholds back ------------------------------------------------------------

_LINE = re.compile(r"^(?P<name>promote_at|drop_below)\s*:\s*\S+(?P<rest>[ \t]*(?:#.*)?)$", re.MULTILINE)


def write_thresholds(path: Path, promote_at: float, drop_below: float) -> None:
    """Rewrite only the two threshold lines of a constitution file, atomically; every other byte stays."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read constitution {path}: {exc.strerror}") from exc
    values = {"promote_at": promote_at, "drop_below": drop_below}
    seen: set[str] = set()

    def repl(m: re.Match[str]) -> str:
        seen.add(m.group("name"))
        return f"{m.group('name')}: {values[m.group('name')]:g}{m.group('rest')}"

    new = _LINE.sub(repl, text)
    missing = [n for n in values if n not in seen]
    if missing:
        nl = "\r\n" if "\r\n" in text else "\n"
        block = "".join(f"{n}: {values[n]:g}{nl}" for n in missing) + nl
        m = re.search(r"^## ", new, re.MULTILINE)
        new = new[: m.start()] + block + new[m.start():] if m else new + nl + block
    parse_constitution(new, source=str(path))  # never write a file that would not load
    write_atomic(path, new)
