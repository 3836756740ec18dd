"""`make eval`: accuracy on the real labeled data in ../shared/datasets, beside the baselines.

Runs the real `triage evaluate` command (the interface users and checkers call) on
- banking77, official train/test split (77 intents): the configuration is chosen by
  cross-validation on the train split only; `triage evaluate` reports the plain baselines it
  trained in the same run (majority class; TF-IDF + linear SVM with C by 3-fold CV);
- banking77 under stress, scored on the same clean test split: the train split with 30% of
  its labels replaced at random (seeded; labels that are often wrong, as in real assignment
  groups) and with only 5 examples per intent (a new helpdesk's few labels);
- a second real category set, nothing of the category model chosen on it: the airline
  tweets' complaint reasons (10 labels, "Can't Tell" included as labeled, short and
  imbalanced like real ticket queues), each airline tested on its own, trained on the other
  three;
- airline tweets, split by airline: tuned and trained on Virgin America + Delta, tested on
  Southwest + US Airways (airlines nothing was tuned on); then each airline on its own,
  zero-shot and trained on the other three.
Sentiment baselines computed here in the same run: majority class, plain VADER (compound,
+-0.05 bands), plain TF-IDF (word 1-2 + char 2-5 n-grams) + logistic regression.
Topic discovery (the cold start: `triage topics` on tickets without labels) is scored by how
well its topics match labels it never saw: banking77's test texts (77 intents) and the airline
tweets' complaint reasons, with the default settings (the number of topics chosen by silhouette,
at most 24) and with as many topics as labels; beside plain TF-IDF + k-means with the same
number of clusters, in the same run. Nothing of the topic settings was chosen on these sets.
The emerging-topic alert is scored the same way: banking77's train split without 3 intents is
what the helpdesk knows, a week of tickets holds those 3 new intents (5 seeded draws).
The data is read from ../shared/datasets and never copied into the project; splits are written
to a temporary folder. Results go to benchmarks/results/eval.json (and eval_topics.json) and are
printed as tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
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


def tfidf_logreg(x_train, y_train, x_test, y_test) -> dict:
    """The supervised sentiment baseline: TF-IDF (word 1-2 + char 2-5) + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    from triage_core.models.evaluate import metrics

    feats = make_union(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                       TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True))
    model = make_pipeline(feats, LogisticRegression(max_iter=2000)).fit(x_train, y_train)
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


def row(name: str, data: str, m: dict, note: str = "", base: dict | None = None,
        base_name: str = "") -> dict:
    """A table row; ``base`` (a baseline's metrics from the same run) fills the baseline
    columns and the margin."""
    out = {"model": name, "data": data, "accuracy": round(m["accuracy"], 4),
           "macro_f1": round(m["macro_f1"], 4), "n_test": m.get("n_test"),
           "seconds": m.get("seconds"), "note": note, "baseline": base_name,
           "baseline_accuracy": None, "baseline_macro_f1": None, "margin_macro_f1": None}
    if base:
        out.update(baseline_accuracy=round(base["accuracy"], 4),
                   baseline_macro_f1=round(base["macro_f1"], 4),
                   margin_macro_f1=round(m["macro_f1"] - base["macro_f1"], 4))
    return out


def category_rows(name: str, data: str, m: dict, note: str) -> list[dict]:
    """Ours beside the plain TF-IDF + linear SVM of the same run, then the baselines."""
    sel = m["selection"]
    plain = m["baseline"]["tfidf_svm"]
    chosen = f"configuration {sel['chosen']!r} ({sel['reason']})"
    rows = [row(name, data, m, f"{note}; {chosen}", plain,
                f"TF-IDF + linear SVM, C = {plain['C']:g} by CV")]
    rows.append(row(f"TF-IDF + linear SVM (C = {plain['C']:g} by 3-fold CV, same run)", data,
                    plain, "baseline"))
    rows.append(row("majority class (same run)", data, m["baseline"]["majority"], "baseline"))
    return rows


def banking77(rows: list[dict]) -> None:
    b77 = DATASETS / "banking77"
    args = ["--task", "category", "--train", str(b77 / "train.csv"), "--test",
            str(b77 / "test.csv"), "--text-col", "text", "--label-col", "category"]
    print("banking77: triage evaluate --task category ...", file=sys.stderr)
    m = triage_evaluate(*args)
    rows += category_rows("ticket-triage classifier", "banking77 test", m,
                          f"train {m['train_seconds']:.0f} s incl. selection")
    (RESULTS / "eval_banking77_selection.json").write_text(json.dumps(m["selection"], indent=2))


def banking77_stress(rows: list[dict], work: Path) -> None:
    """banking77's train split made harder (noisy labels; few labels), its test split as is:
    whether selection still lands at or above the plain baseline of the same run."""
    import numpy as np

    b77 = DATASETS / "banking77"
    train = pd.read_csv(b77 / "train.csv")
    noisy = train.copy()
    rng = np.random.default_rng(7)
    flip = rng.choice(len(noisy), int(0.3 * len(noisy)), replace=False)
    noisy.loc[flip, "category"] = rng.choice(sorted(train["category"].unique()), len(flip))
    few = train.sample(frac=1, random_state=3).groupby("category").head(5)
    for name, frame in (("30% of train labels random", noisy), ("5 train texts per intent", few)):
        path = work / f"banking77_{len(rows)}.csv"
        frame.to_csv(path, index=False)
        print(f"banking77, {name}: triage evaluate --task category ...", file=sys.stderr)
        m = triage_evaluate("--task", "category", "--train", str(path), "--test",
                            str(b77 / "test.csv"), "--text-col", "text", "--label-col",
                            "category")
        rows += category_rows("ticket-triage classifier", f"banking77 test, {name}", m,
                              f"train {m['train_seconds']:.0f} s incl. selection")[:2]


def complaint_reasons(rows: list[dict]) -> None:
    """The category model on a second real labeled set: the negative tweets' complaint reasons,
    each airline held out in turn (trained on the other three), beside the plain baselines
    `triage evaluate` trains in the same run."""
    tweets = pd.read_csv(DATASETS / "airline_tweets" / "dev.csv")
    tweets = tweets[tweets["negativereason"].notna()]
    common = ["--task", "category", "--text-col", "text", "--label-col", "negativereason"]
    with tempfile.TemporaryDirectory() as tmp:
        for airline in sorted(tweets["airline"].unique()):
            test, train = Path(tmp) / "test.csv", Path(tmp) / "train.csv"
            tweets[tweets["airline"] == airline].to_csv(test, index=False)
            tweets[tweets["airline"] != airline].to_csv(train, index=False)
            print(f"airline complaint reasons, {airline}: triage evaluate --task category ...",
                  file=sys.stderr)
            m = triage_evaluate(*common, "--train", str(train), "--test", str(test))
            rows += category_rows("ticket-triage classifier",
                                  f"tweets' complaint reasons, {airline} ({m['n_test']:,})", m,
                                  "trained on the other three airlines")[:2]


def tweets(rows: list[dict]) -> None:
    tweets = pd.read_csv(DATASETS / "airline_tweets" / "dev.csv")
    tune = tweets[tweets["airline"].isin(TUNE_AIRLINES)]
    held = tweets[~tweets["airline"].isin(TUNE_AIRLINES)]
    held_name = " + ".join(sorted(held["airline"].unique()))
    vader = plain_vader(held["text"], held["sentiment"])
    lr = tfidf_logreg(tune["text"], tune["sentiment"], held["text"], held["sentiment"])
    with tempfile.TemporaryDirectory() as tmp:
        tr, te = Path(tmp) / "tune.csv", Path(tmp) / "held.csv"
        tune.to_csv(tr, index=False)
        held.to_csv(te, index=False)
        print("airline tweets: triage evaluate --task sentiment ...", file=sys.stderr)
        common = ["--task", "sentiment", "--text-col", "text", "--label-col", "sentiment"]
        zs = triage_evaluate(*common, "--test", str(te))
        rows.append(row("ticket-triage zero-shot sentiment", f"tweets, {held_name}", zs,
                        zs["calibration"]["note"], vader, "plain VADER (±0.05)"))
        trained = triage_evaluate(*common, "--train", str(tr), "--test", str(te))
        rows.append(row("ticket-triage trained sentiment", f"tweets, {held_name}", trained,
                        "trained on " + " + ".join(TUNE_AIRLINES) + "; "
                        + trained["calibration"]["note"], lr, "TF-IDF + logistic regression"))
        every = Path(tmp) / "all.csv"
        tweets.to_csv(every, index=False)
        zs_all = triage_evaluate(*common, "--test", str(every))
    rows.append(row("ticket-triage zero-shot sentiment", "tweets, all airlines", zs_all, "",
                    plain_vader(tweets["text"], tweets["sentiment"]), "plain VADER (±0.05)"))
    rows.append(row("TF-IDF + logistic regression", f"tweets, {held_name}", lr,
                    "baseline, trained on " + " + ".join(TUNE_AIRLINES)))
    rows.append(row("plain VADER (±0.05)", f"tweets, {held_name}", vader, "baseline"))
    rows.append(row("majority class", f"tweets, {held_name}",
                    majority(tune["sentiment"], held["sentiment"]), "baseline"))


def tweets_by_airline(rows: list[dict]) -> None:
    """Each airline on its own, the way a new source meets the models: zero-shot, and trained
    on the other three airlines (their share of negative tweets ranges from 36 % to 78 %)."""
    tweets = pd.read_csv(DATASETS / "airline_tweets" / "dev.csv")
    common = ["--task", "sentiment", "--text-col", "text", "--label-col", "sentiment"]
    predicted: dict[str, list[pd.DataFrame]] = {"zero-shot": [], "trained": []}
    with tempfile.TemporaryDirectory() as tmp:
        for airline in sorted(tweets["airline"].unique()):
            test, train = Path(tmp) / "test.csv", Path(tmp) / "train.csv"
            out = {mode: Path(tmp) / f"{mode}.csv" for mode in predicted}
            held = tweets[tweets["airline"] == airline]
            rest = tweets[tweets["airline"] != airline]
            held.to_csv(test, index=False)
            rest.to_csv(train, index=False)
            share = f"{(held['sentiment'] == 'negative').mean():.0%} negative"
            print(f"airline tweets, {airline}: triage evaluate --task sentiment ...",
                  file=sys.stderr)
            zs = triage_evaluate(*common, "--test", str(test), "--predictions",
                                 str(out["zero-shot"]))
            rows.append(row("ticket-triage zero-shot sentiment", f"tweets, {airline} ({share})",
                            zs, "settings chosen on it" if airline in TUNE_AIRLINES else
                            "nothing tuned on it", plain_vader(held["text"], held["sentiment"]),
                            "plain VADER (±0.05)"))
            trained = triage_evaluate(*common, "--train", str(train), "--test", str(test),
                                      "--predictions", str(out["trained"]))
            rows.append(row("ticket-triage trained sentiment", f"tweets, {airline} ({share})",
                            trained, "trained on the other three airlines",
                            tfidf_logreg(rest["text"], rest["sentiment"], held["text"],
                                         held["sentiment"]),
                            "TF-IDF + logistic regression"))
            for mode, path in out.items():
                predicted[mode].append(pd.read_csv(path, keep_default_na=False)
                                       .assign(airline=airline))
    complaint_heavy(rows, {mode: pd.concat(frames) for mode, frames in predicted.items()})


def complaint_heavy(rows: list[dict], predicted: dict[str, pd.DataFrame],
                    shares: tuple[float, ...] = (0.7, 0.75)) -> None:
    """An estimate for a source more complaint-heavy than most of these airlines: the
    per-airline predictions of the two airlines nothing was tuned on, pooled, each tweet
    weighted so that negatives make up ``share`` and neutral and positive keep their ratio.
    A reweighting of these tweets, not a measurement on other ones."""
    from sklearn.metrics import accuracy_score, f1_score

    for mode, frame in predicted.items():
        pooled = frame[~frame["airline"].isin(TUNE_AIRLINES)]
        negative = (pooled["label"] == "negative").to_numpy()
        for share in shares:
            weight = np.where(negative, share / negative.mean(),
                              (1 - share) / (1 - negative.mean()))
            m = {"accuracy": accuracy_score(pooled["label"], pooled["predicted"],
                                            sample_weight=weight),
                 "macro_f1": f1_score(pooled["label"], pooled["predicted"], average="macro",
                                      sample_weight=weight),
                 "n_test": len(pooled)}
            names = " + ".join(sorted(pooled["airline"].unique()))
            rows.append(row(f"ticket-triage {mode} sentiment",
                            f"tweets, {names} reweighted to {share:.0%} negative", m,
                            "each airline's own predictions as above (trained: on the other "
                            "three); an estimate, not a measurement"))


def topic_rows() -> list[dict]:
    """Topics found without labels against the labels: NMI (0: unrelated, 1: the same
    partition) and purity (share of texts in their topic's most common label), beside plain
    TF-IDF + k-means with as many clusters."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import normalized_mutual_info_score

    from triage_core.models import topics
    from triage_core.models.topics import TopicSettings

    def purity(labels: np.ndarray, assign: np.ndarray) -> float:
        return sum(pd.Series(labels[assign == k]).value_counts().iloc[0]
                   for k in np.unique(assign)) / len(labels)

    b77 = pd.read_csv(DATASETS / "banking77" / "test.csv")
    tweets = pd.read_csv(DATASETS / "airline_tweets" / "dev.csv")
    tweets = tweets[tweets["negativereason"].notna()
                    & (tweets["negativereason"] != "Can't Tell")]
    sets = [("banking77 test (77 intents)", b77["text"], b77["category"]),
            (f"airline complaint reasons ({tweets['negativereason'].nunique()})",
             tweets["text"], tweets["negativereason"])]
    out = []
    for data, texts, labels in sets:
        texts, labels = texts.tolist(), labels.to_numpy(dtype=object)
        for n_topics in (0, len(set(labels))):
            print(f"topics: {data}, n_topics = {n_topics} ...", file=sys.stderr)
            start = time.perf_counter()
            found = topics.discover(texts, TopicSettings.from_config({"n_topics": n_topics}))
            seconds = time.perf_counter() - start
            assign = np.full(len(texts), -1)
            for k, topic in enumerate(found):
                assign[list(topic.members)] = k
            words = TfidfVectorizer(sublinear_tf=True, stop_words="english",
                                    min_df=2).fit_transform(texts)
            base = KMeans(len(found), n_init=3, random_state=0).fit(words).labels_
            out.append({"data": data, "settings": "default" if n_topics == 0
                        else f"n_topics = {n_topics}", "topics": len(found),
                        "nmi": round(normalized_mutual_info_score(labels, assign), 3),
                        "purity": round(float(purity(labels, assign)), 3),
                        "baseline_nmi": round(normalized_mutual_info_score(labels, base), 3),
                        "baseline_purity": round(float(purity(labels, base)), 3),
                        "seconds": round(seconds, 1)})
    return out


def emerging_rows(runs: int = 5) -> list[dict]:
    """The emerging-topic alert on real texts: banking77's train split without 3 intents
    (drawn at random, seeded) is what the helpdesk knows; a week of tickets is 300 test texts of
    known intents and every test text of the 3 new ones. Which new intents raise an alert, and
    how many alerted tickets are of a new intent (precision) and of the new intents' tickets are
    in an alert (recall)."""
    import numpy as np

    from triage_core.models import topics

    train = pd.read_csv(DATASETS / "banking77" / "train.csv")
    test = pd.read_csv(DATASETS / "banking77" / "test.csv")
    intents = sorted(train["category"].unique())
    rng = np.random.default_rng(0)
    out = []
    for run in range(runs):
        new = sorted(str(c) for c in rng.choice(intents, 3, replace=False))
        known = train[~train["category"].isin(new)]
        week = pd.concat([test[~test["category"].isin(new)].sample(300, random_state=run),
                          test[test["category"].isin(new)]]).sample(frac=1, random_state=run)
        print(f"emerging topics: run {run + 1} of {runs} ...", file=sys.stderr)
        start = time.perf_counter()
        found = topics.emerging(known["text"].tolist(), known["category"].tolist(),
                                week["text"].tolist())
        seconds = time.perf_counter() - start
        labels = week["category"].to_numpy(dtype=object)
        alerted = [i for t in found for i in t.members]
        is_new = np.isin(labels, new)
        out.append({"new_intents": new, "alerts": len(found),
                    # a new intent that is the most common one of an alert's tickets
                    "new_intents_alerted": len({pd.Series(labels[list(t.members)]).mode()[0]
                                                for t in found} & set(new)),
                    "precision": round(float(is_new[alerted].mean()), 3) if alerted else None,
                    "recall": round(float(is_new[alerted].sum() / is_new.sum()), 3),
                    "seconds": round(seconds, 1)})
    return out


def main() -> int:
    if not DATASETS.exists():
        print(f"no datasets at {DATASETS}; set TRIAGE_DATASETS", file=sys.stderr)
        return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    banking77(rows)
    with tempfile.TemporaryDirectory() as work:
        banking77_stress(rows, Path(work))
    complaint_reasons(rows)
    tweets(rows)
    tweets_by_airline(rows)
    topic = topic_rows()
    alerts = emerging_rows()
    (RESULTS / "eval.json").write_text(json.dumps(rows, indent=2))
    (RESULTS / "eval_topics.json").write_text(json.dumps({"topics": topic, "emerging": alerts},
                                                         indent=2))
    print("| model | data | accuracy | macro-F1 | baseline (same run) | its accuracy | "
          "its macro-F1 | margin (macro-F1) | note |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        base = (f"{r['baseline']} | {r['baseline_accuracy']:.3f} | "
                f"{r['baseline_macro_f1']:.3f} | {r['margin_macro_f1']:+.3f}"
                if r["baseline"] else " | | | ")
        print(f"| {r['model']} | {r['data']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
              f"{base} | {r['note']} |")
    print("\n| topic discovery (no labels) | settings | topics | NMI | purity | TF-IDF + k-means"
          " NMI | its purity | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in topic:
        print(f"| {r['data']} | {r['settings']} | {r['topics']} | {r['nmi']:.3f} | "
              f"{r['purity']:.3f} | {r['baseline_nmi']:.3f} | {r['baseline_purity']:.3f} | "
              f"{r['seconds']:.1f} |")
    print("\n| emerging-topic alert: 3 intents new this week | alerts | new intents an alert is"
          " about |"
          " precision (alerted tickets of a new intent) | recall (new-intent tickets alerted) |"
          " seconds |")
    print("|---|---|---|---|---|---|")
    for r in alerts:
        precision = "–" if r["precision"] is None else f"{r['precision']:.2f}"
        print(f"| {', '.join(r['new_intents'])} | {r['alerts']} | {r['new_intents_alerted']} of 3"
              f" | {precision} | {r['recall']:.2f} | {r['seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
