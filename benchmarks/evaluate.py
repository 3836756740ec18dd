"""`make eval`: accuracy on the real labeled data in ../shared/datasets, beside the baselines.

Runs the real `triage evaluate` command (the interface users and checkers call) on
- banking77, official train/test split (77 intents);
- airline tweets, split by airline: tuned and trained on Virgin America + Delta, tested on
  Southwest + US Airways (airlines nothing was tuned on).
Baselines computed in the same run: majority class, plain VADER (compound, +-0.05 bands),
plain TF-IDF (word 1-2 + char 2-5 n-grams) + linear SVM / logistic regression.
The data is read from ../shared/datasets and never copied into the project; splits are written
to a temporary folder. Results go to benchmarks/results/eval.json and are printed as a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("TRIAGE_DATASETS", ROOT.parent / "shared" / "datasets"))
RESULTS = ROOT / "benchmarks" / "results"
TUNE_AIRLINES = ("Virgin America", "Delta")


def triage_evaluate(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "triage_core.cli", "evaluate", *args, "--json"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"triage evaluate failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def majority(train: pd.Series, test: pd.Series) -> dict:
    from triage_core.models.evaluate import metrics

    top = train.value_counts().idxmax()
    return metrics(test.tolist(), [top] * len(test))


def tfidf_baseline(x_train, y_train, x_test, y_test, linear: str = "svm") -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    from triage_core.models.evaluate import metrics

    feats = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                       TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    clf = LinearSVC() if linear == "svm" else LogisticRegression(max_iter=2000)
    model = make_pipeline(feats, clf).fit(x_train, y_train)
    return metrics(list(y_test), list(model.predict(x_test)))


def plain_vader(texts, labels) -> dict:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from triage_core.models.evaluate import metrics

    sia = SentimentIntensityAnalyzer()
    pred = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        pred.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return metrics(list(labels), pred)


def row(name: str, data: str, m: dict, note: str = "") -> dict:
    return {"model": name, "data": data, "accuracy": round(m["accuracy"], 4),
            "macro_f1": round(m["macro_f1"], 4), "n_test": m.get("n_test"),
            "seconds": m.get("seconds"), "note": note}


def main() -> int:
    if not DATASETS.exists():
        print(f"no datasets at {DATASETS}; set TRIAGE_DATASETS", file=sys.stderr)
        return 1
    rows = []
    b77 = DATASETS / "banking77"
    train, test = pd.read_csv(b77 / "train.csv"), pd.read_csv(b77 / "test.csv")
    print("banking77: triage evaluate --task category ...", file=sys.stderr)
    m = triage_evaluate("--task", "category", "--train", str(b77 / "train.csv"),
                        "--test", str(b77 / "test.csv"), "--text-col", "text",
                        "--label-col", "category")
    rows.append(row("ticket-triage classifier", "banking77 test", m,
                    f"train {m.get('train_seconds', '?')} s"))
    with tempfile.TemporaryDirectory() as tmp:  # what the shipped word vectors earn
        off = Path(tmp) / "no_vectors.toml"
        off.write_text("[classifier]\nsemantic_weight = 0\n")
        m = triage_evaluate("--task", "category", "--train", str(b77 / "train.csv"),
                            "--test", str(b77 / "test.csv"), "--text-col", "text",
                            "--label-col", "category", "--config", str(off))
    rows.append(row("the same without word vectors", "banking77 test", m,
                    "semantic_weight = 0"))
    rows.append(row("majority class", "banking77 test", majority(train["category"],
                                                                 test["category"])))
    start = time.perf_counter()
    rows.append(row("TF-IDF + linear SVM", "banking77 test",
                    tfidf_baseline(train["text"], train["category"], test["text"],
                                   test["category"]),
                    f"{time.perf_counter() - start:.0f} s"))

    tweets = pd.read_csv(DATASETS / "airline_tweets" / "dev.csv")
    tune = tweets[tweets["airline"].isin(TUNE_AIRLINES)]
    held = tweets[~tweets["airline"].isin(TUNE_AIRLINES)]
    held_name = " + ".join(sorted(held["airline"].unique()))
    with tempfile.TemporaryDirectory() as tmp:
        tr, te = Path(tmp) / "tune.csv", Path(tmp) / "held.csv"
        tune.to_csv(tr, index=False)
        held.to_csv(te, index=False)
        print("airline tweets: triage evaluate --task sentiment ...", file=sys.stderr)
        zs = triage_evaluate("--task", "sentiment", "--test", str(te), "--text-col", "text",
                             "--label-col", "sentiment")
        rows.append(row("ticket-triage zero-shot sentiment", f"tweets, {held_name}", zs))
        trained = triage_evaluate("--task", "sentiment", "--train", str(tr), "--test", str(te),
                                  "--text-col", "text", "--label-col", "sentiment")
        rows.append(row("ticket-triage trained sentiment", f"tweets, {held_name}", trained,
                        "trained on " + " + ".join(TUNE_AIRLINES)))
        every = Path(tmp) / "all.csv"
        tweets.to_csv(every, index=False)
        zs_all = triage_evaluate("--task", "sentiment", "--test", str(every), "--text-col",
                                 "text", "--label-col", "sentiment")
        rows.append(row("ticket-triage zero-shot sentiment", "tweets, all airlines", zs_all))
    rows.append(row("majority class", f"tweets, {held_name}",
                    majority(tune["sentiment"], held["sentiment"])))
    rows.append(row("plain VADER (±0.05)", f"tweets, {held_name}",
                    plain_vader(held["text"], held["sentiment"])))
    rows.append(row("plain VADER (±0.05)", "tweets, all airlines",
                    plain_vader(tweets["text"], tweets["sentiment"])))
    rows.append(row("TF-IDF + logistic regression", f"tweets, {held_name}",
                    tfidf_baseline(tune["text"], tune["sentiment"], held["text"],
                                   held["sentiment"], linear="lr"),
                    "trained on " + " + ".join(TUNE_AIRLINES)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "eval.json").write_text(json.dumps(rows, indent=2))
    print("| model | data | accuracy | macro-F1 | note |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['data']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
              f"{r['note']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
