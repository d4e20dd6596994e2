"""Bad input to ESDA, plots and agglomerations, as a new user would give it.

Every case asserts the class of the exception or warning AND (``match=``) that the message names
the culprit (variable, column, unit code, (unit, year), year or option), on the shipped
SYNTHETIC demo panel. Cases marked "was:" crashed with a raw exception, or returned a silently
wrong (NaN or empty) result, before this suite was written.
"""

from __future__ import annotations

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import spatialinno as si
from spatialinno import agglomerations as ag
from spatialinno import esda as E
from spatialinno import plots
from spatialinno.errors import (
    AgglomerationError,
    ConstantVariableError,
    EsdaError,
    EsdaOptionError,
    EsdaWarning,
    MissingValueError,
    OptionError,
    PlotError,
    PlotOptionError,
    PlotWarning,
    UnknownAgglomerationError,
)

VAR = "ln_gtfp"
YEAR = 2015
QUICK = {"years": [YEAR], "permutations": 0}


@pytest.fixture(scope="module")
def panel():
    return si.demo_panel()


@pytest.fixture(scope="module")
def data(panel):
    return panel.data


@pytest.fixture(scope="module")
def w():
    from spatialinno.weights import Weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 4 island cities of Hainan: IslandWarning
        return Weights.contiguity()


@pytest.fixture(scope="module")
def lisa(panel, w):
    return E.lisa_by_year(panel, VAR, w, years=[2015, 2016], permutations=99)


def at(df: pd.DataFrame, code: str, year: int) -> pd.Series:
    return (df["adcode"] == code) & (df["year"] == year)


# --------------------------------------------------------------------------- variable and years


def test_unknown_variable_named(panel, w):
    with pytest.raises(EsdaError, match="column 'nope' not found"):
        E.moran_by_year(panel, "nope", w, **QUICK)


@pytest.mark.parametrize("variable, pattern", [
    ("adcode", "variable 'adcode' is the unit column"),  # was: KeyError
    ("year", "variable 'year' is the time column"),  # was: KeyError
    ([VAR], re.escape("got ['ln_gtfp']")),  # was: TypeError unhashable
])
def test_variable_must_be_a_data_column(panel, w, variable, pattern):
    with pytest.raises(EsdaOptionError, match=pattern):
        E.moran_by_year(panel, variable, w, **QUICK)


def test_text_variable_named_with_the_text(data, w):  # was: ValueError could not convert '—'
    bad = data.assign(**{VAR: data[VAR].astype(object).where(~at(data, "110000", 2011), "—")})
    with pytest.raises(EsdaError, match=r"variable 'ln_gtfp' is not numeric .*—"):
        E.moran_by_year(bad, VAR, w, **QUICK)


@pytest.mark.parametrize("years, pattern", [
    ([1999], "years 1999 not in the data \\(which has 2011-2022\\)"),
    (["y2015"], "'y2015' is not a year"),  # was: ValueError
    (2015, "years must be a list of years.*got 2015"),  # was: TypeError
    ([], "years is empty"),  # was: an empty table
    ([2015, 2015], "lists 2015 more than once"),  # was: the year twice in the table
])
def test_bad_years_named(panel, w, years, pattern):
    with pytest.raises(EsdaError, match=pattern):
        E.moran_by_year(panel, VAR, w, years=years, permutations=0)


@pytest.mark.parametrize("year_column, pattern", [
    (lambda y: y.astype(str), r"time column 'year' must hold years as integers"),  # was: KeyError
    (lambda y: y + 0.5, r"whole years.*2011\.5"),  # was: KeyError
    (lambda y: y.astype(float).where(y.index != 0), r"whole years.*row positions \[0\]"),
])
def test_time_column_must_hold_whole_years(data, w, year_column, pattern):
    with pytest.raises(EsdaError, match=pattern):
        E.moran_by_year(data.assign(year=year_column(data["year"])), VAR, w, **QUICK)


@pytest.mark.parametrize("stat", [E.moran_by_year, E.geary_by_year, E.lisa_by_year])
def test_constant_variable_in_a_year_names_it(data, w, stat):  # was: NaN statistics
    flat = data.assign(**{VAR: data[VAR].where(data["year"] != YEAR, 1.0)})
    with pytest.raises(ConstantVariableError, match=re.escape("('ln_gtfp', 2015, 1.0)")):
        stat(flat, VAR, w, years=[2014, YEAR], permutations=0)


def test_constant_y_in_bivariate_moran(data, w):
    flat = data.assign(rd_expenditure=data["rd_expenditure"].where(data["year"] != YEAR, 2.0))
    with pytest.raises(ConstantVariableError, match=re.escape("('rd_expenditure', 2015, 2.0)")):
        E.bivariate_moran_by_year(flat, VAR, "rd_expenditure", w, **QUICK)


def test_getis_ord_needs_two_nonzero_values(data, w):  # was: NaN G
    zero = data.assign(rd_expenditure=data["rd_expenditure"].where(data["year"] != YEAR, 0.0))
    with pytest.raises(ConstantVariableError, match=r"'rd_expenditure' has fewer than 2 non-zero "
                                                    r"values: year\(s\) 2015"):
        E.getis_ord_by_year(zero, "rd_expenditure", w, **QUICK)


def test_nan_cells_listed_by_unit_year_variable(data, w):
    holes = data.assign(**{VAR: data[VAR].where(~at(data, "110000", 2013))})
    with pytest.raises(MissingValueError, match="110000/2013/ln_gtfp"):
        E.moran_by_year(holes, VAR, w, years=[2013], permutations=0)


def test_missing_unit_code_named(data, w):
    with pytest.raises(EsdaError, match=r"no unit code in 'adcode' \(row positions 0\)"):
        E.moran_by_year(data.assign(adcode=data["adcode"].where(data.index != 0)), VAR, w, **QUICK)


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize("permutations, pattern", [
    (-1, "got -1"), (1.5, "got 1.5"), (True, "got True"),  # was: True accepted as 1
    (1, "permutations=1 gives"),  # was: z_sim = inf with a RuntimeWarning
])
def test_bad_permutations(panel, w, permutations, pattern):
    with pytest.raises(EsdaOptionError, match=pattern):
        E.moran_by_year(panel, VAR, w, years=[YEAR], permutations=permutations)


def test_permutations_zero_is_legal_and_few_warn(panel, w):
    res = E.moran_by_year(panel, VAR, w, **QUICK)
    assert np.isnan(res.table["p_sim"]).all() and np.isfinite(res.table["p_norm"]).all()
    with pytest.warns(EsdaWarning, match=r"permutations=9: .* 1/\(R\+1\) = 0\.1"):
        E.moran_by_year(panel, VAR, w, years=[YEAR], permutations=9)


@pytest.mark.parametrize("alpha", [0, 1, 5, -0.1, float("nan"), "0.05", True])  # "0.05": TypeError
def test_alpha_outside_unit_interval(panel, w, alpha):
    with pytest.raises(EsdaOptionError, match=re.escape(f"got {alpha!r}")) as exc:
        E.lisa_by_year(panel, VAR, w, years=[YEAR], alpha=alpha)
    assert isinstance(exc.value, OptionError)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"seed": True}, "seed must be a non-negative integer; got True"),
    ({"seed": -3}, "got -3"),
    ({"two_tailed": "no"}, "two_tailed must be True or False; got 'no'"),  # was: truthy 'no'
])
def test_other_options(panel, w, kwargs, pattern):
    with pytest.raises(EsdaOptionError, match=pattern):
        E.moran_by_year(panel, VAR, w, **QUICK, **kwargs)


def test_adjust_option_named(panel, w):
    with pytest.raises(EsdaOptionError, match="got 'holm'"):
        E.lisa_by_year(panel, VAR, w, years=[YEAR], adjust="holm")


@pytest.mark.parametrize("kwargs, pattern", [
    ({"permutations": 0}, "permutations=0: there are no pseudo p-values"),
    ({"permutations": 99, "alpha": 0.001}, r"1/\(R\+1\) = 0\.01.*permutations=999"),
    ({"permutations": 999, "adjust": "bonferroni"}, r"alpha 0\.05 / 333 units, Bonferroni"),
])
def test_lisa_warns_when_no_unit_can_be_significant(panel, w, kwargs, pattern):
    with pytest.warns(EsdaWarning, match=pattern):
        res = E.lisa_by_year(panel, VAR, w, years=[YEAR], **kwargs)
    assert not res.table["significant"].any()


# --------------------------------------------------------------------------- weights


def test_w_whose_units_do_not_match(panel, w):
    w_small = w.subset([c for c in w.codes if c != "310000"])
    with pytest.raises(EsdaError, match=r"data missing from W: 310000"):
        E.moran_by_year(panel, VAR, w_small, **QUICK)


def _raw_w(w, matrix, name):
    return SimpleNamespace(codes=list(w.codes), sparse=matrix, name=name, transform="none")


def test_w_with_negative_or_nan_weights(panel, w):
    m = sp.csr_array(w.sparse).copy()
    m.data[0] = -0.5
    with pytest.raises(EsdaError, match=r"1 negative weight\(s\), in the rows of unit\(s\) 110000"):
        E.moran_by_year(panel, VAR, _raw_w(w, m, "neg"), **QUICK)
    m.data[0] = np.nan
    with pytest.raises(EsdaError, match=r"missing or infinite weight\(s\).* 110000"):
        E.moran_by_year(panel, VAR, _raw_w(w, m, "nan"), **QUICK)


def test_w_of_islands_only(panel, w):  # was: NaN I with RuntimeWarnings
    empty = sp.csr_array((len(w.codes), len(w.codes)))
    with pytest.raises(EsdaError, match=r"W 'empty' has no links: all 337 units are islands"):
        E.moran_by_year(panel, VAR, _raw_w(w, empty, "empty"), **QUICK)


def test_islands_are_kept_in_global_and_undefined_in_lisa(panel, w):
    g = E.moran_by_year(panel, VAR, w, **QUICK)
    assert int(g.table["n_islands"].iloc[0]) == 4 and np.isfinite(g.table["I"]).all()
    with pytest.warns(EsdaWarning, match="permutations=0"):
        loc = E.lisa_by_year(panel, VAR, w, **QUICK).table
    isl = loc[loc["island"]]
    assert len(isl) == 4 and (isl["cluster"] == E.ISLAND).all() and isl["Is"].isna().all()


def test_not_a_weights_object(panel):
    with pytest.raises(EsdaError, match="got ndarray"):
        E.moran_by_year(panel, VAR, np.eye(3), **QUICK)


# --------------------------------------------------------------------------- residuals, transitions


def test_residuals_of_the_wrong_type_or_column(data, w):
    with pytest.raises(EsdaError, match="got list"):  # was: AttributeError
        E.residual_moran_by_year([1.0, 2.0], w)
    with pytest.raises(EsdaError, match="column 'nope' not found in residuals"):  # was: 'residual'
        E.residual_moran_by_year(data[["adcode", "year", VAR]], w, column="nope")


def test_transitions_with_a_bad_year(lisa):  # was: ValueError
    with pytest.raises(EsdaOptionError, match="'x' is not a year"):
        lisa.transitions(["x"])
    with pytest.raises(EsdaError, match="years 1990 are not in this LISA result"):
        lisa.transitions([1990, 2015])


# --------------------------------------------------------------------------- plots


@pytest.mark.parametrize("kwargs, cls, pattern", [
    ({"year": 1990}, PlotError, r"year 1990 not in the data \(2011-2022\)"),
    ({"year": "x"}, PlotOptionError, "got 'x'"),  # was: ValueError
    ({"year": 2015, "scheme": "jenks"}, PlotOptionError, "got 'jenks'"),
    ({"year": 2015, "k": 0}, PlotOptionError, "k must be an integer >= 2; got 0"),  # ZeroDivision
    ({"year": 2015, "k": "5"}, PlotOptionError, "got '5'"),  # was: TypeError
    ({"year": 2015, "cmap": "nope"}, PlotOptionError, "cmap 'nope'"),  # was: KeyError
    ({}, PlotError, "pass year=: the data have 12 years"),
])
def test_choropleth_options(panel, kwargs, cls, pattern):
    with pytest.raises(cls, match=pattern):
        plots.choropleth(panel, VAR, **kwargs)


def test_choropleth_unknown_variable(panel):
    with pytest.raises(PlotError, match="column 'nope' not found"):
        plots.choropleth(panel, "nope", year=2015)


def test_choropleth_text_years(data):  # was: "no finite value to classify"
    with pytest.raises(PlotError, match="time column 'year' must hold years as integers"):
        plots.choropleth(data.assign(year=data["year"].astype(str)), VAR, year=2015)


def test_choropleth_units_off_the_layer(data):
    one = data[data["year"] == 2015]
    with pytest.raises(PlotError, match=r"none of the 337 unit code\(s\).*x110000"):
        plots.choropleth(one.assign(adcode="x" + one["adcode"]), VAR, year=2015)
    extra = pd.concat([one, one[one["adcode"] == "110000"].assign(adcode="999999")])
    with pytest.warns(PlotWarning, match=r"1 unit\(s\) of 'ln_gtfp' are not on the boundary layer"
                                         r" and are not drawn: 999999"):
        plots.choropleth(extra, VAR, year=2015)


def test_small_multiples_options(panel):
    with pytest.raises(PlotOptionError, match="years must be a list of years.*got 2015"):
        plots.choropleth_small_multiples(panel, VAR, years=2015)  # was: TypeError
    with pytest.raises(PlotOptionError, match="ncols must be an integer >= 1; got 0"):
        plots.choropleth_small_multiples(panel, VAR, years=[2015], ncols=0)  # ZeroDivisionError


def test_result_type_and_year_of_lisa_figures(lisa, panel, w):
    glob = E.moran_by_year(panel, VAR, w, years=[2015, 2016], permutations=0)
    with pytest.raises(PlotOptionError, match="expected a LisaResult .* got GlobalResult"):
        plots.lisa_cluster_map(glob, 2015)  # was: AttributeError
    with pytest.raises(PlotOptionError, match="expected a GlobalResult .* got LisaResult"):
        plots.moran_timeseries(lisa)  # was: AttributeError
    with pytest.raises(PlotError, match=r"year 1990 not in this LISA result \(2015, 2016\)"):
        plots.moran_scatter(lisa, 1990)
    with pytest.raises(PlotOptionError, match="got 'x'"):
        plots.lisa_cluster_map(lisa, "x")  # was: ValueError


def test_moran_timeseries_level(panel, w):  # was: NaN band
    glob = E.moran_by_year(panel, VAR, w, years=[2015, 2016], permutations=0)
    with pytest.raises(PlotOptionError, match="level must be a number in \\(0, 1\\); got 95"):
        plots.moran_timeseries(glob, band="normal", level=95)


def test_agglomeration_map_membership_type():  # was: ValueError from dict()
    with pytest.raises(PlotOptionError, match="membership must be a mapping .* got list"):
        plots.agglomeration_map(["jingjinji"])


def test_agglomeration_map_codes_off_the_layer():  # was: not drawn, not said
    mem = {**ag.groups(overlap=list(ag.agglomerations()["scope"])), "999999": "jingjinji"}
    with pytest.warns(PlotWarning, match=r"1 unit\(s\) of the membership .*: 999999$"):
        plots.agglomeration_map(mem)
    with pytest.raises(PlotError, match="none of the 1 unit code"):
        plots.agglomeration_map({"999999": "jingjinji"})


# --------------------------------------------------------------------------- agglomerations


@pytest.mark.parametrize("name, pattern", [
    ("nope", r"unknown agglomeration scope\(s\) \['nope'\]"),
    ("长三角", r"'长三角': did you mean 'yangtze_river_delta'"),
    ("beijing_tianjin_hebei", r"did you mean 'jingjinji'"),
    ("yangtze_delta", r"did you mean 'yangtze_river_delta'"),
])
def test_unknown_agglomeration_name(name, pattern):
    with pytest.raises(UnknownAgglomerationError, match=pattern):
        ag.members(name)


def test_unknown_names_elsewhere():
    with pytest.raises(UnknownAgglomerationError, match=r"\['nope'\] in replace"):
        ag.membership(replace={"yangtze_river_delta": "nope"})
    with pytest.raises(UnknownAgglomerationError, match=r"\['nope'\] in the overlap priority"):
        ag.groups(overlap=["jingjinji", "nope"])


@pytest.mark.parametrize("call, pattern", [
    # was: an empty frame, silently
    (lambda: ag.members(statuses=["firm"]), r"unknown member status\(es\) \['firm'\]"),
    (lambda: ag.groups([]), "scopes is empty"),  # was: an empty partition
    (lambda: ag.groups(3), "got 3"),  # was: TypeError
])
def test_bad_registry_arguments(call, pattern):
    with pytest.raises(AgglomerationError, match=pattern):
        call()


def test_moran_by_agglomeration_arguments(panel, w):
    groups = ag.groups(overlap=[s for s in ag.agglomerations()["scope"]])
    with pytest.raises(AgglomerationError, match="groups must be a mapping .* received list"):
        ag.moran_by_agglomeration(panel, VAR, w, groups=["jingjinji"])  # was: AttributeError
    with pytest.raises(AgglomerationError, match="min_units must be an integer >= 4.*got 0"):
        ag.moran_by_agglomeration(panel, VAR, w, groups=groups, min_units=0)
    with pytest.raises(AgglomerationError, match="variable 'nope' is not a column"):
        ag.moran_by_agglomeration(panel, "nope", w, groups=groups)
