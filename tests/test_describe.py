"""Descriptive statistics ("Table 1") against numpy's definitions, and its options' errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatialinno.describe import describe
from spatialinno.errors import OptionError

TOL = 1e-12  # the same sums in another order: only rounding differs


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(np.nan)),
                min_size=1, max_size=30))
def test_matches_numpy_and_counts_missing(values):
    df = pd.DataFrame({"x": values})
    row = describe(df, ["x"]).table.iloc[0]
    x = np.asarray(values, dtype=float)
    ok = x[~np.isnan(x)]
    assert row["N"] == len(ok) and row["missing"] == len(x) - len(ok)
    if len(ok):
        assert row["mean"] == pytest.approx(ok.mean(), rel=TOL, abs=1e-9)
        assert row["min"] == ok.min() and row["max"] == ok.max()
    if len(ok) > 1:
        assert row["sd"] == pytest.approx(ok.std(ddof=1), rel=1e-9, abs=1e-9)
    else:
        assert np.isnan(row["sd"])


def test_by_year_blocks_and_labels():
    df = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "y": [1.0, 3.0, 5.0, 9.0]})
    t = describe(df, ["y"], by="year", labels={"y": "output"}).table
    assert list(t["year"]) == [2020, 2021] and list(t["label"]) == ["output", "output"]
    assert list(t["mean"]) == [2.0, 7.0]


def test_by_agglomeration_uses_the_registry():
    df = pd.DataFrame({"adcode": ["310000", "320100", "110000", "540100"], "y": [1.0, 2.0, 3.0, 4.0]})
    t = describe(df, ["y"], by="agglomeration").table.set_index("agglomeration")
    assert t.loc["yangtze_river_delta", "N"] == 2 and t.loc["jingjinji", "N"] == 1
    assert t.loc["outside the agglomerations", "N"] == 1


@pytest.mark.parametrize("variables, by, match", [
    (["nope"], None, r"unknown variable\(s\) \['nope'\]"),
    (["name"], None, r"\['name'\] are not numeric \(e\.g\. \{'name': '北京'\}\)"),
    ("y", None, r"expected a list of column names"),
    (["y"], "decade", r"by='decade': not a column"),
])
def test_errors_name_the_culprit(variables, by, match):
    df = pd.DataFrame({"name": ["北京", "上海"], "y": [1.0, 2.0]})
    with pytest.raises(OptionError, match=match):
        describe(df, variables, by=by)
