"""Property: on any generated indicator frame, build_index returns a sound result or raises a
SpatialinnoError subclass, never anything else.

Frames are drawn with random dtypes (float, int, nullable Int64, text with "—", numbers as text,
bool, complex, category), NaN and infinite cells, constant and near-constant columns, negative and
huge values, duplicate (unit, year) rows, text/mixed years, and random directions (valid and
not), methods, weights, dimensions, pooling and interpolation. Half of the frames are
"clean" (float columns, valid keys) so that the success path is exercised too (about half the
examples return a result). A returned result must be sound:
finite index in [0, 1], finite non-negative weights summing to 1 (per block, per year). Numpy
RuntimeWarnings (division by zero, overflow, discarded imaginary parts) are turned into errors,
so a NaN or a silent cast cannot slip through as a "result".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno.errors import SpatialinnoError, SpatialinnoWarning
from spatialinno.index import IndexResult, build_index

TOL = 1e-9
DTYPES = ["float", "float", "float", "int", "Int64", "text", "numtext", "bool", "complex",
          "category"]
VALUES = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, 1.0, -1.0, np.nan, 1e300,
                                                          -1e300, np.inf, 1e-300, 5.0]))


def _column(draw, n: int, dtype: str) -> pd.Series:
    kind = draw(st.sampled_from(["random", "constant", "near", "few"]))
    if kind == "constant":
        vals = [draw(VALUES)] * n
    elif kind == "near":
        vals = [1.0 + 1e-14 * i for i in range(n)]
    elif kind == "few":
        vals = draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, np.nan]), min_size=n, max_size=n))
    else:
        vals = draw(st.lists(VALUES, min_size=n, max_size=n))
    s = pd.Series(vals, dtype=float)
    if dtype == "int":
        return s.fillna(0).clip(-1e6, 1e6).round().astype(np.int64)
    if dtype == "Int64":
        return s.clip(-1e6, 1e6).round().astype("Int64")
    if dtype == "text":
        return s.astype(object).where(pd.Series(range(n)) != 0, "—")
    if dtype == "numtext":
        return s.astype(str)
    if dtype == "bool":
        return s > 0
    if dtype == "complex":
        return s.astype(complex)
    if dtype == "category":
        return s.astype("category")
    return s


@st.composite
def frames(draw):
    clean = draw(st.booleans())
    n_units, n_years, m = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    df = pd.DataFrame([(f"u{i}", 2000 + t) for i in range(n_units) for t in range(n_years)],
                      columns=["unit", "year"])
    cols = [f"x{j}" for j in range(m)]
    for c in cols:
        if clean:
            df[c] = draw(st.lists(st.floats(-100, 100), min_size=len(df), max_size=len(df)))
        else:
            df[c] = _column(draw, len(df), draw(st.sampled_from(DTYPES))).to_numpy()
    if clean:
        return df, cols, True
    years = draw(st.sampled_from(["int", "int", "int", "text", "mixed"]))
    if years == "text":
        df["year"] = df["year"].astype(str)
    elif years == "mixed":
        df["year"] = df["year"].astype(object)
        df.loc[0, "year"] = str(df.loc[0, "year"])
    if draw(st.booleans()) and draw(st.booleans()):
        df = pd.concat([df, df.iloc[[draw(st.integers(0, len(df) - 1))]]], ignore_index=True)
    return df, cols, False


@st.composite
def specs(draw, cols, clean):
    directions = ["+", "-", "positive", "cost"] + ([] if clean else ["up", 1])
    dirs = {c: draw(st.sampled_from(directions)) for c in cols}
    method = draw(st.sampled_from(["entropy", "topsis", "critic", "equal", "user"]
                                  + ([] if clean else ["ahp"])))
    kw: dict = {"method": method, "pooled": draw(st.booleans()),
                "interpolate": draw(st.booleans())}
    if len(cols) >= 2 and draw(st.booleans()):
        cut = draw(st.integers(1, len(cols) - 1))
        kw["dimensions"] = {"d1": cols[:cut], "d2": cols[cut:]}
        kw["dimension_weights"] = draw(st.sampled_from([None, "equal", "entropy", "critic",
                                                        {"d1": 0.5, "d2": 0.5}]))
    blocks = list(kw.get("dimensions", {None: cols}).values())
    user = {c: 1.0 / len(b) for b in blocks for c in b}
    if method == "user":
        kw["weights"] = draw(st.sampled_from([user, {c: 0.5 for c in cols}]))
    elif method == "topsis":
        kw["weights"] = draw(st.sampled_from([None, "equal", "critic", user]))
        kw["topsis_normalization"] = draw(st.sampled_from([None, "minmax", "vector"]))
    if not clean and draw(st.booleans()):
        kw["shift"] = draw(st.sampled_from([0.0, 1e-4, 0.5, 2.0, 1e300]))
    return dirs, kw


def check_sound(res: IndexResult) -> None:
    idx = res.index.to_numpy(dtype=float)
    assert np.isfinite(idx).all() and (idx >= -TOL).all() and (idx <= 1 + TOL).all()
    w = res.weights
    assert np.isfinite(w["weight"]).all() and (w["weight"] >= -TOL).all()
    keys = (["year"] if not res.pooled else []) + (["dimension"] if res.dimensions else [])
    sums = w.groupby(keys)["weight"].sum() if keys else pd.Series([w["weight"].sum()])
    assert np.allclose(sums, 1.0, rtol=0, atol=TOL)


@settings(max_examples=250, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_build_index_returns_a_sound_result_or_raises_a_spatialinno_error(data):
    df, cols, clean = data.draw(frames())
    dirs, kw = data.draw(specs(cols, clean))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpatialinnoWarning)
        warnings.simplefilter("error", RuntimeWarning)  # incl. numpy's ComplexWarning
        try:
            res = build_index(df, dirs, **kw)
        except SpatialinnoError:
            return
    check_sound(res)
