"""Property: for any small data frame -- random dtypes per column (text, categories, booleans,
numbers stored as text), NaN, inf, constants, duplicated or collinear columns, duplicated or
missing rows, islands or an empty W -- and any model and effects, ``fit`` either returns a result
or raises a SpatialinnoError subclass; never a raw numpy/scipy/pandas error."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno.errors import SpatialinnoError
from spatialinno.models import MODELS, SpatialPanelResults, fit
from spatialinno.models.spec import FE_TYPES
from spatialinno.weights import Weights

#: Examples per test: both tests together take about 10-20 s. SPATIALINNO_HYPOTHESIS_EXAMPLES
#: raises it for a longer local search (600 each found nothing in three runs).
MAX_EXAMPLES = int(os.environ.get("SPATIALINNO_HYPOTHESIS_EXAMPLES", "150"))

# Legal inputs are over-represented so that about a third of the examples reach the estimator.
COLUMN_KINDS = ["normal"] * 12 + ["int", "int", "constant", "zero", "text", "numeric_text",
                                  "category", "bool", "nan", "inf", "copy", "combination",
                                  "unit_invariant", "time_invariant", "huge", "tiny",
                                  "object_numbers"]
FORMULAS = ["y ~ x1", "y ~ x1 + x2", "y ~ x1 + x2 + x3"] * 3 + [
    "y ~ x1 + C(x2)", "y ~ np.log(x1) + x3", "y ~ 1", "y ~ 0 + x1", "x1 ~ y + x2",
    "y ~ x1:x2 + x3", "y ~ x4", "y ~ x1 + (x2"]
WEIGHTS = ["ring"] * 4 + ["island", "empty", "binary_tuple", "tuple_nan", "tuple_shuffled"]
ROWS = ["as_is"] * 6 + ["shuffled", "duplicate_row", "drop_row", "one_year"]


def _column(kind: str, rng: np.random.Generator, df: pd.DataFrame, done: dict) -> object:
    m = len(df)
    normal = rng.standard_normal(m)
    prev = list(done.values())
    numeric = [v for v in prev if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    if kind == "int":
        return rng.integers(0, 4, m)
    if kind == "constant":
        return np.full(m, 2.5)
    if kind == "zero":
        return np.zeros(m)
    if kind == "text":
        return rng.choice(["east", "west", "n/a"], m).astype(object)
    if kind == "numeric_text":
        return normal.round(2).astype(str)
    if kind == "category":
        return pd.Categorical(rng.choice(["a", "b"], m))
    if kind == "bool":
        return normal > 0
    if kind == "nan":
        return np.where(rng.random(m) < 0.1, np.nan, normal)
    if kind == "inf":
        out = normal.copy()
        out[rng.integers(m)] = rng.choice([np.inf, -np.inf])
        return out
    if kind == "copy" and numeric:
        return numeric[-1].copy()
    if kind == "combination" and len(numeric) >= 2:
        return 2.0 * numeric[-1] - numeric[-2]
    if kind == "unit_invariant":
        vals = dict(zip(df["code"].unique(), rng.standard_normal(df["code"].nunique()),
                        strict=True))
        return df["code"].map(vals).to_numpy(dtype=float)
    if kind == "time_invariant":
        vals = dict(zip(df["year"].unique(), rng.standard_normal(df["year"].nunique()),
                        strict=True))
        return df["year"].map(vals).to_numpy(dtype=float)
    if kind == "huge":
        return normal * 1e200
    if kind == "tiny":
        return normal * 1e-200
    if kind == "object_numbers":
        return normal.astype(object)
    return normal


def _weights(kind: str, codes: list[str], rng: np.random.Generator) -> object:
    n = len(codes)
    C = sp.lil_matrix((n, n))
    for i in range(n):
        C[i, (i + 1) % n] = 1.0
        C[i, (i - 1) % n] = 1.0
    C = sp.csr_matrix(C)
    if kind == "island":
        C = C.tolil()
        C[0, :] = 0
        C[:, 0] = 0
        C = sp.csr_matrix(C)
        C.eliminate_zeros()
    if kind == "empty":
        C = sp.csr_matrix((n, n))
    if kind == "binary_tuple":
        return (C, codes)
    if kind == "tuple_nan":
        D = C.toarray()
        D[0, 1] = np.nan
        return (D, codes)
    if kind == "tuple_shuffled":
        perm = rng.permutation(n)
        return (C[perm][:, perm], [codes[i] for i in perm])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Weights.from_sparse(C, codes, name=kind, transform="row")


@st.composite
def cases(draw):
    n = draw(st.integers(3, 7))
    T = draw(st.sampled_from([1, 2, 3, 3, 4, 4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = [str(130100 + 100 * i) for i in range(n)]
    df = pd.DataFrame([(c, 2011 + t) for c in codes for t in range(T)], columns=["code", "year"])
    cols: dict = {}
    for name in ("y", "x1", "x2", "x3"):
        cols[name] = _column(draw(st.sampled_from(COLUMN_KINDS)), rng, df, cols)
    df = df.assign(**cols)
    rows = draw(st.sampled_from(ROWS))
    if rows == "shuffled":
        df = df.sample(frac=1.0, random_state=1)
    elif rows == "duplicate_row":
        df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    elif rows == "drop_row" and len(df) > 1:
        df = df.drop(df.index[-1])
    elif rows == "one_year":
        df = df[df["year"] == 2011]
    return dict(formula=draw(st.sampled_from(FORMULAS)), data=df,
                w=_weights(draw(st.sampled_from(WEIGHTS)), codes, rng),
                model=draw(st.sampled_from(sorted(MODELS))),
                effects=draw(st.sampled_from(FE_TYPES)),
                lee_yu=draw(st.sampled_from([True, False, "bias"])),
                effects_draws=draw(st.sampled_from([0, 0, 20])))


@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_fit_returns_a_result_or_raises_a_spatialinno_error(case):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = fit(case["formula"], case["data"], case["w"], case["model"], case["effects"],
                      unit="code", time="year", lee_yu=case["lee_yu"],
                      effects_draws=case["effects_draws"])
        except SpatialinnoError:
            return
    assert isinstance(res, SpatialPanelResults)
    assert np.isfinite(res.params.to_numpy()).all(), res.params


# Numeric panels: every frame passes the data-entry checks' dtype and missing-value tests, so
# the examples reach the design checks and the estimator (absorbed, collinear, constant, extreme
# columns; islands, cycles, nilpotent and random W; all options).
NUMERIC_KINDS = ["normal"] * 6 + ["int", "constant", "unit_invariant", "time_invariant", "copy",
                                  "combination", "bool", "sparse", "huge", "tiny"]
W_SHAPES = ["ring", "ring", "island", "random", "cycle", "chain"]


def _numeric_column(kind: str, rng: np.random.Generator, df: pd.DataFrame, prev: list) -> object:
    if kind == "bool":
        return (rng.standard_normal(len(df)) > 0).astype(float)
    if kind == "sparse":
        return np.where(rng.random(len(df)) < 0.9, 0.0, rng.standard_normal(len(df)))
    return _column(kind, rng, df, dict(enumerate(prev)))


def _shaped_weights(shape: str, codes: list[str], rng: np.random.Generator, as_tuple: bool,
                    transform: str) -> object:
    n = len(codes)
    D = np.zeros((n, n))
    if shape in ("ring", "island"):
        for i in range(n):
            D[i, (i + 1) % n] = D[i, (i - 1) % n] = 1.0
        if shape == "island":
            D[0, :] = D[:, 0] = 0.0
    elif shape == "random":
        D = (rng.random((n, n)) < 0.4).astype(float)
        np.fill_diagonal(D, 0.0)
    elif shape == "cycle":  # directed: i -> i + 1
        D[np.arange(n), (np.arange(n) + 1) % n] = 1.0
    elif shape == "chain":  # nilpotent: i -> i + 1, no way back
        D[np.arange(n - 1), np.arange(1, n)] = 1.0
    if as_tuple:
        return (sp.csr_matrix(D), codes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Weights.from_sparse(D, codes, name=shape, transform=transform)


@st.composite
def numeric_cases(draw):
    n = draw(st.integers(3, 8))
    T = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    codes = [str(130100 + 100 * i) for i in range(n)]
    df = pd.DataFrame([(c, 2011 + t) for c in codes for t in range(T)], columns=["code", "year"])
    prev: list = []
    for name in ("y", "x1", "x2", "x3"):
        prev.append(_numeric_column(draw(st.sampled_from(NUMERIC_KINDS)), rng, df, prev))
        df[name] = prev[-1]
    return dict(formula=draw(st.sampled_from(["y ~ x1", "y ~ x1 + x2", "y ~ x1 + x2 + x3",
                                              "y ~ 0 + x1 + x2"])),
                data=df, w=_shaped_weights(draw(st.sampled_from(W_SHAPES)), codes, rng,
                                           draw(st.booleans()),
                                           draw(st.sampled_from(["row", "row", "none"]))),
                model=draw(st.sampled_from(sorted(MODELS))),
                effects=draw(st.sampled_from(FE_TYPES)),
                lee_yu=draw(st.sampled_from([True, False, "bias"])),
                cov_type=draw(st.sampled_from(["auto", "oim", "hessian"])),
                effects_method=draw(st.sampled_from(["simulation", "delta"])),
                effects_draws=draw(st.sampled_from([0, 20])))


@settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(numeric_cases())
def test_fit_on_numeric_panels_returns_a_result_or_raises_a_spatialinno_error(case):
    kw = {k: v for k, v in case.items() if k not in ("formula", "data", "w", "model", "effects")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = fit(case["formula"], case["data"], case["w"], case["model"], case["effects"],
                      unit="code", time="year", **kw)
        except SpatialinnoError:
            return
    assert isinstance(res, SpatialPanelResults)
    assert np.isfinite(res.params.to_numpy()).all(), res.params
