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


def test_ticket_ids_keep_their_digits_and_lose_their_e_mail_addresses() -> None:
    ids = np.array(["4155550123", "LOAD20261202184442-08-00025", "TK-jane.doe@example.com",
                    None, "4111 1111 1111 1111"], dtype=object)
    out = mask_values(ids.copy(), SALT, key=True)
    # a phone-shaped or card-shaped id is still the id a helpdesk knows it by
    assert out[0] == "4155550123" and out[1] == ids[1] and out[4] == ids[4] and out[3] is None
    # an e-mail address in an id ("TK-" is part of its local part) is a keyed token, the same
    # one as elsewhere on the page
    assert "jane.doe" not in out[2] and out[2].startswith("[email ")
    assert out[2] == pseudonymize("TK-jane.doe@example.com", SALT)
    # as ids elsewhere (not keys), the same values are masked
    assert mask_values(ids.copy(), SALT)[0] != "4155550123"
