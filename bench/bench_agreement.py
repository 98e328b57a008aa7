"""Does the offline critic agree with the reader?  Measured on ../shared/critic-dev.

    python -m bench.bench_agreement [--folds 5] [--repeats 3] [--no-digest]

The dev set holds 101 real arXiv papers (title and abstract) labelled read /
skim / drop for the seed reader.  Printed, against the dev set's own keyword
and random baselines (computed by its scorer, ``score_digest.py``):

1. **constitution only** — the reader model with no decisions of the reader
   (the shipped constitution, the shipped background);
2. **learning from the reader** — k-fold cross-validation: the model learns
   from the decisions of the other folds and judges the held-out fold, so no
   paper is judged by a model that saw its label;
3. **the product path** — ``triage digest --feed feed.xml --top 101`` with the
   offline critic, scored by ``score_digest.py`` exactly as the dev set's README
   says (constitution only; it must match 1).

Metrics as the scorer defines them: balanced accuracy of read-vs-not, 3-class
Cohen's kappa, ROC AUC of the score for read, precision@10.  Nothing here
tunes anything: the model's settings are constants in ``triage/critic/model.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "critic-dev"
TARGETS = {"constitution only": {"kappa": 0.45, "auc": 0.90}, "learning from the reader": {"kappa": 0.55, "auc": 0.93}}


def _scorer():
    spec = importlib.util.spec_from_file_location("score_digest", DEV / "score_digest.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _folds(labels: list[str], k: int, seed: int) -> list[list[int]]:
    """Stratified folds: each label spread evenly over the folds, in a seeded order."""
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    for label in sorted(set(labels)):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        rng.shuffle(idx)
        for n, i in enumerate(idx):
            folds[n % k].append(i)
    return folds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3, help="cross-validation repeats with different fold seeds")
    ap.add_argument("--no-digest", action="store_true", help="skip the end-to-end digest run (about a minute)")
    args = ap.parse_args(argv)
    if not DEV.is_dir():
        print("bench_agreement skipped: ../shared/critic-dev is not here (a fresh clone has none)")
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np

    from triage.critic.background import background_texts, background_vectors
    from triage.critic.constitution import load_constitution
    from triage.critic.model import Example, Prior, ReaderModel, paper_text
    from triage.embeddings import LocalMiniLM
    from triage.models import Decision

    sd = _scorer()
    papers = {p["id"]: p for p in sd.read_jsonl(DEV / "papers.jsonl")}
    rows = sd.read_jsonl(DEV / "labels.jsonl")
    ids = [r["id"] for r in rows]
    labels = [r["label"] for r in rows]
    relevance = [int(r["relevance"]) for r in rows]
    texts = [paper_text(papers[i]["title"], papers[i]["abstract"]) for i in ids]

    embedder = LocalMiniLM()
    constitution = load_constitution()
    background = list(background_texts())
    vectors = np.asarray(embedder.embed(texts))

    def embed(t: list[str]) -> np.ndarray:
        return np.asarray(embedder.embed(t))

    results: dict[str, dict] = {}

    # One prior (constitution + background) serves every model below, as one data home's does.
    prior = Prior(constitution, embed, background, background_vectors(embedder, None))
    scored = ReaderModel(prior).score(texts, vectors)
    results["constitution only"] = sd.evaluate([s.decision.value for s in scored], [s.score for s in scored],
                                               labels, relevance, random.Random(0))

    runs = []
    for repeat in range(args.repeats):
        decisions: list[str] = [""] * len(ids)
        scores = [0.0] * len(ids)
        for held in _folds(labels, args.folds, seed=repeat):
            held_set = set(held)
            train = [i for i in range(len(ids)) if i not in held_set]
            examples = [Example(key=ids[i], text=texts[i], label=Decision(labels[i])) for i in train]
            model = ReaderModel(prior, examples, vectors[train])
            for i, s in zip(held, model.score([texts[i] for i in held], vectors[held])):
                decisions[i], scores[i] = s.decision.value, s.score
        runs.append(sd.evaluate(decisions, scores, labels, relevance, random.Random(0)))
    results["learning from the reader"] = {k: statistics.fmean(r[k] for r in runs) for k in runs[0]}

    # How learning grows with the number of decisions: n random decisions learned from, the rest judged,
    # next to the constitution alone judging the same rest.
    curve = []
    for n in (8, 16, 32, 64):
        learned_k, prior_k, learned_auc, prior_auc = [], [], [], []
        for seed in range(5):
            order = random.Random(seed).sample(range(len(ids)), len(ids))
            train, rest = order[:n], order[n:]
            rest_labels = [labels[i] for i in rest]
            if "read" not in rest_labels or len(set(labels[i] for i in train)) < 2:
                continue
            examples = [Example(key=ids[i], text=texts[i], label=Decision(labels[i])) for i in train]
            model = ReaderModel(prior, examples, vectors[train])
            got = model.score([texts[i] for i in rest], vectors[rest])
            base = [scored[i] for i in rest]
            rest_rel = [relevance[i] for i in rest]
            a = sd.evaluate([s.decision.value for s in got], [s.score for s in got], rest_labels, rest_rel,
                            random.Random(0))
            b = sd.evaluate([s.decision.value for s in base], [s.score for s in base], rest_labels, rest_rel,
                            random.Random(0))
            learned_k.append(a["kappa_3class"])
            prior_k.append(b["kappa_3class"])
            learned_auc.append(a["auc_read"])
            prior_auc.append(b["auc_read"])
        curve.append((n, statistics.fmean(prior_k), statistics.fmean(learned_k), statistics.fmean(prior_auc),
                      statistics.fmean(learned_auc)))

    keyword = [float(len(sd.KEYWORD_RE.findall(f"{papers[i]['title']} {papers[i]['abstract']}"))) for i in ids]
    keyword_dec = ["read" if c >= sd.KEYWORD_READ else "skim" if c >= sd.KEYWORD_SKIM else "drop" for c in keyword]
    results["keyword baseline"] = sd.evaluate(keyword_dec, keyword, labels, relevance, random.Random(0))
    rng = random.Random(0)
    draws = []
    for _ in range(1000):
        dec = [s.decision.value for s in scored]
        rng.shuffle(dec)
        draws.append(sd.evaluate(dec, [rng.random() for _ in ids], labels, relevance, rng))
    results["random (mean)"] = {k: statistics.fmean(d[k] for d in draws) for k in draws[0]}

    print(f"critic-dev: {len(ids)} papers (read {labels.count('read')}, skim {labels.count('skim')}, "
          f"drop {labels.count('drop')}); background {len(background)} papers; "
          f"{args.folds}-fold cross-validation x {args.repeats}")
    cols = [("balanced_accuracy_read", "BA(read)"), ("kappa_3class", "kappa3"), ("auc_read", "AUC(read)"),
            ("p@10", "P@10"), ("spearman_relevance", "rho(rel)")]
    print(f"{'':28}" + "".join(f"{h:>11}" for _, h in cols))
    for name, r in results.items():
        print(f"{name:28}" + "".join(f"{r[k]:>11.3f}" for k, _ in cols))
    print("learning curve (n decisions learned from, the rest judged; mean of 5 draws):")
    print(f"{'  n':6}{'kappa3 prior':>14}{'kappa3 learned':>16}{'AUC prior':>11}{'AUC learned':>13}")
    for n, pk, lk, pa, la in curve:
        print(f"{n:>4}  {pk:>14.3f}{lk:>16.3f}{pa:>11.3f}{la:>13.3f}")
    ok = True
    for name, target in TARGETS.items():
        r = results[name]
        met = r["kappa_3class"] >= target["kappa"] and r["auc_read"] >= target["auc"]
        ok &= met
        print(f"target {name}: kappa >= {target['kappa']}, AUC >= {target['auc']}: {'met' if met else 'NOT met'}")

    if not args.no_digest:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "TRIAGE_HOME": f"{tmp}/home", "TRIAGE_CONFIG": f"{tmp}/config.toml"}
            env.pop("OPENAI_API_KEY", None)
            env.pop("OPENAI_BASE_URL", None)
            cmd = [sys.executable, "-m", "triage.cli", "--offline", "digest", "--feed", str(DEV / "feed.xml"),
                   "--top", "101", "--out", f"{tmp}/out"]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            digests = sorted(Path(tmp, "out").glob("*.md"))
            if done.returncode != 0 or not digests:
                print(f"digest run failed ({done.returncode}): {done.stderr.strip()[-400:]}")
                return 1
            out = subprocess.run([sys.executable, str(DEV / "score_digest.py"), str(digests[0]), "--json"],
                                 capture_output=True, text=True, check=True)
            tool = json.loads(out.stdout)["results"]["tool"]
            print("product path (triage digest --feed feed.xml --top 101, scored by score_digest.py):")
            print(f"{'  digest, offline critic':28}" + "".join(f"{tool[k]:>11.3f}" for k, _ in cols))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
