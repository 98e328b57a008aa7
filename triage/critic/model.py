"""The reader model: the constitution as a prior, the reader's own decisions as evidence.

One model ranks and decides for the offline critic and for the digest's
prefilter, so the two never disagree.

**Features.**  A paper's text (title and abstract; the conclusion counts a
third when there is one) is compared with each principle two ways: the cosine
between its embedding and the principle's statement (dense), and BM25 with the
statement as the query (plain terms, ``lexical``).  Each is turned into a
z-score against a *background* of ordinary arXiv papers (``background``), so
"close to modularity" means closer than ordinary papers are, not a raw cosine
that every ML abstract reaches.  A principle is a reason for a verdict only
when the paper is unusually close to it: its score is 0 below the top 10% of
ordinary papers, then ``2.5·z`` (about 3 at that line, 8 for the top 0.1%).

**Prior** (``Prior``).  ``prior = Σ weight·±max(z, 0) / Σ weight⁺``
(``against`` principles subtract).  Its thresholds come from the background
too: a paper is kept at skim when it stands out from ordinary papers as the
top 10% of them do (mean + 1.28 sd of their priors) and promoted as the top 2%
do (mean + 2.05 sd).  Moments rather than empirical percentiles: with a few
hundred papers a 98th percentile rests on a handful of them.

**Learning** (``ReaderModel``).  From the reader's decisions, a
proportional-odds model ``η = α·prior + w·x`` with two cut points (drop | skim
| read), pulled towards the prior (``α`` towards 1, the cut points towards the
prior's, ``w`` towards 0).  Three candidates of growing reach are fitted:
recalibrating the prior's scale and cut points only; adding the per-principle
z-scores and how like the paper is to what the reader promoted, kept and
dropped (mean cosine to the three nearest of each); adding the paper's
embedding itself, the per-user linear model of arxiv-sanity.  Each is scored by
cross-validation on the reader's own decisions, and the prior keeps the
decision unless a candidate predicts the held-out decisions better: a handful
of decisions cannot make the critic worse than the constitution alone.
Background papers join the fit as weak drops, because readers seldom write
their drops down and a model of promotions alone has nothing to contrast.

**Scores.**  ``score = 3.5 + 2.5·(η − cut_skim)/(cut_read − cut_skim)``
between the cut points, bending smoothly towards 0 and 10 beyond them (never
clipped, so far-off papers keep their order): the model's cut points sit at the
default ``drop_below`` (3.5) and ``promote_at`` (6.0), so the constitution's
thresholds keep their meaning and ``triage calibrate`` can still move them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from triage.critic.constitution import Constitution
from triage.critic.lexical import Bm25
from triage.models import Decision

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Example", "Prior", "ReaderModel", "PaperScore", "paper_text", "examples_fingerprint", "MIN_EXAMPLES",
           "SKIM_Z", "READ_Z", "REASON_Z"]

#: The reader's decisions needed before learning is tried (below it, the constitution alone decides).
MIN_EXAMPLES = 8
#: Background standard deviations above the mean at which the prior keeps a paper at skim / promotes it.
SKIM_Z, READ_Z = 1.2816, 2.0537
#: A principle is named as a reason only when the paper is this unusual for it (top ~10% of ordinary papers).
REASON_Z = 1.2816
_TIE_BREAK = 1e-2
_DENSE_SHARE = 0.5  # dense and lexical closeness count equally: each carries signal the other misses
_CONCLUSION_SHARE = 1 / 3
_BACKGROUND_WEIGHT = 0.5  # all background papers together, as drops, against the reader's decisions together
_KNN = 3  # likeness to a class of decisions: mean cosine to its three nearest
_L2 = 3.0  # pull of the learned weights towards 0
_PULL = 3.0  # pull of the prior's scale towards 1 and of the cut points towards the prior's
_SHARPNESS_PULL = 1.0  # on the log of the sharpness, towards a gap of four logits
_FOLDS = 5
_BALANCED_CV = True
_LABEL = {Decision.DROP: 0, Decision.SKIM: 1, Decision.READ: 2}
_CANDIDATES = ("calibrated", "principles", "embedding")


@dataclass(frozen=True)
class Example:
    """A paper the reader decided on: its text and their decision."""

    key: str
    text: str
    label: Decision


@dataclass(frozen=True)
class PaperScore:
    """The model's judgement of one paper."""

    score: float  # 0-10; the model's cut points are at 3.5 and 6.0
    decision: Decision  # at the model's own cut points
    confidence: float
    principle_scores: tuple[float, ...]  # 0-10 per principle, in constitution order
    principle_z: tuple[float, ...]
    learned: bool


def paper_text(title: str, abstract: str) -> str:
    """The text a paper is known by to the model: its title, then its abstract."""
    title, abstract = " ".join(title.split()), " ".join(abstract.split())
    return f"{title}. {abstract}".strip(" .") if abstract else title


def examples_fingerprint(examples: Sequence[Example]) -> str:
    """Changes when any decision, or the text it was made on, changes."""
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: e.key):
        h.update(f"{e.key}\t{e.label.value}\t{hashlib.sha256(e.text.encode()).hexdigest()[:12]}\n".encode())
    return h.hexdigest()[:16]


class Prior:
    """The constitution measured against the background: z-scores, the prior and its cut points."""

    def __init__(
        self,
        constitution: Constitution,
        embed: Callable[[list[str]], np.ndarray],
        background: Sequence[str],
        background_vectors: np.ndarray,
    ) -> None:
        """``embed`` gives unit vectors (rows); ``background_vectors`` are those of ``background``."""
        import numpy as np

        self.constitution = constitution
        self.embed = embed
        principles = constitution.principles
        self._statements = [p.statement for p in principles]
        self._weights = np.array([p.weight for p in principles], dtype=np.float64)
        self._signs = np.array([-1.0 if p.against else 1.0 for p in principles])
        self._norm = float(self._weights[self._signs > 0].sum()) or 1.0
        self._principle_vecs = np.asarray(embed(self._statements), dtype=np.float64)
        self._bm25 = Bm25(background)
        self.background_vectors = np.asarray(background_vectors, dtype=np.float64)
        dense, lexical = self._raw(list(background), self.background_vectors)
        self._dense_mu, self._dense_sd = dense.mean(0), dense.std(0) + 1e-9
        self._lex_mu, self._lex_sd = lexical.mean(0), lexical.std(0) + 1e-9
        self.background_z = self._combine(dense, lexical)
        self.background_prior = self.prior(self.background_z)
        mean, sd = float(self.background_prior.mean()), float(self.background_prior.std()) or 1.0
        self.cuts = (mean + SKIM_Z * sd, mean + READ_Z * sd)
        self.fingerprint = hashlib.sha256(
            f"{constitution.hash}\n{len(background)}\n{self.cuts[0]:.9f}\n{self.cuts[1]:.9f}".encode()).hexdigest()[:16]

    def _raw(self, texts: list[str], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        dense = vectors @ self._principle_vecs.T
        lexical = np.array([self._bm25.scores(self._statements, t) for t in texts], dtype=np.float64)
        return dense, lexical.reshape(len(texts), len(self._statements))

    def _combine(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        return (_DENSE_SHARE * (dense - self._dense_mu) / self._dense_sd
                + (1 - _DENSE_SHARE) * (lexical - self._lex_mu) / self._lex_sd)

    def z(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Per text and principle: how much closer than an ordinary paper, in background standard deviations."""
        return self._combine(*self._raw(texts, vectors))

    def prior(self, z: np.ndarray) -> np.ndarray:
        """The constitution's weighted, signed sum of how unusually close each paper is to each principle."""
        import numpy as np

        signed = self._weights * self._signs
        # The second term only orders papers that are close to no principle at all (a prior of 0 for each).
        return ((np.maximum(z, 0.0) * signed).sum(axis=1) + _TIE_BREAK * (z * signed).sum(axis=1)) / self._norm


@dataclass
class _Fit:
    """A fitted ordinal model over the reader's examples: what the learned ``η`` needs."""

    kind: str
    sharpness: float  # how sharply the reader's decisions follow the scale (probabilities only)
    w: np.ndarray
    cuts: tuple[float, float]
    train: np.ndarray  # example vectors it compares new papers with (likeness features)
    train_labels: tuple[Decision, ...]
    likeness_base: dict[Decision, float]


class ReaderModel:
    """Scores papers for one reader: their constitution (the prior) and their decisions."""

    def __init__(self, prior: Prior, examples: Sequence[Example] = (), example_vectors: np.ndarray | None = None) -> None:
        """``example_vectors`` are the unit vectors of the examples' texts, in order."""
        import numpy as np

        self.prior = prior
        self.constitution = prior.constitution
        self.examples = tuple(examples)
        self._vectors = np.zeros((0, prior.background_vectors.shape[1])) if example_vectors is None else \
            np.asarray(example_vectors, dtype=np.float64)
        self._fit: _Fit | None = None
        self.validation: dict[str, float] = {}
        if len(self.examples) >= MIN_EXAMPLES and len({e.label for e in self.examples}) >= 2:
            self._fit = self._choose()

    @property
    def learned(self) -> bool:
        """True when the reader's decisions, not the constitution alone, make the decisions."""
        return self._fit is not None

    @property
    def fingerprint(self) -> str:
        """Changes whenever a verdict could: the constitution, the background and the decisions."""
        return hashlib.sha256(f"{self.prior.fingerprint}\n{examples_fingerprint(self.examples)}".encode()).hexdigest()[:16]

    def describe(self) -> str:
        """One line saying what the model rests on (the digest's context section prints it)."""
        principles = self.constitution.principles
        against = sum(1 for p in principles if p.against)
        head = f"the reader model: {len(principles)} principles ({against} against)"
        if not self.examples:
            return head + ", the constitution alone (it learns from your decisions)"
        counts = ", ".join(f"{label.value} {sum(e.label is label for e in self.examples)}" for label in _LABEL)
        if self._fit is not None:
            return head + f", learned from {len(self.examples)} of your decisions ({counts}; {self._fit.kind})"
        why = f"it learns from {MIN_EXAMPLES}" if len(self.examples) < MIN_EXAMPLES else \
            "they do not yet predict your choices better than the constitution"
        return head + f", the constitution alone: {len(self.examples)} of your decisions ({counts}); {why}"

    # -- learning ----------------------------------------------------------------

    def _choose(self) -> _Fit | None:
        """The candidate that predicts held-out decisions best, or None when none beats the prior."""
        import numpy as np

        labels = [e.label for e in self.examples]
        z = self.prior.z([e.text for e in self.examples], self._vectors)
        folds = _stratified_folds(labels, min(_FOLDS, len(labels)))
        # Each class counts as much as the others: a reader who drops nine papers in ten is not best predicted by
        # a model that drops everything.
        present = {label: labels.count(label) for label in set(labels)}
        # The prior, judged as a probability model, gets its sharpness from the reader too (nothing else moves).
        prior_sharpness = self._fit_on("fixed", np.arange(len(labels)), z).sharpness
        class_weight = {label: len(labels) / (len(present) * n) if _BALANCED_CV else 1.0 for label, n in present.items()}
        scores = {"prior": 0.0, **{kind: 0.0 for kind in _CANDIDATES}}
        for held in folds:
            held_set = set(held)
            train = np.array([i for i in range(len(labels)) if i not in held_set])
            test = np.array(held)
            if len({labels[i] for i in train}) < 2:
                continue
            y = np.array([_LABEL[labels[i]] for i in test])
            weight = np.array([class_weight[labels[i]] for i in test])
            scores["prior"] += _log_likelihood(self.prior.prior(z[test]), self.prior.cuts, prior_sharpness, y, weight)
            for kind in _CANDIDATES:
                fit = self._fit_on(kind, train, z)
                scores[kind] += _log_likelihood(self._eta(fit, z[test], self._vectors[test]), fit.cuts, fit.sharpness,
                                                y, weight)
        self.validation = {k: round(v / len(labels), 4) for k, v in scores.items()}
        best = max(_CANDIDATES, key=lambda k: scores[k])
        if scores[best] <= scores["prior"]:
            return None
        return self._fit_on(best, np.arange(len(labels)), z)

    def _fit_on(self, kind: str, train: np.ndarray, z: np.ndarray) -> _Fit:
        import numpy as np

        vectors = self._vectors[train]
        labels = tuple(self.examples[i].label for i in train)
        base = _likeness_base(self.prior.background_vectors, vectors, labels)
        fit = _Fit(kind, 1.0, np.zeros(0), self.prior.cuts, vectors, labels, base)
        if kind == "fixed":
            fit.sharpness = _fit_sharpness(self.prior.prior(z[train]), np.array([_LABEL[lab] for lab in labels]),
                                           self.prior.cuts)
            return fit
        own = np.arange(len(train))
        x = self._x(fit, z[train], vectors, own)
        bg_x = self._x(fit, self.prior.background_z, self.prior.background_vectors, None)
        features = np.vstack([x, bg_x])
        offset = np.concatenate([self.prior.prior(z[train]), self.prior.background_prior])
        y = np.array([_LABEL[label] for label in labels] + [0] * len(bg_x))
        bg_weight = _BACKGROUND_WEIGHT * len(train) / max(1, len(bg_x))
        weights = np.concatenate([np.ones(len(train)), np.full(len(bg_x), bg_weight)])
        fit.sharpness, fit.w, fit.cuts = _fit_ordinal(features, y, offset, weights, self.prior.cuts)
        return fit

    def _x(self, fit: _Fit, z: np.ndarray, vectors: np.ndarray, own: np.ndarray | None) -> np.ndarray:
        """The learned part's inputs for a candidate; ``own[i]`` is row i's index among the fit's examples."""
        import numpy as np

        if fit.kind == "calibrated":
            return np.zeros((len(z), 0))
        sims = np.asarray(vectors, dtype=np.float64) @ fit.train.T
        if own is not None:
            sims[np.arange(len(own)), own] = -np.inf  # a paper is not evidence for itself
        parts = [z / 3.0]
        for label in _LABEL:
            cols = [j for j, lab in enumerate(fit.train_labels) if lab is label]
            if not cols:
                parts.append(np.zeros((len(z), 1)))
                continue
            base = fit.likeness_base.get(label, 0.0)
            top = np.sort(sims[:, cols], axis=1)[:, -min(_KNN, len(cols)):]
            finite = np.isfinite(top)
            count = finite.sum(axis=1)
            total = np.where(finite, top, 0.0).sum(axis=1)
            likeness = np.where(count > 0, total / np.maximum(count, 1), base)
            parts.append(((likeness - base) * 5.0)[:, None])
        if fit.kind == "embedding":
            parts.append(vectors)
        return np.hstack(parts)

    def _eta(self, fit: _Fit, z: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """The learned scale, in the prior's units: the prior plus what the reader's decisions add."""
        eta = self.prior.prior(z)
        x = self._x(fit, z, vectors, None)
        return eta + x @ fit.w if x.shape[1] else eta

    # -- scoring -------------------------------------------------------------------

    def score(self, texts: list[str], vectors: np.ndarray | None = None,
              conclusions: list[str] | None = None) -> list[PaperScore]:
        """A ``PaperScore`` per text (``paper_text``), optionally with each paper's conclusion ('' for none)."""
        import numpy as np

        if not texts:
            return []
        vectors = np.asarray(vectors if vectors is not None else self.prior.embed(texts), dtype=np.float64)
        z = self.prior.z(texts, vectors)
        if conclusions and any(c.strip() for c in conclusions):
            rows = [i for i, c in enumerate(conclusions) if c.strip()]
            c_texts = [conclusions[i] for i in rows]
            c_z = self.prior.z(c_texts, np.asarray(self.prior.embed(c_texts), dtype=np.float64))
            z[rows] = (1 - _CONCLUSION_SHARE) * z[rows] + _CONCLUSION_SHARE * c_z
        if self._fit is None:
            eta, cuts = self.prior.prior(z), self.prior.cuts
        else:
            eta, cuts = self._eta(self._fit, z, vectors), self._fit.cuts
        skim_cut, read_cut = cuts
        out = []
        for i, value in enumerate(eta):
            decision = Decision.READ if value >= read_cut else Decision.SKIM if value >= skim_cut else Decision.DROP
            out.append(PaperScore(
                score=_to_ten(float(value), cuts),
                decision=decision,
                confidence=_confidence(float(value), cuts, learned=self._fit is not None),
                principle_scores=tuple(_principle_score(float(v)) for v in z[i]),
                principle_z=tuple(round(float(v), 3) for v in z[i]),
                learned=self._fit is not None,
            ))
        return out

    def like_promoted(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """For each row of ``vectors``, the paper the reader promoted that it is most like, and the cosine."""
        import numpy as np

        promoted = [i for i, e in enumerate(self.examples) if e.label is Decision.READ]
        if not promoted:
            return [("", 0.0)] * len(vectors)
        sims = np.asarray(vectors, dtype=np.float64) @ self._vectors[promoted].T
        best = sims.argmax(axis=1)
        return [(self.examples[promoted[j]].key, float(sims[i, j])) for i, j in enumerate(best)]


def _principle_score(z: float) -> float:
    """0 for a paper no more unusual for the principle than the top 10% of ordinary papers (not a reason), else
    2.5·z: about 3 at that line, 5 at two standard deviations, 10 at four."""
    return round(min(10.0, 2.5 * z), 1) if z >= REASON_Z else 0.0


def _to_ten(eta: float, cuts: tuple[float, float]) -> float:
    """The 0-10 score: linear from 3.5 at the skim cut to 6 at the read cut, and beyond them bending towards 0
    and 10 without reaching them, so two papers far from either cut still keep their order (no ties at a clip)."""
    skim_cut, read_cut = cuts
    gap = (read_cut - skim_cut) or 1.0
    slope = 2.5 / gap
    if eta < skim_cut:
        score = 3.5 * math.exp(slope / 3.5 * (eta - skim_cut))
    elif eta <= read_cut:
        score = 3.5 + slope * (eta - skim_cut)
    else:
        score = 10.0 - 4.0 * math.exp(-slope / 4.0 * (eta - read_cut))
    return round(score, 4)


def _confidence(eta: float, cuts: tuple[float, float], *, learned: bool) -> float:
    # Distance to the nearer cut point, in units of the gap between them, through a logistic: on a cut point it
    # is a coin flip.  The constitution alone is a weaker witness of the reader than their own decisions.
    gap = (cuts[1] - cuts[0]) or 1.0
    margin = min(abs(eta - cuts[0]), abs(eta - cuts[1])) / gap
    return round(min(0.9 if learned else 0.6, 1.0 / (1.0 + math.exp(-4.0 * margin))), 2)


def _likeness_base(background: np.ndarray, vectors: np.ndarray, labels: tuple[Decision, ...]) -> dict[Decision, float]:
    """How like each class of the reader's decisions an ordinary paper is: likeness is measured from there."""
    import numpy as np

    base = {}
    sims = background @ vectors.T
    for label in _LABEL:
        cols = [j for j, lab in enumerate(labels) if lab is label]
        if cols:
            base[label] = float(np.sort(sims[:, cols], axis=1)[:, -min(_KNN, len(cols)):].mean())
    return base


def _stratified_folds(labels: list[Decision], k: int) -> list[list[int]]:
    # Deterministic: the same decisions always give the same model (and the same cached verdicts).
    folds: list[list[int]] = [[] for _ in range(max(2, k))]
    n = 0
    for label in _LABEL:
        for i, lab in enumerate(labels):
            if lab is label:
                folds[n % len(folds)].append(i)
                n += 1
    return [f for f in folds if f]


def _fit_sharpness(eta: np.ndarray, y: np.ndarray, cuts: tuple[float, float]) -> float:
    """The sharpness that best fits decisions ``y`` to a fixed scale and cut points, pulled as ``_fit_ordinal``'s."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    weight = np.ones(len(y))
    sharp0 = math.log(4.0 / max(cuts[1] - cuts[0], 1e-3))
    result = minimize_scalar(lambda log_s: -_log_likelihood(eta, cuts, math.exp(log_s), y, weight)
                             + 0.5 * _SHARPNESS_PULL * (log_s - sharp0) ** 2,
                             bounds=(sharp0 - 8.0, sharp0 + 8.0), method="bounded")
    return math.exp(result.x)


def _log_likelihood(eta: np.ndarray, cuts: tuple[float, float], sharpness: float, y: np.ndarray,
                    weight: np.ndarray) -> float:
    """Weighted log-probability of the decisions ``y`` (0 drop, 1 skim, 2 read) under a proportional-odds model."""
    import numpy as np

    p_skim = 1.0 / (1.0 + np.exp(-sharpness * (eta - cuts[0])))  # P(y >= skim)
    p_read = 1.0 / (1.0 + np.exp(-sharpness * (eta - cuts[1])))  # P(y >= read)
    probs = np.where(y == 0, 1 - p_skim, np.where(y == 1, p_skim - p_read, p_read))
    return float((weight * np.log(np.clip(probs, 1e-6, 1.0))).sum())


def _fit_ordinal(
    features: np.ndarray, labels: np.ndarray, prior: np.ndarray, weights: np.ndarray, cuts: tuple[float, float]
) -> tuple[float, np.ndarray, tuple[float, float]]:
    """Proportional odds on the prior's own scale: ``P(y ≥ t) = σ(s·(prior + X·w − κ_t))``.

    Returns ``(s, w, κ)``.  ``s`` is how sharply decisions follow the scale (it changes probabilities, never a
    ranking or a decision); ``w`` and the cut points ``κ`` are in the prior's units and are pulled towards
    ``w = 0`` and the prior's cut points, measured in gaps between those cut points.
    """
    import numpy as np
    from scipy.optimize import minimize

    d = features.shape[1]
    prior_cuts = np.array(cuts)
    gap0 = max(cuts[1] - cuts[0], 1e-3)

    def unpack(theta: np.ndarray) -> tuple[float, np.ndarray, float, float]:
        return math.exp(theta[0]), theta[1 : 1 + d], theta[1 + d], theta[1 + d] + math.exp(theta[2 + d])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        sharp, w, k1, k2 = unpack(theta)
        u = prior + features @ w
        loss = 0.0
        grad = np.zeros_like(theta)
        for t, k in ((1, k1), (2, k2)):
            logit = sharp * (u - k)
            p = 1.0 / (1.0 + np.exp(-logit))
            target = (labels >= t).astype(np.float64)
            loss -= float(np.sum(weights * (target * np.log(p + 1e-12) + (1 - target) * np.log(1 - p + 1e-12))))
            r = weights * (target - p)  # d log-likelihood / d logit
            grad[0] -= float(np.sum(r * logit))
            grad[1 : 1 + d] -= sharp * (features.T @ r)
            grad[1 + d] += sharp * float(np.sum(r))
            if t == 2:
                grad[2 + d] += sharp * float(np.sum(r)) * (k2 - k1)
        # The pull towards the prior, in gaps between its cut points: a few decisions recalibrate it, many reshape
        # it; and towards a moderate sharpness (a gap of about four logits), so ten decisions cannot claim certainty.
        moved = (np.array([k1, k2]) - prior_cuts) / gap0
        loss += 0.5 * _L2 * float(w @ w) / gap0**2 + 0.5 * _PULL * float(moved @ moved)
        loss += 0.5 * _SHARPNESS_PULL * (theta[0] - sharp0) ** 2
        grad[0] += _SHARPNESS_PULL * (theta[0] - sharp0)
        grad[1 : 1 + d] += _L2 * w / gap0**2
        grad[1 + d] += _PULL * (moved[0] + moved[1]) / gap0
        grad[2 + d] += _PULL * moved[1] / gap0 * (k2 - k1)
        return loss, grad

    sharp0 = math.log(4.0 / gap0)
    theta0 = np.zeros(3 + d)
    theta0[0], theta0[1 + d], theta0[2 + d] = sharp0, cuts[0], math.log(gap0)
    bounds = [(math.log(0.01 / gap0), math.log(100.0 / gap0))] + [(None, None)] * (d + 2)
    result = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    sharp, w, k1, k2 = unpack(result.x)
    return float(sharp), w, (float(k1), float(k2))
