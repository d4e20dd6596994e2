"""Small synthetic panels and weights for the bad-input tests of the models and weights.

n = 20 units with 6-digit codes (130100, 130200, ..., 132000) on a ring (each unit has its two
ring neighbours), T = 5 years (2011-2015); ``y`` depends on ``x1`` and ``x2`` plus noise.
Imported by the test modules of this folder (``from _models_data import ...``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from spatialinno.weights import Weights

N, T = 20, 5
CODES = [str(130100 + 100 * i) for i in range(N)]
YEARS = list(range(2011, 2011 + T))


def ring(n: int = N) -> sp.csr_matrix:
    """Binary ring contiguity: unit i neighbours i - 1 and i + 1 (mod n)."""
    rows = np.repeat(np.arange(n), 2)
    cols = np.ravel([[(i - 1) % n, (i + 1) % n] for i in range(n)])
    C = sp.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, n))
    C.data[:] = 1.0
    return C


def ring_weights(**kw) -> Weights:
    return Weights.from_sparse(ring(), CODES, name="ring", transform="row", **kw)


def row_standardised(C: sp.spmatrix) -> sp.csr_matrix:
    rs = np.asarray(C.sum(axis=1)).ravel()
    inv = np.divide(1.0, rs, out=np.zeros_like(rs), where=rs > 0)
    return sp.csr_matrix(sp.diags(inv) @ C)


def island_matrix(island: int = 2) -> sp.csr_matrix:
    """The ring with unit ``island`` cut off (a zero row and column), binary."""
    C = ring().tolil()
    C[island, :] = 0
    C[:, island] = 0
    C = sp.csr_matrix(C)
    C.eliminate_zeros()
    return C


def panel(seed: int = 0) -> pd.DataFrame:
    """Long balanced panel, columns code (str), year (int), x1, x2, y; rows unit-major."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(c, t) for c in CODES for t in YEARS], columns=["code", "year"])
    df["x1"] = rng.standard_normal(len(df))
    df["x2"] = rng.standard_normal(len(df))
    df["y"] = 1.0 + df["x1"] - 0.5 * df["x2"] + rng.standard_normal(len(df))
    return df


def unit_values(df: pd.DataFrame, seed: int = 1) -> np.ndarray:
    """A time-invariant variable (one value per unit)."""
    vals = dict(zip(CODES, np.random.default_rng(seed).standard_normal(N), strict=True))
    return df["code"].map(vals).to_numpy()


def year_values(df: pd.DataFrame, seed: int = 2) -> np.ndarray:
    """A variable that is the same for all units in each year."""
    vals = dict(zip(YEARS, np.random.default_rng(seed).standard_normal(T), strict=True))
    return df["year"].map(vals).to_numpy()


def arrays(seed: int = 0) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix]:
    """``y`` (T, n), ``X`` (T, n, 2) and the row-standardised ring for the array API."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, N, 2))
    y = X @ np.array([1.0, -0.5]) + rng.standard_normal((T, N))
    return y, X, row_standardised(ring())
