"""What pages may see: each distinct value masked once, the same as masking value by value."""

from __future__ import annotations

import numpy as np
import pytest

from triage_core import text
from triage_core.text import mask_pii, mask_values, pseudonymize

SALT = bytes(range(16))
VALUES = np.array(["ana@example.com", None, "open", "ana@example.com", 3.5, "+1 415 555 0100",
                   "CUS00042", "open", "4111 1111 1111 1111", "bob@example.org"], dtype=object)


@pytest.mark.parametrize("scalar_up_to", [0, 1024])  # the vectorized and the scalar path
def test_ids_and_labels_pseudonymized_like_one_by_one(monkeypatch: pytest.MonkeyPatch,
                                                      scalar_up_to: int) -> None:
    monkeypatch.setattr(text, "SCALAR_MASKING", scalar_up_to)
    out = mask_values(VALUES.copy(), SALT)
    expected = [pseudonymize(v, SALT) if isinstance(v, str) else v for v in VALUES]
    assert out.tolist() == expected
    assert out[0] == out[3] != out[9] and out[2] == "open" and out[4] == 3.5
    assert "@" not in out[0] and "4111" not in out[8]


def test_free_text_masked_like_one_by_one() -> None:
    out = mask_values(VALUES.copy(), SALT, free_text=True)
    assert out.tolist() == [mask_pii(v) if isinstance(v, str) else v for v in VALUES]
    assert out[0] != VALUES[0] and out[1] is None


def test_columns_without_strings_are_left_alone() -> None:
    assert mask_values(np.array([1.0, None], dtype=object), SALT) is None
