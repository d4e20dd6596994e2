"""Bad input to build_index and the array-level index functions, as a new user would give it.

Every case asserts the class of the exception or warning AND (``match=``) that the message names
the culprit (indicator, column, unit code, (unit, year), year or option). Cases marked "was:"
crashed with a raw exception, or returned a silently wrong result, before this suite was written.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import spatialinno as si
from spatialinno.errors import (
    ConstantIndicatorError,
    DegenerateWeightingError,
    FilledValuesWarning,
    IndexInputError,
    IndexOptionError,
    IndexWarning,
    IndicatorTypeError,
    MissingValueError,
    OptionError,
    SpatialinnoError,
)
from spatialinno.index import build_index, critic_weights, entropy_weights, minmax_normalize

DIRS = {"p": "+", "q": "-", "r": "+"}


def small() -> pd.DataFrame:
    """5 units x 3 years, three positive indicators in general position."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame([(u, y) for u in "ABCDE" for y in (2019, 2020, 2021)],
                      columns=["unit", "year"])
    for c in "pqr":
        df[c] = rng.uniform(1, 10, len(df))
    return df


def cell(df: pd.DataFrame, unit: str, year: int) -> pd.Series:
    return (df["unit"] == unit) & (df["year"] == year)


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return si.demo_panel().data


# --------------------------------------------------------------------------- column types


def test_text_dash_in_demo_panel_names_indicator_unit_and_year(demo):
    df = demo[["adcode", "year", "rd_expenditure", "patents_granted"]].copy()
    df["rd_expenditure"] = df["rd_expenditure"].astype(object)
    df.loc[(df["adcode"] == "110000") & (df["year"] == 2015), "rd_expenditure"] = "—"
    with pytest.raises(IndicatorTypeError,
                       match=r"'rd_expenditure'.*\('110000', 2015, '—'\).*to_numeric"):
        build_index(df, {"rd_expenditure": "+", "patents_granted": "+"}, unit="adcode")


@pytest.mark.parametrize("convert, pattern", [
    (lambda s: s.astype(str), r"'p'.*numbers stored as text"),
    (lambda s: s > 5, r"'p'.*True/False"),
    (lambda s: s.astype(complex), r"'p'.*complex"),  # was: imaginary part dropped silently
    (lambda s: s.astype("category"), r"'p'.*category"),
    (lambda s: pd.to_datetime(s.round(), unit="D"), r"'p'.*datetime"),
])
def test_non_numeric_indicator_column(convert, pattern):
    df = small()
    df["p"] = convert(df["p"])
    with pytest.raises(IndicatorTypeError, match=pattern):
        build_index(df, DIRS)


def test_all_nan_indicator_lists_its_cells():
    with pytest.raises(MissingValueError, match=re.escape("('A', 2019, 'p')")) as exc:
        build_index(small().assign(p=np.nan), DIRS)
    assert len(exc.value.cells) == 15 and set(exc.value.cells["indicator"]) == {"p"}


def test_repeated_column_label_named():  # was: AttributeError 'DataFrame' has no 'dtype'
    df = small()
    df = pd.concat([df, df[["p"]]], axis=1)
    with pytest.raises(IndexInputError, match=r"\['p'\] appear more than once"):
        build_index(df, DIRS)


def test_overflowing_range_named():  # was: NaN index with a RuntimeWarning
    df = small()
    df["p"] = np.where(df.index % 2 == 0, -1e308, 1e308)
    with pytest.raises(IndexInputError, match=r"\['p'\]: max - min exceeds"):
        build_index(df, DIRS)


# --------------------------------------------------------------------------- constants, variation


def test_constant_in_one_year_raises_per_year_but_is_fine_pooled():
    df = small()
    df.loc[df["year"] == 2020, "q"] = 4.0
    with pytest.raises(ConstantIndicatorError, match=re.escape("('q', 2020)")):
        build_index(df, DIRS, pooled=False)
    assert np.isfinite(build_index(df, DIRS).index).all()


def test_indicator_constant_up_to_rounding_warns():
    df = small().assign(p=lambda d: 1.0 + 1e-13 * d["p"])
    with pytest.warns(IndexWarning, match=r"\['p'\] are constant up to rounding"):
        build_index(df, DIRS)


def test_negative_values_are_fine_with_entropy():
    res = build_index(small().assign(p=lambda d: d["p"] - 20), DIRS)
    assert res.weights["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert res.index.between(0, 1).all()


def test_critic_on_perfectly_correlated_indicators():
    # was: weights (1, 0, 0) decided by rounding noise in 1 - r_jk
    df = small().assign(q=lambda d: 3 * d["p"] + 1, r=lambda d: 0.5 * d["p"] - 2)
    with pytest.raises(DegenerateWeightingError, match=re.escape("['p', 'q', 'r']")):
        build_index(df, {"p": "+", "q": "+", "r": "+"}, method="critic")


def test_dimension_score_constant_up_to_rounding():
    # p '+' and its copy q '-' cancel: S_a = (z + 1 - z) / 2 = 0.5 up to rounding.
    # was: entropy weighted the dimension over the rounding noise (weight 0.27)
    df = small().assign(q=lambda d: d["p"])
    dims = {"a": ["p", "q"], "b": ["r"]}
    with pytest.raises(ConstantIndicatorError, match=r"dimension score\(s\) \['a'\]"):
        build_index(df, DIRS, method="equal", dimensions=dims, dimension_weights="entropy")
    with pytest.warns(IndexWarning, match=r"dimension score\(s\) \['a'\]"):
        build_index(df, DIRS, method="equal", dimensions=dims)


def test_huge_shift_warns_then_raises():  # was: NaN weights and index
    with pytest.warns(IndexWarning, match=r"shift=1e\+300"), \
            pytest.raises(DegenerateWeightingError, match=r"\['p', 'q', 'r'\].*shift=1e\+300"):
        build_index(small(), DIRS, shift=1e300)


def test_shift_larger_than_range_warns():
    with pytest.warns(IndexWarning, match="shift=2"):
        build_index(small(), DIRS, shift=2.0)


def test_vector_topsis_negative_values_warn_and_overflow_raises():
    df = small().assign(p=lambda d: d["p"] - 5)
    with pytest.warns(IndexWarning, match=r"\['p'\] have negative values"):
        build_index(df, DIRS, method="topsis", topsis_normalization="vector")
    with pytest.raises(IndexInputError, match=r"sqrt\(sum x\^2\).*\['p'\]"):
        build_index(small().assign(p=lambda d: d["p"] * 1e200), DIRS, method="topsis",
                    topsis_normalization="vector")


# --------------------------------------------------------------------------- directions, weights


@pytest.mark.parametrize("direction", ["up", None, 1, "++"])
def test_unknown_direction_named(direction):
    culprit = re.escape(repr(("p", direction)))
    with pytest.raises(IndexInputError, match=rf"unknown direction.*{culprit}"):
        build_index(small(), {"p": direction, "q": "-"})


@pytest.mark.parametrize("weights, pattern", [
    ({"p": 0.5, "q": 0.2, "r": 0.2}, r"sum to 1.*0\.9.*'p': 0\.5"),
    ({"p": 50, "q": 25, "r": 25}, r"sum to 100.*never rescaled"),
    ({"p": 1.2, "q": -0.2, "r": 0.0}, r"non-negative.*'q': -0\.2"),
    ({"p": True, "q": False, "r": False}, r"'p' is a bool"),
    ({"p": "half", "q": 0.5, "r": 0.5}, r"'p' is not a number: 'half'"),
    ({"p": 0.5, "q": 0.5}, r"missing name\(s\) \['r'\]"),
])
def test_bad_user_weights_named(weights, pattern):
    with pytest.raises(IndexInputError, match=pattern):
        build_index(small(), DIRS, method="user", weights=weights)


# --------------------------------------------------------------------------- dimensions


@pytest.mark.parametrize("dims, pattern", [
    ({"a": ["p", "zz"], "b": ["q", "r"]}, r"\['zz'\] \(in dimension 'a'\)"),
    ({"a": ["p", "q"], "b": ["q", "r"]}, r"more than one dimension: \['q'\].*'q': \['a', 'b'\]"),
    # was: TypeError unhashable type 'list'
    ({"a": ["p", ["q"]], "b": ["r"]}, r"dimension 'a': indicator names must be str"),
    ({"a": "p", "b": ["q", "r"]}, r"dimension 'a': expected a list"),
    ({"a": ["p", "q"]}, r"in no dimension: \['r'\]"),
    ({"unit": ["p", "q"], "b": ["r"]}, r"\['unit'\] clash"),
])
def test_bad_dimensions_named(dims, pattern):
    with pytest.raises(IndexInputError, match=pattern):
        build_index(small(), DIRS, dimensions=dims)


# --------------------------------------------------------------------------- rows and keys


def test_single_unit_and_single_year_are_fine_when_pooled():
    df = small()
    one_unit = build_index(df[df["unit"] == "A"], DIRS)
    one_year = build_index(df[df["year"] == 2020], DIRS)
    assert len(one_unit.index) == 3 and len(one_year.index) == 5
    with pytest.raises(IndexInputError, match=r"one row: \[2019, 2020, 2021\]"):
        build_index(df[df["unit"] == "A"], DIRS, pooled=False)


def test_single_row_says_so():  # was: "constant indicator(s) ['p', 'q', 'r']"
    with pytest.raises(IndexInputError, match=r"1 row\(s\) \[\('A', 2019\)\].*at least 2"):
        build_index(small().iloc[[0]], DIRS)


def test_duplicate_unit_year_rows_named():
    df = small()
    with pytest.raises(IndexInputError, match=re.escape("[('C', 2020)]")):
        build_index(pd.concat([df, df[cell(df, "C", 2020)]]), DIRS)


def test_missing_key_columns_named_with_hint():
    df = small()
    with pytest.raises(IndexInputError, match=r"\['unit'\] not in data"):
        build_index(df.drop(columns="unit"), DIRS)
    with pytest.raises(IndexInputError, match=r"\['year'\] not in data"):
        build_index(df.drop(columns="year"), DIRS)
    with pytest.raises(IndexInputError, match=r"\['unit'\] are index levels.*reset_index"):
        build_index(df.set_index("unit"), DIRS)


def test_mixed_type_time_column_named():  # was: '2019' and 2019 silently two different years
    df = small()
    df["year"] = df["year"].astype(object)
    df.loc[0, "year"] = "2019"
    with pytest.raises(IndexInputError, match=r"key column 'year' mixes types: '2019'"):
        build_index(df, DIRS)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("kwargs, pattern", [
    ({"method": "Entropy"}, r"unknown method 'Entropy'"),
    ({"pooled": "yes"}, r"pooled must be True or False, got 'yes'"),
    ({"interpolate": "yes"}, r"interpolate must be True or False, got 'yes'"),  # was: accepted
    ({"shift": -1}, r"shift must be a finite number >= 0, got -1"),
    ({"unit": ["unit"]}, r"unit must be a column name .* got \['unit'\]"),  # was: TypeError
    ({"name": 3}, r"name must be a column name .* got 3"),
    ({"unit": "year"}, r"unit and time name the same column 'year'"),
    ({"method": "topsis", "weights": "ahp"}, r"got 'ahp'"),
    ({"topsis_normalization": "vector"}, r"method='topsis' only"),
])
def test_bad_options_are_option_errors(kwargs, pattern):
    with pytest.raises(IndexOptionError, match=pattern) as exc:
        build_index(small(), DIRS, **kwargs)
    assert isinstance(exc.value, OptionError) and isinstance(exc.value, IndexInputError)


# --------------------------------------------------------------------------- array level


@pytest.mark.parametrize("call, pattern", [
    (lambda: minmax_normalize([[1 + 1j, 2.0], [3.0, 4.0]]), "complex"),  # was: imaginary dropped
    (lambda: minmax_normalize([["a", 2.0], [3.0, 4.0]]), "not numbers.*'a'"),  # was: ValueError
    (lambda: entropy_weights([[0.0, 1.0], [1.0, 0.0]], shift=1e300), "shift=1e\\+300"),
    (lambda: critic_weights([[0.0, 0.0], [0.3, 0.3], [1.0, 1.0]]), "perfectly positively"),
])
def test_array_functions(call, pattern):
    with pytest.raises(SpatialinnoError, match=pattern):
        call()


def test_warnings_point_at_the_callers_line():
    df = small()
    df.loc[cell(df, "B", 2020), "q"] = np.nan
    with pytest.warns(FilledValuesWarning, match=re.escape("('B', 2020, 'q')")) as rec:
        build_index(df, DIRS, interpolate=True)
    assert rec[0].filename == __file__
    with warnings.catch_warnings(record=True) as rec2:
        warnings.simplefilter("always")
        build_index(small(), DIRS, shift=2.0)
    assert [r.filename for r in rec2 if issubclass(r.category, IndexWarning)] == [__file__]
