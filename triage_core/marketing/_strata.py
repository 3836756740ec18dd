"""The stratified difference in differences behind :mod:`triage_core.marketing.lift`, and its
Poisson bootstrap over customers (numpy and scipy.sparse; the cells come from DuckDB).

Input: one row per (campaign, group, stratum, d) with ``n`` customers, where d = tickets after
minus tickets before the anchor and the group is exposed (touched) or control. A touched
customer's counterfactual d is the mean d of the control customers of its stratum; a stratum
with fewer than ``min_control`` control customers is matched at the next coarser level of
:data:`LEVELS` (the last level is the whole campaign). Incremental tickets = scale x sum over
touched customers of (d - counterfactual), where scale undoes the sampling of touched customers.

Bootstrap: every customer is drawn again with a Poisson(1) weight; customers of a row share
everything the estimate uses, so a row's total weight is Poisson(n). Each replicate recomputes
the control means and the sum; the interval is the central share of the replicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["KEYS", "LEVELS", "estimate"]

KEYS = ("segment", "plan", "tenure", "prior", "other")
# Matching levels, finest first: each drops the key that matters least for d.
LEVELS: tuple[tuple[str, ...], ...] = (
    KEYS,
    ("segment", "tenure", "prior", "other"),
    ("segment", "tenure", "other"),
    ("segment", "tenure"),
    ("tenure",),
    (),
)
_CHUNK = 100  # bootstrap replicates computed at a time (bounds memory)


def _codes(cells: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Cell id (0..) of every row at a level: its campaign plus ``keys``."""
    key = cells["campaign"].to_numpy(dtype=np.int64)
    for k in keys:
        codes, uniques = pd.factorize(cells[k], use_na_sentinel=False)
        key = key * (len(uniques) + 1) + codes
    return np.unique(key, return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class _Design:
    """Sparse indicators: control rows -> matching cells, touched rows -> the cell they are
    matched in, matching cells -> campaign."""

    control: sparse.csr_matrix  # cells x rows
    exposed: sparse.csr_matrix  # cells x rows
    campaign: sparse.csr_matrix  # campaigns x cells


def _design(cells: pd.DataFrame, min_control: int, n_campaigns: int) -> _Design:
    """Match every touched row at the finest level with at least ``min_control`` control
    customers (the last level always)."""
    from scipy import sparse  # here: `triage forecast` does not pay for it

    ctrl = ~cells["exposed"].to_numpy(dtype=bool)
    n = cells["n"].to_numpy(dtype=np.float64)
    rows = np.arange(len(cells))
    chosen = np.full(len(cells), -1, dtype=np.int64)
    member_rows, member_cells, offset = [], [], 0
    for level, keys in enumerate(LEVELS):
        cid = _codes(cells, keys)
        n_ctrl = np.bincount(cid[ctrl], n[ctrl], minlength=cid.max() + 1)
        ok = ~ctrl & (chosen < 0) & ((n_ctrl[cid] >= min_control) | (level == len(LEVELS) - 1))
        chosen[ok] = offset + cid[ok]
        member_rows.append(rows[ctrl])
        member_cells.append(offset + cid[ctrl])
        offset += cid.max() + 1
    used, chosen[~ctrl] = np.unique(chosen[~ctrl], return_inverse=True)
    remap = np.full(offset, -1)
    remap[used] = np.arange(used.size)
    mr, mc = np.concatenate(member_rows), remap[np.concatenate(member_cells)]
    keep = mc >= 0
    shape = (used.size, len(cells))
    ones = np.ones
    control = sparse.csr_matrix((ones(keep.sum()), (mc[keep], mr[keep])), shape=shape)
    exposed = sparse.csr_matrix((ones((~ctrl).sum()), (chosen[~ctrl], rows[~ctrl])),
                                shape=shape)
    camp = sparse.csr_matrix(exposed @ sparse.csr_matrix(
        (ones(len(cells)), (rows, cells["campaign"].to_numpy())),
        shape=(len(cells), n_campaigns))).T
    return _Design(control, exposed, (camp > 0).astype(np.float64).tocsr())


def _incremental(design: _Design, value: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per campaign and replicate (rows x replicates ``weights``): sum over touched customers of
    (value - mean value of the control customers of their matching cell)."""
    wv = weights * value[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (design.control @ wv) / (design.control @ weights)
    gap = design.exposed @ wv - (design.exposed @ weights) * means
    return design.campaign @ gap


def estimate(cells: pd.DataFrame, scale: np.ndarray, *, min_control: int, bootstrap: int,
             interval: float, seed: int) -> pd.DataFrame:
    """Incremental tickets, negative tickets and cost per campaign with the tickets' interval.

    ``cells``: columns campaign (0..k-1), exposed, the :data:`KEYS`, d, n, d_neg (summed over
    the row's customers), d_cost (same). ``scale[j]``: touched customers of campaign j per
    touched customer in the sample. Returns one row per campaign: incremental, ci_low, ci_high,
    incremental_negative, incremental_cost, control (control customers compared); NaN where a
    campaign has no touched or no control customer.
    """
    k = len(scale)
    n = cells["n"].to_numpy(dtype=np.float64)
    ctrl = ~cells["exposed"].to_numpy(dtype=bool)
    control = np.bincount(cells["campaign"].to_numpy()[ctrl], n[ctrl], minlength=k)
    if cells.empty:
        nan = np.full(k, np.nan)
        return pd.DataFrame({"incremental": nan, "incremental_negative": nan,
                             "incremental_cost": nan, "ci_low": nan, "ci_high": nan,
                             "control": control.astype(np.int64)})
    design = _design(cells, min_control, k)
    point = {}
    for name, total in (("incremental", cells["d"] * n), ("incremental_negative",
                        cells["d_neg"]), ("incremental_cost", cells["d_cost"])):
        per = np.asarray(total, dtype=np.float64) / np.where(n > 0, n, 1.0)
        point[name] = _incremental(design, per, n[:, None])[:, 0] * scale
    rng = np.random.default_rng(seed)
    d = cells["d"].to_numpy(dtype=np.float64)
    draws = np.concatenate([
        _incremental(design, d, rng.poisson(n[:, None], (n.size, min(_CHUNK, bootstrap - lo)))
                     .astype(np.float64))
        for lo in range(0, bootstrap, _CHUNK)], axis=1) * scale[:, None]
    tail = (1.0 - interval) / 2.0
    low, high = np.full(k, np.nan), np.full(k, np.nan)
    for j in range(k):  # a replicate that left a matching cell without control weight is void
        v = draws[j][np.isfinite(draws[j])]
        if v.size >= bootstrap / 2:
            low[j], high[j] = np.quantile(v, [tail, 1.0 - tail])
    out = pd.DataFrame({**point, "ci_low": low, "ci_high": high,
                        "control": control.astype(np.int64)})
    out.loc[control == 0, ["incremental", "incremental_negative", "incremental_cost"]] = np.nan
    return out
