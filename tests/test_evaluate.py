"""Honest accuracy figures: metrics by hand, and `triage evaluate` on small labeled CSVs."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from triage_core import cli
from triage_core.errors import TriageError
from triage_core.models import evaluate, sentiment_labels
from triage_core.schema import SENTIMENT_LABELS
from triage_core.store import Store

# Three categories with their own words; the fillers make every text different.
TOPICS = {
    "billing": ["I was charged twice on my invoice", "the invoice amount is wrong",
                "double charge on my credit card", "why is my bill so high",
                "payment taken twice this month"],
    "shipping": ["my parcel has not arrived", "the courier lost my package",
                 "tracking number shows no delivery", "delivery is two weeks late",
                 "package was delivered to the wrong address"],
    "login": ["I cannot log in to my account", "password reset email never arrives",
              "two factor code is rejected at sign in", "my login is locked",
              "the app says wrong password every time"],
}
FILLERS = ["please help", "thanks", "this is urgent", "order 1234", "can you check"]
POSITIVE = ["Thank you so much, great service and a lovely team!",
            "I love the new app, it works perfectly. Excellent!",
            "Fantastic support, you solved it quickly, very happy",
            "Brilliant, thanks a lot, everything is wonderful now"]
NEGATIVE = ["This is terrible, I am furious and disappointed",
            "Worst experience ever, awful support, I hate this",
            "Horrible service, nobody helps, completely useless and rude",
            "I am angry, the product is broken and this is unacceptable"]
NEUTRAL = ["What are your opening hours on weekdays",
           "Please send me the form for the address change",
           "Which plan includes the export feature",
           "Where do I find the settings page"]


def rows(offset: int, n_per_class: int) -> list[dict[str, str]]:
    out = []
    for label, texts in TOPICS.items():
        for i in range(n_per_class):
            j = i + offset
            out.append({"text": f"{texts[j % 5]}, {FILLERS[(j // 5) % 5]} #{j}",
                        "category": label})
    return out


def write_csv(path: Path, records: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("evaluate")
    train = [*rows(0, 20), {"text": "no label here", "category": ""},
             {"text": "nor here", "category": "  "}]
    test = [*rows(20, 10), {"text": "unlabeled", "category": ""}]
    # subject carries the topic, body is the same for every class
    split = [{"subject": r["text"].split(",")[0], "body": "hello, see my message",
              "category": r["category"]} for r in rows(0, 20)]
    split_test = [{"subject": r["text"].split(",")[0], "body": "hello, see my message",
                   "category": r["category"]} for r in rows(20, 10)]
    senti = ([{"text": t, "sentiment": "positive"} for t in POSITIVE]
             + [{"text": t, "sentiment": "negative"} for t in NEGATIVE]
             + [{"text": t, "sentiment": "neutral"} for t in NEUTRAL])
    senti_train = [{"text": f"{r['text']} ({i})", "sentiment": r["sentiment"].upper()
                    if i == 0 else r["sentiment"]} for i in range(5) for r in senti]
    return {
        "train": write_csv(d / "train.csv", train),
        "test": write_csv(d / "test.csv", test),
        "split_train": write_csv(d / "split_train.csv", split),
        "split_test": write_csv(d / "split_test.csv", split_test),
        "senti": write_csv(d / "senti.csv", senti),
        "senti_train": write_csv(d / "senti_train.csv", senti_train),
        "bad_senti": write_csv(d / "bad_senti.csv", [{"text": "x", "sentiment": "meh"}]),
    }


def triage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "triage_core.cli", *args],
                          capture_output=True, text=True, timeout=300)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- metrics by hand ---------------------------------------------------------------------------


def test_metrics_by_hand() -> None:
    m = evaluate.metrics(["a", "a", "a", "b", "b", "c"], ["a", "a", "b", "b", "c", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"] == {
        "a": {"precision": 1.0, "recall": pytest.approx(2 / 3), "f1": pytest.approx(0.8),
              "support": 3},
        "b": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
        "c": {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1},
    }
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["confusion"] == {"labels": ["a", "b", "c"],
                              "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]]}


def test_a_label_only_predicted_does_not_dilute_macro_f1() -> None:
    m = evaluate.metrics(["a", "a", "b", "b"], ["a", "z", "b", "b"])
    assert set(m["per_class"]) == {"a", "b"}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1.0) / 2)
    assert m["confusion"]["matrix"] == [[1, 0, 1], [0, 2, 0], [0, 0, 0]]
    with pytest.raises(TriageError, match="nothing to evaluate"):
        evaluate.metrics([], [])


def test_a_test_file_without_labels_is_refused_before_training(
        files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A header-only or unlabeled test file was refused after the training (minutes on a
    large set), in words that did not name it."""
    from triage_core.models import selection

    empty = tmp_path / "empty_test.csv"
    empty.write_text("text,category\nsome text,\n")

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained before the test file was read")

    monkeypatch.setattr(selection, "fit_selected", no_training)
    with pytest.raises(TriageError, match=r"empty_test\.csv: nothing to evaluate: no rows with"
                       r" a label in 'category'"):
        evaluate.evaluate_category(files["train"], empty, ["text"], "category")
    with pytest.raises(TriageError, match=r"empty_test\.csv: nothing to evaluate"):
        evaluate.evaluate_sentiment(None, empty, ["text"], "category")


def test_labeled_rows_without_text_are_left_out_as_the_pipeline_leaves_them(
        files: dict[str, Path], tmp_path: Path) -> None:
    """A test set whose texts are empty (a wrong --text-col, an export without bodies) gave
    a report at the majority's level without a word; texts of markup, punctuation or emoji
    only were given a category at 0.99 confidence, where the pipeline gives such a ticket
    none. They are left out of the figures, counted, and warned about."""
    nothing = ["", "   ", "!!!???...;;;", "\U0001f642\U0001f642", "<p>&nbsp;</p>", "Re: Fwd:"]
    blank = [{**r, "text": nothing[i % len(nothing)] if i % 4 == 0 else r["text"]}
             for i, r in enumerate(rows(20, 10))]
    test = write_csv(tmp_path / "blank_test.csv", blank)
    report = evaluate.evaluate_category(files["train"], test, ["text"], "category")
    assert report["n_unreadable_test"] == 8 and report["n_unreadable_train"] == 0
    assert report["n_test"] == len(blank) - 8
    assert [w for w in report["warnings"] if "no letter or digit" in w] == [
        "blank_test.csv: 8 labeled rows have no letter or digit in the text column(s) (empty,"
        " markup, punctuation or emoji only): the pipeline gives such a ticket no category,"
        " so they are left out of training and the figures (check --text-col)"]
    assert "warning: blank_test.csv:" in evaluate.format_report(report)
    clean = evaluate.evaluate_category(files["train"], files["test"], ["text"], "category")
    assert not [w for w in clean["warnings"] if "no letter or digit" in w]
    assert clean["n_unreadable_test"] == 0
    # a test file of nothing to read says so before any training
    none = write_csv(tmp_path / "none_test.csv", [{**r, "text": "!!!"} for r in rows(20, 2)])
    with pytest.raises(TriageError, match=r"none_test\.csv: nothing to evaluate: no rows with"
                       r" a label in 'category' and a text \(6 labeled rows have no letter"):
        evaluate.evaluate_category(files["train"], none, ["text"], "category")


def test_the_label_column_cannot_be_a_text_column(files: dict[str, Path]) -> None:
    """--text-col category --label-col category scored 1.0: the label was read as text."""
    with pytest.raises(TriageError, match=r"train\.csv: column 'category' is both a text"
                       r" column and the label column"):
        evaluate.evaluate_category(files["train"], files["test"], ["text", "category"],
                                   "category")
    # a text column given twice counted its words twice, unlike the pipeline
    with pytest.raises(TriageError, match=r"^--text-col 'text' is given twice; give each text"
                       r" column once$"):
        evaluate.evaluate_category(files["train"], files["test"], ["text", "text"], "category")


def test_placeholder_labels_are_no_labels_and_nested_ones_are_refused(
        tmp_path: Path) -> None:
    """NaN (a JSON file written by pandas), null, N/A and - counted as categories of their
    own; a JSON object was read as its text; "[Billing]" in a CSV was refused as a list."""
    df = pd.DataFrame({"text": ["a", "b", "c", "d", "e", "f", "g", "h"],
                       "category": ["NaN", "null", "N/A", "-", "None", "[Billing]", "#N/A",
                                    " nan "]})
    texts, labels, skipped = evaluate.frame_texts(df, ["text"], "category")
    assert labels.tolist() == ["None", "[Billing]"] and skipped == 6
    assert texts.attrs["rows"] == [5, 6]
    records = [{"text": "x", "category": "billing"}, {"text": "y", "category": {"team": "a"}}]
    (tmp_path / "obj.json").write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(TriageError, match=r"obj\.json, row 2, column 'category': '\{\"team\":"
                       r"\"a\"\}' is an object, not one label; choose one of its fields by its"
                       r" dotted name \(such as category\.team\)"):
        evaluate.read_labeled(tmp_path / "obj.json", ["text"], "category")
    assert evaluate.read_labeled(tmp_path / "obj.json", ["text"], "category.team")[1].tolist() \
        == ["a"]
    records[1]["category"] = ["a", "b"]
    (tmp_path / "list.json").write_text(json.dumps(records), encoding="utf-8")
    with pytest.raises(TriageError, match=r"list\.json, row 2, column 'category': .* is a list"):
        evaluate.read_labeled(tmp_path / "list.json", ["text"], "category")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["x", "y"], "category": [["a"], ["b", "c"]]}),
                   tmp_path / "list.parquet")
    with pytest.raises(TriageError, match=r"list\.parquet, row 1, column 'category': .* is a"
                       r" list, not one label"):
        evaluate.read_labeled(tmp_path / "list.parquet", ["text"], "category")


def test_a_column_named_twice_is_refused_when_it_is_read(tmp_path: Path) -> None:
    """The readers rename the second of two columns of one name (text.1, text_1), and
    --text-col text read the first without a word."""
    path = tmp_path / "twice.csv"
    path.write_text("text,category,text,note,note\nhello,billing,other,a,b\n", encoding="utf-8")
    with pytest.raises(TriageError, match=r"twice\.csv: two columns are named 'text' \(columns"
                       r" 1 and 3\); rename one"):
        evaluate.read_labeled(path, ["text"], "category")
    path.write_text("text,category,body,note,note\nhello,billing,other,a,b\n", encoding="utf-8")
    assert evaluate.read_labeled(path, ["text"], "category")[1].tolist() == ["billing"]
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array(["x"]), pa.array(["billing"]), pa.array(["y"])],
                                 names=["text", "category", "text"])
    pq.write_table(table, tmp_path / "twice.parquet")
    with pytest.raises(TriageError, match=r"twice\.parquet: two columns are named 'text'"):
        evaluate.read_labeled(tmp_path / "twice.parquet", ["text"], "category")


def test_the_table_keeps_long_labels_apart_and_drops_bidi_controls() -> None:
    prefix = "customer_support_request_category_"
    report = {"task": "category", "accuracy": 1.0, "macro_f1": 1.0, "n_train": 2, "n_test": 2,
              "n_skipped": 0, "seconds": 0.1,
              "per_class": {f"{prefix}balance_after_bank_transfer":
                            {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
                            f"{prefix}balance_after_cheque_or_cash":
                            {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
                            "refund\u202eevil": {"precision": 1.0, "recall": 1.0, "f1": 1.0,
                                                  "support": 1}}}
    table = evaluate.format_report(report).splitlines()[-3:]
    names = [line[:48].rstrip() for line in table]
    assert names == ["customer_support_reques…ance_after_bank_transfer",
                     "customer_support_reques…nce_after_cheque_or_cash", "refundevil"]
    assert len({len(line) for line in table}) == 1  # the number columns line up


def test_a_label_with_a_line_break_keeps_its_row_in_the_table(tmp_path: Path) -> None:
    relabel = {"billing": "bill\ning"}
    train = write_csv(tmp_path / "nl_train.csv", [
        {**r, "category": relabel.get(r["category"], r["category"])} for r in rows(0, 10)])
    test = write_csv(tmp_path / "nl_test.csv", [
        {**r, "category": relabel.get(r["category"], r["category"])} for r in rows(20, 4)])
    text = evaluate.format_report(evaluate.evaluate_category(train, test, ["text"], "category"))
    table = text[text.index("label "):].splitlines()
    assert len(table) == 1 + len(TOPICS) and table[1].startswith("bill ing ")


def test_text_columns_are_joined_and_empty_labels_skipped() -> None:
    df = pd.DataFrame({"subject": ["Refund", "", None, "Late"],
                       "body": ["charged twice", "lost parcel", "x", None],
                       "label": ["billing", "shipping", "", " shipping "]})
    texts, labels, skipped = evaluate.frame_texts(df, ["subject", "body"], "label")
    assert texts.tolist() == ["Refund\ncharged twice", "lost parcel", "Late"]  # one per line
    assert labels.tolist() == ["billing", "shipping", "shipping"]
    assert skipped == 1
    with pytest.raises(TriageError, match="no column 'text'"):
        evaluate.frame_texts(df, ["text"], "label")


# -- triage evaluate ---------------------------------------------------------------------------


def test_category_json_report(files: dict[str, Path]) -> None:
    r = triage("evaluate", "--task", "category", "--train", str(files["train"]),
               "--test", str(files["test"]), "--text-col", "text", "--label-col", "category",
               "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # the whole of stdout is one JSON object
    assert isinstance(report, dict)
    assert {"accuracy", "macro_f1", "per_class", "n_train", "n_test", "seconds",
            "n_skipped"} <= set(report)
    assert (report["n_train"], report["n_test"], report["n_skipped"]) == (60, 30, 3)
    assert set(report["per_class"]) == set(TOPICS)
    for m in report["per_class"].values():
        assert set(m) == {"precision", "recall", "f1", "support"}
        assert m["support"] == 10
    # accuracy is the support-weighted recall
    weighted = sum(m["recall"] * m["support"] for m in report["per_class"].values()) / 30
    assert report["accuracy"] == pytest.approx(weighted)
    assert report["accuracy"] >= 0.9 and report["macro_f1"] >= 0.9
    assert report["seconds"] > 0
    # the configuration chosen by CV on TRAIN, and the plain baselines of the same run
    sel = report["selection"]
    names = [c["name"] for c in sel["candidates"]]
    assert sel["chosen"] in names and "plain" in names
    scored = [c for c in sel["candidates"] if c["score"] is not None]
    assert max(scored, key=lambda c: c["score"])["name"] == sel["chosen"] or any(
        c["score"] == max(x["score"] for x in scored) for c in scored
        if c["name"] == sel["chosen"])
    base = report["baseline"]
    assert set(base) == {"majority", "tfidf_svm"}
    assert base["majority"]["accuracy"] == pytest.approx(10 / 30)  # three classes of ten
    assert base["tfidf_svm"]["C"] in (0.1, 0.3, 1.0, 3.0)
    best = max(b["macro_f1"] for b in base.values())
    assert report["margin"]["macro_f1"] == pytest.approx(report["macro_f1"] - best, abs=1e-4)


def test_readable_table_without_json(files: dict[str, Path],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "evaluate", "--task", "category",
                              "--train", str(files["train"]), "--test", str(files["test"]),
                              "--text-col", "text", "--label-col", "category")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("task category: accuracy ")
    assert "test rows 30" in lines[1] and "skipped (empty label) 3" in lines[1]
    head = next(i for i, line in enumerate(lines) if line.startswith("label "))
    assert lines[head].split() == ["label", "precision", "recall", "f1", "support"]
    assert sorted(line.split()[0] for line in lines[head + 1:]) == sorted(TOPICS)
    between = "\n".join(lines[2:head])
    assert "configuration 'default'" in between or "configuration 'plain" in between
    assert "baseline majority:" in between and "baseline tfidf_svm (C = " in between
    assert "margin over the best baseline: accuracy " in between
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_two_text_columns_are_used_together(files: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    args = ["evaluate", "--task", "category", "--train", str(files["split_train"]),
            "--test", str(files["split_test"]), "--label-col", "category", "--json"]
    code, out, _ = run_main(capsys, *args, "--text-col", "body")
    body_only = json.loads(out)
    code2, out2, _ = run_main(capsys, *args, "--text-col", "subject", "--text-col", "body")
    both = json.loads(out2)
    assert code == code2 == 0
    assert body_only["accuracy"] <= 0.5  # the body alone says nothing about the topic
    assert both["accuracy"] >= 0.9


def test_sentiment_zero_shot_and_trained(files: dict[str, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    common = ["evaluate", "--task", "sentiment", "--test", str(files["senti"]),
              "--text-col", "text", "--label-col", "sentiment", "--json"]
    code, out, err = run_main(capsys, *common)
    assert code == 0, err
    zero = json.loads(out)
    assert (zero["mode"], zero["n_train"], zero["n_test"]) == ("zero-shot", 0, 12)
    assert zero["per_class"]["positive"]["recall"] == 1.0
    assert zero["per_class"]["negative"]["recall"] == 1.0
    assert zero["accuracy"] >= 0.75
    cal = zero["calibration"]  # of the texts called negative, how many are negative
    neg = zero["per_class"]["negative"]
    assert cal["negative"]["right"] == pytest.approx(neg["precision"], abs=1e-4)
    called = sum(row[zero["confusion"]["labels"].index("negative")]
                 for row in zero["confusion"]["matrix"])
    assert cal["negative"]["predicted"] == called
    assert f"of {called:,} called negative are negative" in cal["note"]
    code, out, err = run_main(capsys, *common, "--train", str(files["senti_train"]))
    assert code == 0, err
    trained = json.loads(out)
    assert (trained["mode"], trained["n_train"], trained["n_test"]) == ("trained", 60, 12)
    assert set(trained["per_class"]) == {"negative", "neutral", "positive"}  # labels lowered
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment",
                            "--test", str(files["bad_senti"]), "--text-col", "text",
                            "--label-col", "sentiment")
    assert code == 1
    assert err == ("error: bad_senti.csv, row 1, column 'sentiment': 'meh' is not negative,"
                   " neutral or positive\n")


def test_mistakes_are_one_line_errors(files: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    r = triage("evaluate", "--task", "category", "--train", str(files["train"]),
               "--test", str(files["test"]), "--text-col", "txt", "--label-col", "category")
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "train.csv: no column 'txt'" in lines[0] and "Traceback" not in r.stderr

    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--test",
                            str(files["test"]), "--text-col", "text", "--label-col", "category")
    assert (code, err) == (1, "error: --task category needs --train TRAIN.csv\n")
    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--train",
                            str(tmp_path / "missing.csv"), "--test", str(files["test"]),
                            "--text-col", "text", "--label-col", "category")
    assert code == 1 and err == f"error: {tmp_path / 'missing.csv'}: file not found\n"
    one = write_csv(tmp_path / "one.csv", [{"text": "a", "category": "billing"}] * 3)
    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--train", str(one),
                            "--test", str(files["test"]), "--text-col", "text",
                            "--label-col", "category")
    assert (code, err) == (1, "error: one.csv: need at least two labels to train\n")
    # every row a field longer than the header: pandas read the first field as the index
    longer = tmp_path / "longer.csv"
    longer.write_text("text,category\nrefund please, order 12,refund\n"
                      "charged twice, order 12,billing\n")
    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--train",
                            str(files["train"]), "--test", str(longer), "--text-col", "text",
                            "--label-col", "category")
    assert code == 1 and "row 1: 3 fields where the header has 2" in err
    assert err.count("\n") == 1


def test_semicolon_tab_parquet_and_json_files_are_read(files: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Labeled sets come as Excel's semicolon CSV, TSV, Parquet or JSON as often as comma CSV;
    each was read as one column named by the whole header line ("no column 'text'")."""
    train = pd.read_csv(files["train"], dtype=str, keep_default_na=False)
    test = pd.read_csv(files["test"], dtype=str, keep_default_na=False)
    test.to_csv(tmp_path / "test_semi.csv", sep=";", index=False)
    test.to_csv(tmp_path / "test.tsv", sep="\t", index=False)
    test.to_parquet(tmp_path / "test.parquet")
    test.to_json(tmp_path / "test.jsonl", orient="records", lines=True)
    train.to_json(tmp_path / "train.json", orient="records")
    x, y, skipped = evaluate.read_labeled(files["test"], ["text"], "category")
    for name in ("test_semi.csv", "test.tsv", "test.parquet", "test.jsonl"):
        got = evaluate.read_labeled(tmp_path / name, ["text"], "category")
        assert got[0].tolist() == x.tolist() and got[1].tolist() == y.tolist(), name
        assert got[2] == skipped
    report = evaluate.evaluate_category(tmp_path / "train.json", tmp_path / "test.parquet",
                                        ["text"], "category")
    assert report["n_train"] == 60 and report["n_test"] == len(y) and report["accuracy"] > 0.8
    # numbers as labels: whole numbers without ".0", missing labels skipped
    pd.DataFrame({"text": ["a", "b", "c"], "stars": [1.0, None, 5.0]}).to_parquet(
        tmp_path / "stars.parquet")
    _, labels, skipped = evaluate.read_labeled(tmp_path / "stars.parquet", ["text"], "stars")
    assert labels.tolist() == ["1", "5"] and skipped == 1
    # a Parquet file's struct columns by dotted names too, as the import reads them
    pd.DataFrame({"text": ["a", "b", "c"], "custom": [
        {"topic": {"name": "billing"}}, {"topic": {"name": "login"}}, None]}).to_parquet(
        tmp_path / "structs.parquet")
    texts, labels, skipped = evaluate.read_labeled(tmp_path / "structs.parquet", ["text"],
                                                   "custom.topic.name")
    assert (texts.tolist(), labels.tolist(), skipped) == (["a", "b"], ["billing", "login"], 1)
    # nested fields by their dotted names, as the import offers them (a Zendesk API export
    # wrapped in {"results": [...]}); they were one column holding the object's text
    nested = {"results": [
        {"id": 1, "description": "refund please", "custom": {"topic": "billing"}},
        {"id": 2, "description": "cannot log in", "custom": {"topic": None}},
        {"id": 3, "description": "app crashes", "custom": {"topic": "app", "x": {"y": 1}}}]}
    (tmp_path / "nested.json").write_text(json.dumps(nested), encoding="utf-8")
    texts, labels, skipped = evaluate.read_labeled(tmp_path / "nested.json", ["description"],
                                                   "custom.topic")
    assert texts.tolist() == ["refund please", "app crashes"]
    assert labels.tolist() == ["billing", "app"] and skipped == 1
    (tmp_path / "nested.jsonl").write_text(
        "\n".join(json.dumps(r) for r in nested["results"]), encoding="utf-8")
    assert evaluate.read_labeled(tmp_path / "nested.jsonl", ["description"],
                                 "custom.topic")[1].tolist() == ["billing", "app"]
    # a page of Zendesk's export, wrapped as the import takes it
    page = {"tickets": nested["results"], "next_page": None, "end_of_stream": True}
    (tmp_path / "page.json").write_text(json.dumps(page), encoding="utf-8")
    assert evaluate.read_labeled(tmp_path / "page.json", ["description"],
                                 "custom.topic")[1].tolist() == ["billing", "app"]
    (tmp_path / "scalars.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(TriageError, match=r"scalars\.json, row 1: a JSON number, not an object"):
        evaluate.read_labeled(tmp_path / "scalars.json", ["text"], "category")
    # read as the import reads it: a Zendesk custom field by its id; a list is no label
    zendesk = [{"id": 1, "description": "refund please", "tags": ["web", "billing"],
                "custom_fields": [{"id": 360001, "value": "billing"}, {"id": 7, "value": None}]},
               {"id": 2, "description": "cannot log in", "tags": [],
                "custom_fields": [{"id": 360001, "value": "login"}]}]
    (tmp_path / "zendesk.json").write_text(json.dumps(zendesk), encoding="utf-8")
    texts, labels, _ = evaluate.read_labeled(tmp_path / "zendesk.json", ["description"],
                                             "custom_fields.360001")
    assert labels.tolist() == ["billing", "login"]
    with pytest.raises(TriageError, match=r"zendesk\.json, row 1, column 'tags': .* is a list"):
        evaluate.read_labeled(tmp_path / "zendesk.json", ["description"], "tags")


def test_unreadable_files_name_the_problem(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,category\nr\xe9sum\xe9 wrong,billing\n".encode("latin-1"))
    with pytest.raises(TriageError, match=r"latin.csv, row 1, column 'text': bytes that are "
                       "not UTF-8"):
        evaluate.read_labeled(latin, ["text"], "category")
    # a German Excel export: semicolons, Windows-1252: the column is named, not the header
    excel = tmp_path / "excel.csv"
    excel.write_bytes("label;text\r\nbilling;Zahlung f\xfcr M\xe4rz\r\n".encode("cp1252"))
    with pytest.raises(TriageError, match=r"excel.csv, row 1, column 'text': bytes that are "
                       "not UTF-8"):
        evaluate.read_labeled(excel, ["text"], "label")
    # such bytes in the header (a header in Windows-1252, random bytes): no row and no column
    # of garbage (a binary file's first line was quoted whole as the column name)
    for name, head in (("hdr.csv", "text,cat\xe9gorie\nhello,billing\n".encode("latin-1")),
                       ("random.csv", bytes(0x80 + i * 37 % 128 for i in range(3000)))):
        (tmp_path / name).write_bytes(head)
        with pytest.raises(TriageError) as caught:
            evaluate.read_labeled(tmp_path / name, ["text"], "category")
        assert re.fullmatch(rf"{name}: bytes that are not UTF-8 in the header line \(byte \d+\);"
                            r" save the file as UTF-8 \(in Excel: 'CSV UTF-8'\)",
                            str(caught.value)), str(caught.value)
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(TriageError, match=r"bad\.parquet: cannot read as Parquet"):
        evaluate.read_labeled(tmp_path / "bad.parquet", ["text"], "category")
    (tmp_path / "bad.json").write_text('[{"text": "a", ')
    with pytest.raises(TriageError, match=r"bad\.json: cannot read as JSON"):
        evaluate.read_labeled(tmp_path / "bad.json", ["text"], "category")
    # a workbook or an archive read as CSV was one column named after its first bytes
    import gzip
    import zipfile

    with zipfile.ZipFile(tmp_path / "tickets.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(TriageError, match=r"tickets\.xlsx: a spreadsheet workbook, not a CSV: "
                       "save it as 'CSV UTF-8'"):
        evaluate.read_labeled(tmp_path / "tickets.xlsx", ["text"], "category")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    with pytest.raises(TriageError, match=r"old\.xls: a spreadsheet workbook"):
        evaluate.read_labeled(tmp_path / "old.xls", ["text"], "category")
    (tmp_path / "export.csv").write_bytes(gzip.compress(b"text,category\nhi,billing\n"))
    with pytest.raises(TriageError, match=r"export\.csv: a gzip-compressed file, not a CSV, "
                       "Parquet or JSON file: unpack it, or save the workbook"):
        evaluate.read_labeled(tmp_path / "export.csv", ["text"], "category")
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as z:
        z.writestr("export.csv", "text,category\nhi,billing\n")
    with pytest.raises(TriageError, match=r"export\.zip: a ZIP archive or a spreadsheet workbook"):
        evaluate.read_labeled(tmp_path / "export.zip", ["text"], "category")


def test_config_file_reaches_both_tasks(files: dict[str, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    everything_neutral = tmp_path / "bands.toml"
    everything_neutral.write_text("[sentiment]\nneg_threshold = -1.0\npos_threshold = 1.0\n")
    code, out, err = run_main(capsys, "evaluate", "--task", "sentiment", "--test",
                              str(files["senti"]), "--text-col", "text", "--label-col",
                              "sentiment", "--json", "--config", str(everything_neutral))
    assert code == 0, err
    report = json.loads(out)
    assert report["per_class"]["neutral"]["recall"] == 1.0
    assert report["per_class"]["positive"]["recall"] == 0.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[classifier]\nsemantic_weight = -1\n")
    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--train",
                            str(files["train"]), "--test", str(files["test"]), "--text-col",
                            "text", "--label-col", "category", "--config", str(bad))
    assert code == 1
    assert "semantic_weight" in err and len(err.splitlines()) == 1
    huge = tmp_path / "huge.toml"  # features are float32: 1e39 overflowed to infinity
    huge.write_text("[classifier]\nsemantic_max_weight = 1e39\n")
    code, _, err = run_main(capsys, "evaluate", "--task", "category", "--train",
                            str(files["train"]), "--test", str(files["test"]), "--text-col",
                            "text", "--label-col", "category", "--config", str(huge))
    assert code == 1 and "Traceback" not in err, err
    assert "semantic_max_weight" in err and len(err.splitlines()) == 1


def test_labels_the_training_file_lacks_are_said(files: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A test file of categories the model never saw scores 0: the report says why."""
    new = write_csv(tmp_path / "new.csv", [{"text": r["text"], "category": "brand_new"}
                                           for r in rows(20, 2)])
    code, out, err = run_main(capsys, "evaluate", "--task", "category", "--train",
                              str(files["train"]), "--test", str(new), "--text-col", "text",
                              "--label-col", "category")
    assert code == 0 and err == "", err
    assert "note: 6 of 6 test rows have a label the training file does not have " \
           "('brand_new')" in out


def test_empty_training_texts_are_one_line_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    empty = write_csv(tmp_path / "empty.csv", [{"text": "", "category": "ab"[i % 2]}
                                               for i in range(40)])
    code, out, err = run_main(capsys, "evaluate", "--task", "category", "--train", str(empty),
                              "--test", str(empty), "--text-col", "text", "--label-col",
                              "category")
    assert code == 1 and out == ""
    assert "no words to learn from" in err and len(err.splitlines()) == 1, err


def test_a_wrong_sentiment_label_is_quoted_as_the_file_has_it() -> None:
    from triage_core.models.sentiment_labels import check_sentiment_labels

    with pytest.raises(TriageError, match=r"^f\.csv, row 7, column 'mood': 'NEG' is not"
                       r" negative, neutral or positive$"):  # it said 'neg'; now its data row
        check_sentiment_labels(pd.Series(["Positive", "NEG", "neutral"]), "f.csv", "mood",
                                [3, 7, 9])
    with pytest.raises(TriageError, match=r"row 2, column 'mood': '-1' is not negative, neutral"
                       r" or positive \(numbers or stars: give --label-map, for example "
                       r"'0=negative,2=neutral,4=positive'\)"):
        check_sentiment_labels(pd.Series(["positive", "-1"]), "f.csv", "mood")
    assert check_sentiment_labels(pd.Series(["Positive", "NEUTRAL"]), "f.csv",
                                   "mood").tolist() == ["positive", "neutral"]


def test_labels_spelled_in_several_ways_are_named(files: dict[str, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """'Billing' and 'billing' are two categories to any model: the report says so, with the
    counts of each spelling, on the CLI, in --json and for an uploaded file."""
    assert evaluate.label_variants(["billing", "login", "billing"]) == []
    records = rows(0, 20)
    label = records[0]["category"]
    for r in records[:3]:
        r["category"] = f"  {label.upper()}  "  # stripped, but still another case
    train = write_csv(tmp_path / "variants.csv", records)
    code, out, err = run_main(capsys, "evaluate", "--task", "category", "--train", str(train),
                              "--test", str(files["test"]), "--text-col", "text",
                              "--label-col", "category", "--json")
    assert code == 0, err
    (warning,) = json.loads(out)["warnings"]
    assert warning.startswith("1 label is spelled in several ways (case or spacing) in the "
                              "training and test files")
    assert f"{label!r} (27)" in warning and f"{label.upper()!r} (3)" in warning
    code, out, _ = run_main(capsys, "evaluate", "--task", "category", "--train", str(train),
                            "--test", str(files["test"]), "--text-col", "text",
                            "--label-col", "category")
    assert code == 0 and f"warning: {warning}" in out.splitlines()
    clean = evaluate.evaluate_category(files["train"], files["test"], ["text"], "category")
    assert clean["warnings"] == []
    many = evaluate.label_variants([f"Topic {i}" for i in range(5)]
                                   + [f"topic  {i}" for i in range(5)], "x.csv")
    assert many[0].startswith("5 labels are spelled") and "and 2 more" in many[0]
    # an uploaded file on the Model quality page (scored by the active model)
    from triage_core.models.classifier import build_classifier

    model = build_classifier().fit([r["text"] for r in rows(0, 5)],
                                   [r["category"] for r in rows(0, 5)])
    frame = pd.DataFrame(records)
    report = evaluate.evaluate_model(model, frame, ["text"], "category")
    assert report["warnings"] == [warning.replace("the training and test files", "the file")
                                  .replace(f"{label!r} (27)", f"{label!r} (17)")]


# -- --predictions: each test row's prediction, for looking at the mistakes ------------------


def test_category_predictions_file(files: dict[str, Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "predicted.csv"
    code, stdout, err = run_main(capsys, "evaluate", "--task", "category",
                                 "--train", str(files["train"]), "--test", str(files["test"]),
                                 "--text-col", "text", "--label-col", "category",
                                 "--predictions", str(out), "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["predictions"] == {"file": str(out), "rows": 30}
    got = pd.read_csv(out, dtype={"label": str, "predicted": str})
    assert list(got.columns) == ["row", "label", "predicted", "correct", "confidence", "text"]
    # every labeled test row, named by its data row in the test file (row 31, unlabeled, is not)
    test = pd.read_csv(files["test"], dtype=str, keep_default_na=False)
    assert got["row"].tolist() == list(range(1, 31))
    assert got["text"].tolist() == test["text"].iloc[:30].tolist()
    assert got["label"].tolist() == test["category"].iloc[:30].tolist()
    assert (got["correct"] == (got["label"] == got["predicted"])).all()
    assert got["correct"].mean() == pytest.approx(report["accuracy"])
    assert got["confidence"].between(0, 1).all()


def test_sentiment_predictions_file(files: dict[str, Path], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    for train in ([], ["--train", str(files["senti_train"])]):
        out = tmp_path / f"sentiment{len(train)}.csv"
        code, stdout, err = run_main(capsys, "evaluate", "--task", "sentiment", *train,
                                     "--test", str(files["senti"]), "--text-col", "text",
                                     "--label-col", "sentiment", "--predictions", str(out),
                                     "--json")
        assert code == 0, err
        report = json.loads(stdout)
        got = pd.read_csv(out)
        assert list(got.columns) == ["row", "label", "predicted", "correct", "score", "text"]
        assert len(got) == report["n_test"] == 12
        assert got["correct"].mean() == pytest.approx(report["accuracy"])
        assert got["score"].between(-1, 1).all()
        # a text called positive scores above one called negative
        assert (got.loc[got["predicted"] == "positive", "score"].min()
                > got.loc[got["predicted"] == "negative", "score"].max())


def test_predictions_are_safe_in_a_spreadsheet_and_never_replace_an_input(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cell starting with = (a ticket's =HYPERLINK(...)) ran as a formula in a spreadsheet;
    and the output went through ".NAME.tmp", so a test file of that name was overwritten and
    renamed away."""
    evil = '=HYPERLINK("http://x","y")'
    test = [{**r, "text": f"+{r['text']}", "category": evil if r["category"] == "login"
             else r["category"]} for r in rows(20, 4)]
    train = [{**r, "category": evil if r["category"] == "login" else r["category"]}
             for r in rows(0, 20)]
    test_path = write_csv(tmp_path / ".p.csv.tmp", test)
    before = test_path.read_bytes()
    out = tmp_path / "p.csv"
    code, _, err = run_main(capsys, "evaluate", "--task", "category",
                            "--train", str(write_csv(tmp_path / "evil_train.csv", train)),
                            "--test", str(test_path), "--text-col", "text",
                            "--label-col", "category", "--predictions", str(out))
    assert code == 0, err
    assert test_path.read_bytes() == before
    got = pd.read_csv(out, dtype=str)
    assert (got["text"].str[:2] == "'+").all()
    assert set(got.loc[got["label"].str.contains("HYPERLINK"), "label"]) == {f"'{evil}"}
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")
                and p != test_path]
    # a long name the file system takes (250 characters): its temporary file was named after
    # it, too long, and refused ("File name too long")
    long = tmp_path / ("p" * 246 + ".csv")
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment", "--test",
                            str(files["senti"]), "--text-col", "text", "--label-col",
                            "sentiment", "--predictions", str(long))
    assert code == 0 and long.is_file(), err


def test_predictions_never_overwrite_an_input_and_fail_before_the_work(
        files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = files["test"].read_bytes()
    code, _, err = run_main(capsys, "evaluate", "--task", "category",
                            "--train", str(files["train"]), "--test", str(files["test"]),
                            "--text-col", "text", "--label-col", "category",
                            "--predictions", str(files["test"]))
    assert code == 1
    assert err == (f"error: --predictions {files['test']}: that is an input file; choose "
                   "another name\n")
    assert files["test"].read_bytes() == before
    missing = tmp_path / "no-such-folder" / "p.csv"
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment",
                            "--test", str(files["senti"]), "--text-col", "text",
                            "--label-col", "sentiment", "--predictions", str(missing))
    assert code == 1
    assert err == (f"error: --predictions {missing}: no folder "
                   f"{str(missing.parent)!r}\n")
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment",
                            "--test", str(files["senti"]), "--text-col", "text",
                            "--label-col", "sentiment", "--predictions", str(tmp_path))
    assert code == 1 and err == f"error: --predictions {tmp_path}: a folder, not a file\n"
    # a folder nothing can be written in (/proc; a read-only mount): said before the work,
    # not after a long fit (root may write in a folder without the permission, so not chmod)
    code, _, err = run_main(capsys, "evaluate", "--task", "category",
                            "--train", str(files["train"]), "--test", str(files["test"]),
                            "--text-col", "text", "--label-col", "category",
                            "--predictions", "/proc/triage-predictions.csv")
    assert code == 1 and err.startswith("error: --predictions /proc/triage-predictions.csv: "
                                        "cannot write a file in '/proc' (")
    assert "train" not in err and err.count("\n") == 1
    # a typo of --db: the database was overwritten with the CSV
    db = tmp_path / "triage.duckdb"
    Store(db).close()
    kept = db.read_bytes()
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment",
                            "--test", str(files["senti"]), "--text-col", "text",
                            "--label-col", "sentiment", "--predictions", str(db))
    assert code == 1 and err == (f"error: --predictions {db}: an existing file that is not"
                                 " text (a DuckDB database); it would be overwritten: choose"
                                 " another name\n")
    assert db.read_bytes() == kept
    with Store(db) as store:  # still a database
        assert store.scalar("SELECT count(*) FROM tickets") == 0
    # an earlier predictions file is replaced
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("row,label\n1,x\n", encoding="utf-8")
    code, _, err = run_main(capsys, "evaluate", "--task", "sentiment",
                            "--test", str(files["senti"]), "--text-col", "text",
                            "--label-col", "sentiment", "--predictions", str(earlier))
    assert code == 0, err
    assert "predicted" in earlier.read_text(encoding="utf-8").splitlines()[0]


def test_spreadsheet_safe_quotes_formulas_only() -> None:
    from triage_core.store.formats import spreadsheet_safe

    frame = pd.DataFrame({"text": ["=1+1", "+49 30 1234", "-", "@sum(A1)", "fine", None,
                                   "\tx"],
                          "score": [-0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    safe = spreadsheet_safe(frame)
    assert safe["text"].fillna("<missing>").tolist() == [
        "'=1+1", "'+49 30 1234", "'-", "'@sum(A1)", "fine", "<missing>", "'\tx"]
    assert safe["score"].tolist() == frame["score"].tolist()  # numbers stay numbers
    assert frame["text"].iloc[0] == "=1+1"  # the input is left as it was


def test_a_broken_csv_row_is_named_by_its_data_row(tmp_path: Path) -> None:
    """pandas' own words named a line of the file ("Expected 2 fields in line 51, saw 3")."""
    lines = ["text,category", *[f"text {i},billing" for i in range(1, 10)]]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("\n".join([*lines[:5], "a,b,c", *lines[5:]]) + "\n", encoding="utf-8")
    with pytest.raises(TriageError, match=r"^ragged\.csv: cannot read as CSV \(row 5: 3 fields"
                       r" where the header has 2"):
        evaluate.read_labeled(ragged, ["text"], "category")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(TriageError, match=r"^empty\.csv: empty: no header line and no rows$"):
        evaluate.read_labeled(empty, ["text"], "category")


def test_a_parquet_file_under_a_csv_name_is_named(tmp_path: Path) -> None:
    """Read as CSV, its bytes were one column "PAR1\\x15\\x04..." in a not-UTF-8 message."""
    frame = pd.DataFrame({"text": ["a"], "category": ["b"]})
    frame.to_parquet(tmp_path / "export.csv")
    with pytest.raises(TriageError, match=r"^export\.csv: a Parquet file under a \.csv name:"
                       r" name it \.parquet$"):
        evaluate.read_labeled(tmp_path / "export.csv", ["text"], "category")


def test_files_of_another_shape_are_named(tmp_path: Path) -> None:
    """UTF-16 (Excel's 'Unicode Text') and a JSON object of text: label pairs got messages
    of bytes or of 15 whole ticket texts as "columns"."""
    (tmp_path / "u16.csv").write_bytes("text,category\nhello,billing\n".encode("utf-16"))
    with pytest.raises(TriageError, match=r"^u16\.csv: the file is UTF-16 text"):
        evaluate.read_labeled(tmp_path / "u16.csv", ["text"], "category")
    pairs = {f"my parcel number {i} has not arrived yet, please check": "shipping"
             for i in range(20)}
    (tmp_path / "pairs.json").write_text(json.dumps(pairs), encoding="utf-8")
    with pytest.raises(TriageError, match=r"^pairs\.json: no column 'text', and the file is one"
                       r" record of 20 fields, not one record per ticket"):
        evaluate.read_labeled(tmp_path / "pairs.json", ["text"], "category")
    (tmp_path / "spaced.csv").write_text(" text ,Category\nhello,billing\n", encoding="utf-8")
    with pytest.raises(TriageError, match=r"no column 'text' \(columns: ' text ', 'Category'\)"):
        evaluate.read_labeled(tmp_path / "spaced.csv", ["text"], "category")


def test_a_broken_json_lines_record_is_named_by_its_line(tmp_path: Path) -> None:
    """DuckDB's words named the line after a record cut short (line 39 for line 38)."""
    lines = [json.dumps({"text": f"parcel {i} late", "category": "shipping"}) for i in range(5)]
    lines[2] = '{"text": "broken", "category": '
    (tmp_path / "cut.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TriageError, match=r"^cut\.jsonl: cannot read as JSON \(line 3 is not one"
                       r" complete JSON record"):
        evaluate.read_labeled(tmp_path / "cut.jsonl", ["text"], "category")


def test_texts_in_languages_sentiment_does_not_cover_are_named(files: dict[str, Path],
                                                              tmp_path: Path) -> None:
    """German texts were scored neutral and counted without a word, where the pipeline
    leaves such tickets unscored."""
    german = ["Ich bin sehr unzufrieden, der Flug war schrecklich und niemand hat geholfen",
              "Vielen Dank, das Personal war wirklich freundlich und alles hat geklappt"]
    rows_ = [{"text": t, "sentiment": s} for t, s in zip(german, ("negative", "positive"),
                                                         strict=True)]
    rows_ += [{"text": t, "sentiment": "positive"} for t in POSITIVE]
    test = write_csv(tmp_path / "de.csv", rows_)
    report = evaluate.evaluate_sentiment(None, test, ["text"], "sentiment")
    assert [w for w in report["warnings"] if "languages" in w] == [
        "de.csv: 2 of 6 texts read as languages the sentiment model does not cover (de 2): the"
        " pipeline leaves such tickets unscored, but they are scored (mostly neutral) in these"
        " figures"]
    english = evaluate.evaluate_sentiment(None, files["senti"], ["text"], "sentiment")
    assert not [w for w in english["warnings"] if "languages" in w]
    # too short to detect: counted by their script, as the pipeline leaves them unscored too
    rows_ = [{"text": "退款还没到", "sentiment": "negative"},
             {"text": "Très déçu", "sentiment": "negative"}, *rows_[2:]]
    short = evaluate.evaluate_sentiment(None, write_csv(tmp_path / "zh.csv", rows_), ["text"],
                                        "sentiment")
    assert [w for w in short["warnings"] if "languages" in w] == [
        "zh.csv: 1 of 6 texts read as languages the sentiment model does not cover (another"
        " script 1): the pipeline leaves such tickets unscored, but they are scored (mostly"
        " neutral) in these figures"]


SENTIMENT_TEXTS = {"negative": "This is terrible, I am furious and want my money back",
                   "neutral": "My order number is 1234 and it ships on Tuesday",
                   "positive": "Thank you so much, the agent was wonderful and fixed it"}


@pytest.mark.parametrize(("scheme", "note"), [
    ({"negative": "-1", "neutral": "0", "positive": "1"},
     "labels read as numbers (the sign): -1 → negative, 0 → neutral, 1 → positive"),
    ({"negative": "0", "neutral": "1", "positive": "2"},
     "labels read as numbers (lowest negative, middle neutral, highest positive): "
     "0 → negative, 1 → neutral, 2 → positive"),
    ({"negative": "0", "neutral": "2", "positive": "4"}, "0 → negative, 2 → neutral"),
    ({"negative": "0", "positive": "4"},
     "labels read as numbers (lowest negative, highest positive): 0 → negative, "
     "4 → positive"),
    ({"negative": "1 star", "neutral": "3 stars", "positive": "5*"},
     "labels read as stars (1-2 negative, 3 neutral, 4-5 positive): 1 star → "
     "negative, 3 stars → neutral, 5* → positive"),
    ({"negative": "★", "neutral": "★★★", "positive": "★★★★★"},
     "labels read as stars (1-2 negative, 3 neutral, 4-5 positive): "
     "★ → negative, ★★★ → neutral, ★★★★★ → positive"),
])
def test_sentiment_labels_written_as_numbers_are_read_and_said(
        scheme: dict[str, str], note: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Public sentiment sets write their labels as numbers (TweetEval 0/1/2, Sentiment140
    0/4, -1/0/1, stars); evaluate refused them and asked to edit the file first."""
    records = [{"text": f"{text} {i}", "mood": scheme[label]}
               for i in range(4) for label, text in SENTIMENT_TEXTS.items() if label in scheme]
    words = write_csv(tmp_path / "words.csv", [
        {"text": f"{text} {i}", "mood": label} for i in range(4)
        for label, text in SENTIMENT_TEXTS.items() if label in scheme])
    numbers = write_csv(tmp_path / "numbers.csv", records)
    as_words = evaluate.evaluate_sentiment(None, words, ["text"], "mood", {})
    report = evaluate.evaluate_sentiment(None, numbers, ["text"], "mood", {})
    assert note in report["label_reading"]["note"]
    assert (report["accuracy"], report["per_class"]) == (as_words["accuracy"],
                                                         as_words["per_class"])
    assert "label_reading" not in as_words
    code, out, err = run_main(capsys, "evaluate", "--task", "sentiment", "--test", str(numbers),
                              "--text-col", "text", "--label-col", "mood")
    assert code == 0 and err == "" and note in out and "--label-map reads them otherwise" in out


def test_stars_one_to_five_and_a_trained_model_read_both_files_alike(tmp_path: Path) -> None:
    stars = {"negative": ["1", "2"], "neutral": ["3"], "positive": ["4", "5"]}
    records = [{"text": f"{text} {i}", "mood": stars[label][i % len(stars[label])]}
               for i in range(12) for label, text in SENTIMENT_TEXTS.items()]
    path = write_csv(tmp_path / "stars.csv", records)
    report = evaluate.evaluate_sentiment(path, path, ["text"], "mood", {})
    assert report["label_reading"]["map"] == {"1": "negative", "2": "negative", "3": "neutral",
                                              "4": "positive", "5": "positive"}
    assert report["mode"] == "trained" and set(report["per_class"]) == set(SENTIMENT_LABELS)


def test_unclear_numbers_ask_for_a_label_map_which_reads_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ten = {"negative": "1", "neutral": "5", "positive": "9"}
    records = [{"text": f"{text} {i}", "mood": ten[label]}
               for i in range(4) for label, text in SENTIMENT_TEXTS.items()]
    records[0]["mood"] = "10"
    path = write_csv(tmp_path / "ten.csv", records)
    args = ["evaluate", "--task", "sentiment", "--test", str(path), "--text-col", "text",
            "--label-col", "mood"]
    code, out, err = run_main(capsys, *args)
    assert code == 1 and out == ""
    assert err.strip() == ("error: ten.csv, column 'mood': cannot tell which of the sentiment "
                           "labels 1, 5, 9, 10 is negative, neutral or positive: give "
                           "--label-map, for example '0=negative,2=neutral,4=positive' (on the "
                           "dashboard, as the label map)")
    code, out, err = run_main(capsys, *args, "--label-map", "1=negative, 5=neutral, 9=positive")
    assert code == 1 and err.strip() == ("error: ten.csv, row 1, column 'mood': '10' is not "
                                         "negative, neutral or positive nor in --label-map")
    code, out, err = run_main(capsys, *args, "--label-map",
                              "1=negative,5=neutral,9=positive,10=Positive", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["n_test"] == len(records) and "label_reading" not in json.loads(out)
    for bad, message in [("1=neg", "'neg' is not negative, neutral or positive"),
                         ("negative", "'negative' is not VALUE=LABEL"), (",", "empty")]:
        code, out, err = run_main(capsys, *args, "--label-map", bad)
        assert code == 1 and f"error: --label-map: {message}" in err, err
    code, out, err = run_main(capsys, "evaluate", "--task", "category", "--train", str(path),
                              "--test", str(path), "--text-col", "text", "--label-col", "mood",
                              "--label-map", "1=negative")
    assert code == 1 and "--label-map is for --task sentiment" in err
    scores = write_csv(tmp_path / "scores.csv", [{"text": "fine", "mood": "0.25"},
                                                 {"text": "bad", "mood": "-0.5"}])
    with pytest.raises(TriageError, match=r"^scores\.csv, column 'mood': a sentiment label "
                       r"with decimals \('-0\.5'\) is a score, not a class"):
        evaluate.evaluate_sentiment(None, scores, ["text"], "mood", {})
    # the file at fault is named, the training file too
    words = write_csv(tmp_path / "words.csv", [{"text": "fine", "mood": "positive"}])
    with pytest.raises(TriageError, match=r"^scores\.csv, column 'mood': a sentiment label"):
        evaluate.evaluate_sentiment(scores, words, ["text"], "mood", {})
    for bad, message in [("0=negative,1=neutral,1=positive", "'1' is given twice"),
                         ("2=positive,2.0=negative", "'2.0' is given twice (also as '2')"),
                         ("A=negative,a=positive", "'a' is given twice (also as 'A')"),
                         ("1=NEG", "'NEG' is not negative")]:
        with pytest.raises(TriageError, match=re.escape(f"--label-map: {message}")):
            sentiment_labels.parse_label_map(bad)
    assert sentiment_labels.parse_label_map("0=negative; 1=neutral;2=Positive") == {
        "0": "negative", "1": "neutral", "2": "positive"}


def test_numbers_one_file_alone_reads_otherwise_ask_for_a_label_map(tmp_path: Path) -> None:
    """-1 / 0 / 1 to train on and 0 / 1 / 2 to test: read together, 0 was neutral and 2
    positive, so the test's negatives were scored as neutral without a word."""
    def write(name: str, scheme: dict[str, str]) -> Path:
        return write_csv(tmp_path / name, [
            {"text": f"{text} {i}", "mood": scheme[label]} for i in range(4)
            for label, text in SENTIMENT_TEXTS.items() if label in scheme])

    signed = write("signed.csv", {"negative": "-1", "neutral": "0", "positive": "1"})
    ordered = write("ordered.csv", {"negative": "0", "neutral": "1", "positive": "2"})
    with pytest.raises(TriageError, match=r"^ordered\.csv and signed\.csv, column 'mood': "
                       r"ordered\.csv alone reads '0' as negative, both files together as "
                       r"neutral: give --label-map"):
        evaluate.evaluate_sentiment(signed, ordered, ["text"], "mood", {})
    report = evaluate.evaluate_sentiment(signed, ordered, ["text"], "mood", {}, label_map={
        "-1": "negative", "0": "negative", "1": "neutral", "2": "positive"})
    assert report["n_test"] == 12 and "label_reading" not in report
    # 3 / 4 / 5 are stars, not negative / neutral / positive
    stars = write("stars.csv", {"negative": "3", "neutral": "4", "positive": "5"})
    reading = evaluate.evaluate_sentiment(None, stars, ["text"], "mood", {})["label_reading"]
    assert reading["map"] == {"3": "neutral", "4": "positive", "5": "positive"}


def test_test_texts_that_are_training_texts_are_said(files: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """The training file given as --test scored 1.0 without a word; a few shared texts (as
    banking77's 6 of 3,080) are not worth one."""
    same = evaluate.evaluate_category(files["train"], files["train"], ["text"], "category")
    assert [w for w in same["warnings"] if "also in train.csv" in w] == [
        "60 of the 60 test texts (100%) are also in train.csv: the figures overstate how the"
        " model does on tickets it has not seen (test on rows kept out of training)"]
    apart = evaluate.evaluate_category(files["train"], files["test"], ["text"], "category")
    assert not [w for w in apart["warnings"] if "also in" in w]
    trained = evaluate.evaluate_sentiment(files["senti_train"], files["senti_train"], ["text"],
                                          "sentiment")
    assert any("are also in senti_train.csv" in w for w in trained["warnings"])
    # blanks and case aside; under 5 % of the test texts: nothing
    texts = pd.Series([f"ticket {i}" for i in range(40)])
    assert evaluate.shared_texts(texts, pd.Series(["  TICKET   3 ", "new"]), "t.csv")
    assert evaluate.shared_texts(texts, pd.Series(["ticket 3", *[f"n {i}" for i in range(30)]]),
                                 "t.csv") == []
    blank = pd.Series(["", "  ", *[f"n {i}" for i in range(8)]])  # blank in both: not shared
    assert evaluate.shared_texts(pd.Series(["", "x"]), blank, "t.csv") == []


def test_categories_told_apart_by_a_number_are_learned(tmp_path: Path) -> None:
    """Every digit was 0 in every candidate, so "error 404" / "error 500" / "error 403" were
    one word: 0.35 accuracy where the plain baseline of the same run scored 1.0. The plain
    candidates read numbers as written, as the baseline does."""
    import random

    rng = random.Random(1)
    words = ["hello", "the", "site", "shows", "when", "i", "open", "page", "today", "again"]
    codes = {"404": "not_found", "500": "server", "403": "forbidden"}

    def records(n: int) -> list[dict[str, str]]:
        out = []
        for _ in range(n):
            code = rng.choice(sorted(codes))
            text = " ".join([*rng.sample(words, 6), "error", code, *rng.sample(words, 3)])
            out.append({"text": text, "category": codes[code]})
        return out

    train = write_csv(tmp_path / "codes_train.csv", records(150))
    test = write_csv(tmp_path / "codes_test.csv", records(60))
    report = evaluate.evaluate_category(train, test, ["text"], "category")
    plain = report["baseline"]["tfidf_svm"]
    assert plain["accuracy"] == 1.0
    assert report["accuracy"] == 1.0, report["selection"]["chosen"]


def test_excel_sep_line_names_the_delimiter(files: dict[str, Path], tmp_path: Path) -> None:
    """Excel's "sep=;" first line was read as the header: "no column 'text' (columns:
    'sep=', 'Unnamed: 1')"."""
    rows = pd.read_csv(files["test"], dtype=str, keep_default_na=False)
    path = tmp_path / "excel.csv"
    path.write_text("\ufeffsep=;\r\n" + rows.to_csv(sep=";", index=False, lineterminator="\r\n"),
                    encoding="utf-8")
    texts, labels, skipped = evaluate.read_labeled(path, ["text"], "category")
    plain = evaluate.read_labeled(files["test"], ["text"], "category")
    assert texts.tolist() == plain[0].tolist() and labels.tolist() == plain[1].tolist()
    assert skipped == plain[2] == 1


def test_a_sentiment_the_training_file_lacks_is_said(tmp_path: Path) -> None:
    """Category evaluation named test labels missing from training; sentiment did not."""
    train = write_csv(tmp_path / "st.csv", [
        {"text": f"{t} {i}", "sentiment": label} for i in range(6)
        for t, label in (("I love this so much", "positive"), ("awful and broken", "negative"))])
    test = write_csv(tmp_path / "ste.csv", [
        {"text": "what time is it", "sentiment": "neutral"},
        {"text": "great job", "sentiment": "positive"}])
    report = evaluate.evaluate_sentiment(train, test, ["text"], "sentiment")
    assert "1 test row is 'neutral', which st.csv has no row of: the trained model cannot" \
        " predict it" in report["warnings"]
    zero = evaluate.evaluate_sentiment(None, test, ["text"], "sentiment")
    assert not [w for w in zero["warnings"] if "has no row of" in w]
