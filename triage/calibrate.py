"""Fit the constitution's thresholds to the reader's own past decisions.

Ground truth is what the reader decided, never what the critic did:

* the reader's status changes in the state (``State.overrides()``: promote →
  ``read``, drop → ``drop``, back to skim → ``skim``; ``done`` counts as read),
  the latest one per paper, undone ones excluded;
* optionally reading notes: a ``[read(@key)]`` entry the reader wrote (not one
  triage wrote "promoted by the critic") → ``read``; a ``[skim(@key)]`` entry
  without triage's verdict line and no read entry → ``skim``.  The state wins
  when both speak about a paper.

Each labelled paper's score is its newest verdict's principle scores
re-aggregated under the *current* constitution's weights, so verdicts made
before the reader re-weighted a principle still count.  The fit is a grid
search over ``drop_below <= promote_at`` (steps of 0.25) for the best balanced
accuracy over the classes present (mean per-class recall, so a reader who
promotes one paper in ten is not fitted by "never promote"), ties broken by
Cohen's kappa and then by the smallest move from the current thresholds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from triage.atomic import write_atomic
from triage.critic.base import aggregate
from triage.critic.constitution import Constitution, parse_constitution
from triage.errors import ConfigError
from triage.models import Decision, Status

__all__ = ["Sample", "Agreement", "Calibration", "labels_from_state", "labels_from_notes", "fit", "calibrate",
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
    source: str  # "state" or "note"


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

    def to_dict(self) -> dict:
        """JSON-ready (``triage calibrate --json``)."""
        return {
            "papers": len(self.samples),
            "labels": self.counts,
            "current": self.current.to_dict(),
            "calibrated": self.calibrated.to_dict(),
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


def labels_from_state(state) -> dict[str, Decision]:
    """The reader's latest decision per paper, from the state's history."""
    labels: dict[str, Decision] = {}
    for t in state.overrides():
        if t.reason.startswith("undo"):
            # The undone decision is already excluded; what the undo restored was not decided anew.
            continue
        if t.new in _STATUS_LABEL:
            labels[t.key] = _STATUS_LABEL[t.new]
    return labels


def labels_from_notes(paths: list[Path]) -> dict[str, Decision]:
    """Decisions the reader wrote into reading notes (entries triage wrote are not the reader's)."""
    from triage.entries import is_critic_entry
    from triage.notes import read_notes

    labels: dict[str, Decision] = {}
    for path in paths:
        found, _problems = read_notes(path)
        for note in found:
            for entry in note.entries:
                if is_critic_entry(entry.children):
                    continue
                if entry.status == "read":
                    labels[entry.key] = Decision.READ
                elif entry.status in ("drop", "dropped"):
                    labels.setdefault(entry.key, Decision.DROP)
                elif entry.status == "skim":
                    labels.setdefault(entry.key, Decision.SKIM)
    return labels


def _score(verdict, constitution: Constitution) -> float:
    ids = {p.id for p in constitution.principles}
    if any(p.id in ids for p in verdict.principles):
        return aggregate(verdict.principles, constitution)[0]
    return verdict.score


def calibrate(state, constitution: Constitution, notes: list[Path] | None = None) -> Calibration:
    """Fit thresholds to the reader's decisions; ConfigError when there are too few to fit."""
    labels = labels_from_notes(notes) if notes else {}
    sources = dict.fromkeys(labels, "note")
    for key, label in labels_from_state(state).items():
        labels[key], sources[key] = label, "state"
    samples = []
    for key, label in sorted(labels.items()):
        verdict = state.latest_verdict(key)
        if verdict is not None:
            samples.append(Sample(key=key, score=round(_score(verdict, constitution), 2), label=label, source=sources[key]))
    counts = {c.value: sum(s.label == c for s in samples) for c in _CLASSES}
    if len(samples) < MIN_SAMPLES or sum(1 for n in counts.values() if n) < 2:
        raise ConfigError(
            f"not enough reader decisions to calibrate: {len(samples)} judged paper(s) with a decision "
            f"({', '.join(f'{k} {v}' for k, v in counts.items())}); need {MIN_SAMPLES} in at least two classes",
            hint="promote, keep or drop a few more papers ('triage promote KEY', 'triage drop KEY'), or pass --note",
        )
    return Calibration(
        samples=samples,
        current=_agreement(samples, constitution.promote_at, constitution.drop_below),
        calibrated=fit(samples, constitution),
        counts=counts,
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
