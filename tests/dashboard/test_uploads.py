"""The Model quality page's labeled-file upload: read as `triage evaluate` reads a file."""

from __future__ import annotations

import io

import pandas as pd

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
