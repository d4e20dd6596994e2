"""Bad input to the models: every mistake raises a named SpatialinnoError subclass whose message
names the culprit (variable, (unit, year) row, option) -- never a raw numpy/scipy error."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import (BadScaleError, DegenerateOutcomeError, DuplicateRowsError,
                                FormulaError,
                                ModelOptionError, ModelSpecificationError, NonFiniteDataError,
                                NonNumericTermError, SingularDesignError, SpatialinnoError,
                                UnbalancedPanelError, UnknownVariableError, WeightsAlignmentError,
                                WeightsCodesError)
from spatialinno.models import choose_model, fit, fit_array, fit_re, fit_two_w
from spatialinno.models.diagnostics import lm_tests

from _models_data import CODES, N, T, arrays, panel, ring_weights, unit_values, year_values

W = ring_weights()


def _fit(data, formula="y ~ x1 + x2", model="sar", effects="unit", w=W, **kw):
    kw.setdefault("effects_draws", 0)
    return fit(formula, data, w, model, effects, unit="code", time="year", **kw)


# --------------------------------------------------------------------------- singular designs

def test_constant_regressor_absorbed_by_unit_effects():
    with pytest.raises(SingularDesignError, match=r"'const' is constant .*unit fixed effects "
                                                  r"absorb it") as ei:
        _fit(panel().assign(const=3.0), "y ~ x1 + const")
    assert ei.value.columns == ["const"]


def test_time_invariant_regressor_absorbed_by_unit_effects():
    df = panel()
    with pytest.raises(SingularDesignError, match=r"'region' is time-invariant"):
        _fit(df.assign(region=unit_values(df)), "y ~ x1 + region")


@pytest.mark.parametrize("effects", ["time", "twoway"])
def test_period_only_regressor_absorbed_by_time_effects(effects):
    df = panel()
    with pytest.raises(SingularDesignError,
                       match=r"'national' is the same for all units in every period"):
        _fit(df.assign(national=year_values(df)), "y ~ x1 + national", effects=effects)


def test_additive_regressor_absorbed_by_two_way_effects():
    df = panel()
    df["additive"] = unit_values(df) + year_values(df)
    with pytest.raises(SingularDesignError, match=r"'additive' is the sum of a unit part and a "
                                                  r"period part"):
        _fit(df, "y ~ x1 + additive", effects="twoway")


@pytest.mark.parametrize("model", ["ols", "slx", "sar", "sdm", "sem", "sdem", "sac"])
def test_collinear_regressors_named_with_their_relation(model):
    df = panel().assign(x3=lambda d: d["x1"] + 2.0 * d["x2"])
    with pytest.raises(SingularDesignError, match=r"Perfectly collinear.*x3 = 2 \* x2 \+ 1 \* x1"
                       ) as ei:
        _fit(df, "y ~ x1 + x2 + x3", model=model)
    assert {"x1", "x2", "x3"} <= set(ei.value.columns)


def test_duplicated_regressor_column():
    with pytest.raises(SingularDesignError, match=r"x1_copy = 1 \* x1"):
        _fit(panel().assign(x1_copy=lambda d: d["x1"]), "y ~ x1 + x1_copy", effects="time")


def test_year_trend_equals_its_own_w_lag_in_the_sdm():
    with pytest.raises(SingularDesignError, match=r"W\*year = 1 \* year.*equals its own W-lag"):
        _fit(panel(), "y ~ x1 + year", model="sdm")


def test_period_dummies_absorbed_by_two_way_effects():
    with pytest.raises(SingularDesignError, match=re.escape("'C(year)[T.2012]' is the same for "
                                                            "all units")):
        _fit(panel(), "y ~ x1 + C(year)", effects="twoway")


@pytest.mark.parametrize("effects", ["unit", "twoway"])
def test_one_period_with_unit_effects(effects):
    df = panel()
    with pytest.raises(SingularDesignError, match=r"T = 1 period: with .*effects"):
        _fit(df[df["year"] == 2013], effects=effects)


def test_too_few_observations():
    df = panel()
    df = df[df["year"] <= 2012].copy()
    rng = np.random.default_rng(3)
    zs = {f"z{i}": rng.standard_normal(len(df)) for i in range(40)}
    with pytest.raises(SingularDesignError, match=r"Too few observations: n\*T = 20\*2 = 40 rows"
                                                  r".*for 41 parameter"):
        _fit(df.assign(**zs), "y ~ " + " + ".join(zs), model="ols", effects="none")


def test_no_regressor_left():
    with pytest.raises(SingularDesignError, match=r"no regressors"):
        _fit(panel(), "y ~ 1")


def test_all_zero_outcome():
    with pytest.raises(DegenerateOutcomeError, match=r"'y' is 0 in all 100 rows"):
        _fit(panel().assign(y=0.0))


def test_constant_outcome():
    with pytest.raises(DegenerateOutcomeError, match=r"'y' is constant \(= 7 in all 100 rows\)"):
        _fit(panel().assign(y=7.0), effects="none")


def test_outcome_without_within_variation():
    df = panel()
    with pytest.raises(DegenerateOutcomeError, match=r"'y' has no variation left after the unit "
                                                     r"fixed effects: it is time-invariant"):
        _fit(df.assign(y=unit_values(df)))


def test_outcome_copied_among_the_regressors():
    with pytest.raises(DegenerateOutcomeError, match=r"'y' is an exact linear combination of the "
                                                     r"regressors \(x1, y2\)"):
        _fit(panel().assign(y2=lambda d: 2.0 * d["y"] + 1.0), "y ~ x1 + y2")


def test_array_api_names_the_constant_column():
    y, X, Wm = arrays()
    X[..., 1] = 1.0
    with pytest.raises(SingularDesignError, match=r"'gdp_share' is constant"):
        fit_array(y, X, Wm, "sar", "unit", exog_names=["rd", "gdp_share"], effects_draws=0)


def test_two_w_model_checks_the_design():
    groups = {c: "north" if i < 10 else "south" for i, c in enumerate(CODES)}
    with pytest.raises(SingularDesignError, match=r"'const' is constant"):
        fit_two_w("y ~ x1 + const", panel().assign(const=1.0), W, groups, unit="code",
                  time="year", effects_draws=0)


def test_random_effects_collinear():
    df = panel().sort_values(["year", "code"])
    X = np.column_stack([df["x1"], df["x2"], df["x1"] - df["x2"]])
    with pytest.raises(SingularDesignError, match=r"random-effects model.*x3 = "):
        fit_re(df["y"].to_numpy(), X, W.sparse, N, T, "sar")


def test_lm_tests_collinear():
    df = panel().sort_values(["year", "code"])
    X = np.column_stack([df["x1"], 3.0 * df["x1"]])
    with pytest.raises(SingularDesignError, match=r"\(LM tests\).*x2 = 3 \* x1"):
        lm_tests(df["y"].to_numpy(), X, W.sparse, N, T, "unit")


def test_choose_model_says_which_step_needs_unit_effects():
    df = panel()
    with pytest.raises(SingularDesignError, match=r"LM and LR tests with unit effects, which "
                                                  r"choose_model fits.*'region' is "
                                                  r"time-invariant"):
        choose_model("y ~ x1 + region", df.assign(region=unit_values(df)), W, unit="code",
                     time="year", effects="time")


@pytest.mark.parametrize("model", ["sar", "sem"])
def test_complete_graph_with_time_effects_is_not_identified(model):
    import scipy.sparse as sp
    codes = CODES[:3]
    full = (sp.csr_matrix(np.ones((3, 3)) - np.eye(3)), codes)
    df = panel()
    with pytest.raises(SingularDesignError, match=r"every unit the same weight on every other "
                                                  r"unit .*all 3 units"):
        _fit(df[df["code"].isin(codes)], model=model, effects="time", w=full)


def test_outcome_equal_to_its_spatial_lag():
    df = panel()
    with pytest.raises(SingularDesignError, match=r"spatial lag of 'y' under W 'ring' equals 1 \* "
                                                  r"'y'.*the same for all units"):
        _fit(df.assign(y=year_values(df)), "y ~ x1", effects="none")


def test_spatial_parameters_count_as_parameters():
    df = panel()
    df = df[df["code"].isin(CODES[:4]) & (df["year"] <= 2012)]
    import scipy.sparse as sp
    C = sp.csr_matrix(np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1))
    with pytest.raises(SingularDesignError, match=r"Too few observations.*\(x1, x2, rho, lambda\)"
                                                  r": 0 residual"):
        _fit(df, model="sac", w=(C, CODES[:4]))


@pytest.mark.parametrize("factor, word", [(1e200, "overflow"), (1e-200, "underflow")])
def test_variable_out_of_double_precision_range(factor, word):
    with pytest.raises(BadScaleError, match=rf"'x2' has values of magnitude .*{word}.*Rescale"):
        _fit(panel().assign(x2=lambda d: d["x2"] * factor))


# --------------------------------------------------------------------------- non-finite data

def test_nan_in_y_names_unit_and_year():
    df = panel()
    df.loc[(df["code"] == "130300") & (df["year"] == 2012), "y"] = np.nan
    with pytest.raises(NonFiniteDataError, match=r"'y' has 1 NaN in \(unit, time\) rows "
                                                 r"\(130300, 2012\)") as ei:
        _fit(df)
    assert ei.value.cells == [("y", ("130300", 2012))]


def test_inf_in_regressor_names_unit_and_year():
    df = panel()
    df.loc[(df["code"] == "131000") & (df["year"] == 2015), "x2"] = -np.inf
    with pytest.raises(NonFiniteDataError, match=r"'x2' has 1 inf in .*\(131000, 2015\)"):
        _fit(df, model="sdm", effects="twoway")


def test_log_of_zero_in_the_formula():
    df = panel().assign(patents=lambda d: np.abs(d["x1"]))
    df.loc[(df["code"] == "130500") & (df["year"] == 2011), "patents"] = 0.0
    with pytest.raises(NonFiniteDataError, match=r"'np.log\(patents\)' has 1 inf in .*\(130500, "
                                                 r"2011\).*np.log of a value <= 0"):
        _fit(df, "y ~ x1 + np.log(patents)")


def test_missing_category_label():
    df = panel().assign(sector=lambda d: np.where(d["x2"] > 0, "industry", "services"))
    df["sector"] = df["sector"].astype(object)
    df.loc[(df["code"] == "131900") & (df["year"] == 2014), "sector"] = None
    with pytest.raises(NonFiniteDataError, match=r"'sector' has 1 NaN in .*\(131900, 2014\)"):
        _fit(df, "y ~ x1 + C(sector)", effects="time")


def test_array_api_names_row_positions():
    y, X, Wm = arrays()
    X[1, 3, 0] = np.nan
    with pytest.raises(NonFiniteDataError, match=r"'x1' has 1 NaN in row positions .* 23 "
                                                 r"\(period 1, unit 3\)"):
        fit_array(y, X, Wm, "sar", "unit", effects_draws=0)


def test_random_effects_nan():
    y, X, Wm = arrays()
    y[2, 5] = np.nan
    with pytest.raises(NonFiniteDataError, match=r"'y' has 1 NaN .* 45 \(period 2, unit 5\)"):
        fit_re(y.ravel(), X.reshape(N * T, -1), Wm, N, T, "sem")


def test_missing_unit_code():
    df = panel()
    df["code"] = df["code"].astype(object)
    df.loc[7, "code"] = None
    with pytest.raises(NonFiniteDataError, match=r"unit column 'code' is missing in 1 row.*7"):
        _fit(df)


# --------------------------------------------------------------------------- non-numeric terms

def test_text_column_is_not_expanded_into_dummies():
    df = panel().assign(sector=lambda d: [f"firm type {i % 7}" for i in range(len(d))])
    with pytest.raises(NonNumericTermError, match=r"column 'sector' has dtype .*'firm type 0'.*"
                                                  r"C\(sector\)") as ei:
        _fit(df, "y ~ x1 + sector")
    assert ei.value.column == "sector" and "firm type 0" in ei.value.values


def test_numbers_stored_as_text():
    df = panel().assign(x3=lambda d: d["x2"].round(3).astype(str))
    with pytest.raises(NonNumericTermError, match=r"'x3' has dtype .*numbers stored as text.*"
                                                  r"pd.to_numeric\(data\['x3'\]\)"):
        _fit(df, "y ~ x1 + x3")


def test_mixed_text_and_numbers_names_the_first_text_values():
    df = panel()
    df["x3"] = df["x2"].astype(object)
    df.loc[(df["code"] == "130700") & (df["year"] == 2013), "x3"] = "n/a"
    with pytest.raises(NonNumericTermError, match=r"'x3'.*'n/a' \(at \(130700, 2013\)\)"):
        _fit(df, "y ~ x1 + x3")


def test_categorical_dtype_needs_c():
    df = panel().assign(region=lambda d: pd.Categorical(np.where(d["x1"] > 0, "east", "west")))
    with pytest.raises(NonNumericTermError, match=r"'region' is categorical \(levels east, west\)"):
        _fit(df, "y ~ x1 + region", effects="time")
    assert _fit(df, "y ~ x1 + C(region)", effects="time").params.size == 3  # marked: fine


def test_text_dependent_variable():
    df = panel().assign(grade=lambda d: np.where(d["y"] > 0, "high", "low"))
    with pytest.raises(NonNumericTermError, match=r"'grade'.*dependent variable must be numeric"):
        _fit(df, "grade ~ x1")


# --------------------------------------------------------------------------- options, formula

@pytest.mark.parametrize("kw, pattern", [
    ({"model": "sarr"}, r"model='sarr' is not known; expected one of .*'sar'.*Did you mean"),
    ({"effects": "fixed"}, r"effects='fixed' is not known; expected one of 'none', 'unit', "
                           r"'time', 'twoway'"),
    ({"cov_type": "robust"}, r"cov_type='robust' is not known; expected one of 'auto', 'oim', "
                             r"'hessian'"),
    ({"logdet": "cholesky"}, r"logdet='cholesky' is not known; expected one of 'auto', "
                             r"'eigen', 'lu', 'mc', 'chebyshev'"),
    ({"lee_yu": "yes"}, r"lee_yu='yes' is not known: expected True, False, 'transform' or 'bias'"),
    ({"bias_correction": "both"}, r"bias_correction='both': expected 'transform'.*'analytic'"),
    ({"effects_method": "montecarlo"}, r"effects_method='montecarlo' is not known; expected one "
                                       r"of 'simulation', 'delta'"),
])
def test_unknown_option_lists_the_choices(kw, pattern):
    with pytest.raises(ModelOptionError, match=pattern):
        _fit(panel(), **kw)


def test_second_weights_for_a_model_without_lambda():
    with pytest.raises(ModelSpecificationError, match=r"m= .*model='sdm' has none"):
        _fit(panel(), model="sdm", m=W)


def test_unit_dummies_absorbed_by_unit_effects_are_listed_briefly():
    with pytest.raises(SingularDesignError, match=r"19 regressor\(s\) cannot be estimated: "
                                                  r"'C\(code\)\[T.130200\]' is time-invariant"
                                                  r".*\.\.\. and 9 more") as ei:
        _fit(panel(), "y ~ x1 + C(code)")
    assert len(ei.value.columns) == 19 and len(str(ei.value)) < 2500


def test_negative_effects_draws():
    with pytest.raises(ModelSpecificationError, match=r"effects_draws=-5"):
        _fit(panel(), effects_draws=-5)


def test_random_effects_unknown_model():
    y, X, Wm = arrays()
    with pytest.raises(ModelOptionError, match=r"model='sac'.*'sar', 'sdm' or 'sem'"):
        fit_re(y.ravel(), X.reshape(N * T, -1), Wm, N, T, "sac")


def test_choose_model_unknown_lm_convention():
    with pytest.raises(ModelOptionError, match=r"lm_convention='anselin'.*'lee_yu', 'elhorst'"):
        choose_model("y ~ x1", panel(), W, unit="code", time="year", lm_convention="anselin")


def test_unknown_variable_with_close_match():
    df = panel().rename(columns={"x1": "rd_expenditure"})
    with pytest.raises(UnknownVariableError, match=r"'rd_expendture' \(did you mean "
                                                   r"'rd_expenditure'\?\)") as ei:
        _fit(df, "y ~ rd_expendture + x2")
    assert ei.value.unknown == ["rd_expendture"]


def test_formula_syntax_error():
    with pytest.raises(FormulaError, match=r"'y ~ x1 \+ \(x2' is not valid formula syntax"):
        _fit(panel(), "y ~ x1 + (x2")


def test_formula_without_tilde():
    with pytest.raises(FormulaError, match=r"'y x1' has no '~'"):
        _fit(panel(), "y x1")


def test_unknown_unit_column_with_close_match():
    with pytest.raises(UnknownVariableError, match=r"unit='cod'.*did you mean 'code'"):
        fit("y ~ x1", panel(), W, unit="cod", time="year")


# --------------------------------------------------------------------------- panel structure

def test_duplicate_unit_year_rows_are_named():
    df = panel()
    df = pd.concat([df, df[(df["code"] == "130300") & (df["year"] == 2012)]], ignore_index=True)
    with pytest.raises(DuplicateRowsError, match=r"\(130300, 2012\) at row positions 11, 100") \
            as ei:
        _fit(df)
    assert isinstance(ei.value, UnbalancedPanelError) and ei.value.duplicates == [("130300", 2012)]


def test_unbalanced_panel_lists_the_missing_unit_years():
    df = panel()
    df = df[~((df["code"] == "131200") & (df["year"] == 2014))]
    with pytest.raises(UnbalancedPanelError,
                       match=r"1 unit-periods are missing .*\(131200, 2014\)"):
        _fit(df)


def test_panel_unit_missing_from_w():
    df = panel()
    df.loc[df["code"] == "132000", "code"] = "139900"
    with pytest.raises(WeightsCodesError, match=r"1 unit\(s\) missing from W: 139900; 1 unit\(s\) "
                                                r"of W missing from units: 132000") as ei:
        _fit(df)
    assert isinstance(ei.value, WeightsAlignmentError)


def test_unit_codes_read_as_floats_get_a_hint():
    df = panel().assign(code=lambda d: d["code"].astype(float))
    with pytest.raises(WeightsCodesError, match=r"130100.0.*numbers written as floats"):
        _fit(df)


def test_every_error_is_a_spatialinno_error():
    for cls in (SingularDesignError, DegenerateOutcomeError, NonFiniteDataError,
                NonNumericTermError, FormulaError, UnknownVariableError, ModelOptionError,
                DuplicateRowsError, WeightsCodesError):
        assert issubclass(cls, SpatialinnoError) and issubclass(cls, ValueError)
    assert issubclass(SingularDesignError, ModelSpecificationError)
