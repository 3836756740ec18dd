"""The Model quality page's labeled-file upload: read as `triage evaluate` reads a file."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from dashboard import data


def test_an_uploaded_labeled_file_is_read_like_the_cli_reads_it() -> None:
    frame = pd.DataFrame({"text": ["refund please", "cannot log in"],
                          "category": ["billing", "login"]})
    semi = frame.to_csv(sep=";", index=False).encode()
    got = data.read_labeled_upload(semi, "labels.csv")
    assert isinstance(got, pd.DataFrame) and list(got.columns) == ["text", "category"]
    buf = io.BytesIO()
    frame.to_parquet(buf)
    got = data.read_labeled_upload(buf.getvalue(), "labels.parquet")
    assert isinstance(got, pd.DataFrame) and got["category"].tolist() == ["billing", "login"]
    # a file that cannot be read is one line naming the uploaded file, not the temporary copy
    bad = data.read_labeled_upload("text,category\nr\xe9sum\xe9,billing\n".encode("latin-1"),
                                   "old.csv")
    assert isinstance(bad, str) and bad.startswith("old.csv, row 1, column 'text'")
    assert "\n" not in bad and "tmp" not in bad


def test_an_evaluated_upload_lists_each_rows_prediction_masked(
        world_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Model quality page's "Evaluate on your own labeled file": every row's prediction
    for the table of mistakes and the download, masked like everything a page shows."""
    db = tmp_path / "world.duckdb"
    shutil.copy(world_db, db)
    monkeypatch.setenv("TRIAGE_DB", str(db))
    frame = pd.DataFrame({
        "text": ["Terrible service, nobody answers at ana@example.com. I am furious!",
                 "Thank you so much, great help and a lovely team!", "no label",
                 "What are your opening hours on weekdays?"],
        "sentiment": ["negative", "negative", "", "neutral"]})
    for mask in (True, False):
        monkeypatch.setattr(data, "mask_on", lambda mask=mask: mask)
        report = data.evaluate_upload(frame, "sentiment", ["text"], "sentiment")
        rows = report["rows"]
        assert rows["row"].tolist() == [1, 2, 4]  # the unlabeled third row is skipped
        assert rows["predicted"].tolist() == ["negative", "positive", "neutral"]
        assert rows["correct"].tolist() == [True, False, True]
        assert rows["correct"].mean() == pytest.approx(report["accuracy"])
        assert ("ana@example.com" in rows["text"].iloc[0]) is not mask
    # labels written as numbers, one empty
    numbers = data.read_labeled_upload(frame.assign(sentiment=["-1", "-1", "", "0"]).to_csv(
        index=False).encode(), "numbers.csv")
    assert isinstance(numbers, pd.DataFrame)
    report = data.evaluate_upload(numbers, "sentiment", ["text"], "sentiment")
    assert report["label_reading"]["note"] == ("labels read as numbers (the sign): "
                                               "-1 → negative, 0 → neutral")
    assert report["rows"]["correct"].tolist() == [True, False, True]
    # a scheme that cannot be told: the page's label map reads it, as --label-map
    tens = numbers.assign(sentiment=["1", "10", "7", "5"])
    with pytest.raises(data.TriageError, match="cannot tell which of the sentiment labels"
                       r" 1, 5, 7, 10 .*\(on the dashboard, as the label map\)"):
        data.evaluate_upload(tens, "sentiment", ["text"], "sentiment")
    report = data.evaluate_upload(tens, "sentiment", ["text"], "sentiment",
                                  "1=negative, 5=neutral, 7=positive, 10=positive")
    assert report["rows"]["label"].tolist() == ["negative", "positive", "positive", "neutral"]
    assert "label_reading" not in report
    with pytest.raises(data.TriageError, match="--label-map: 'bad' is not VALUE=LABEL"):
        data.evaluate_upload(tens, "sentiment", ["text"], "sentiment", "bad")
    category = data.evaluate_upload(
        pd.DataFrame({"text": ["I was charged twice for my order", "my parcel never arrived"],
                      "category": ["billing", "shipping"]}), "category", ["text"], "category")
    assert len(category["rows"]) == 2
    assert category["rows"]["confidence"].between(0, 1).all()


def test_a_sessions_upload_folder_keeps_only_the_newest_file_and_goes_with_the_session(
        ) -> None:
    """Uploaded files (customer data) do not pile up in the temporary directory: a new upload
    replaces the one before, and the folder is removed when the session's state is dropped."""
    import gc

    folder = data.UploadFolder()
    root = folder.path
    first = folder.save("../../tickets.csv", b"ticket_id\n1\n")
    assert first.parent.parent == root and first.name == "tickets.csv"
    assert folder.save("tickets.csv", b"ticket_id\n1\n") == first  # the same file again: kept
    second = folder.save("more.csv", b"ticket_id\n2\n")
    assert second.read_bytes() == b"ticket_id\n2\n"
    assert not first.exists() and [p.name for p in root.iterdir()] == [second.parent.name]
    del folder
    gc.collect()
    assert not root.exists()
