"""Bad weights: user matrices, empty W, islands and malformed files raise named WeightsError
subclasses whose message names the cell (row code, column code, value), the units or the line."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from spatialinno.errors import (EmptyWeightsError, IslandError, IslandWarning,
                                ModelSpecificationError, WeightsCodesError, WeightsError,
                                WeightsFileError, WeightsValueError)
from spatialinno.models import fit, fit_array, fit_two_w
from spatialinno.weights import Weights

from _models_data import (CODES, N, arrays, island_matrix, panel, ring, ring_weights,
                          row_standardised)


def _fit(w, model="sar", effects="unit", **kw):
    kw.setdefault("effects_draws", 0)
    return fit("y ~ x1 + x2", panel(), w, model, effects, unit="code", time="year", **kw)


def _bad(value, cell=(2, 3)):
    D = ring().toarray()
    D[cell] = value
    return D


# --------------------------------------------------------------------------- (matrix, codes)

_CELLS = [
    (np.nan, (2, 3), r"1 non-finite weight.*w\[130300, 130400\] = nan"),
    (np.inf, (2, 3), r"1 non-finite weight.*w\[130300, 130400\] = inf"),
    (-1.0, (2, 3), r"1 negative weight.*w\[130300, 130400\] = -1"),
    (1.0, (4, 4), r"1 non-zero diagonal value.*w\[130500, 130500\] = 1"),
]


@pytest.mark.parametrize("value, cell, pattern", _CELLS)
@pytest.mark.parametrize("container", ["dense", "sparse"])
def test_user_matrix_bad_cell_is_named(value, cell, pattern, container):
    D = _bad(value, cell)
    mat = D if container == "dense" else sp.csr_matrix(D)
    with pytest.raises(WeightsValueError, match=pattern) as ei:
        _fit((mat, CODES))
    assert ei.value.cells[0][:2] == (CODES[cell[0]], CODES[cell[1]])


def test_user_matrix_wrong_shape():
    with pytest.raises(WeightsCodesError, match=r"w has shape \(20, 19\) but 20 codes"):
        _fit((np.ones((N, N - 1)), CODES))


def test_user_codes_do_not_match_the_shape():
    with pytest.raises(WeightsCodesError, match=r"w has shape \(20, 20\) but 19 codes"):
        _fit((ring(), CODES[:-1]))


def test_user_codes_duplicated():
    codes = CODES[:-1] + ["130100"]
    with pytest.raises(WeightsCodesError, match=r"130100 \(x2\)"):
        _fit((ring(), codes))


def test_user_matrix_not_numeric():
    D = ring().toarray().astype(object)
    D[0, 1] = "near"
    with pytest.raises(WeightsValueError, match=r"not numeric.*'near'"):
        _fit((D, CODES))


def test_user_codes_missing_from_the_panel_are_named():
    codes = CODES[:-1] + ["139900"]
    with pytest.raises(WeightsCodesError, match=r"Units without a row in W: \['132000'\].*codes in "
                                                r"W not in the panel: \['139900'\]"):
        _fit((ring(), codes))


# --------------------------------------------------------------------------- Weights objects

@pytest.mark.parametrize("value, cell, pattern", [
    (np.nan, (2, 3), r"matrix has 1 non-finite weight.*matrix\[130300, 130400\] = nan"),
    (-0.5, (6, 7), r"matrix has 1 negative weight.*matrix\[130700, 130800\] = -0.5"),
    (2.0, (0, 0), r"matrix has 1 non-zero diagonal value.*matrix\[130100, 130100\] = 2"),
])
def test_weights_from_sparse_bad_cell_is_named(value, cell, pattern):
    with pytest.raises(WeightsValueError, match=pattern):
        Weights.from_sparse(_bad(value, cell), CODES)


def test_weights_from_sparse_shape_and_duplicates():
    with pytest.raises(WeightsCodesError, match=r"matrix has shape \(20, 20\) but 21 codes"):
        Weights.from_sparse(ring(), CODES + ["140000"])
    with pytest.raises(WeightsCodesError, match=r"unique; duplicated: 130200"):
        Weights.from_sparse(ring(), CODES[:2] + ["130200"] + CODES[3:])


def test_weights_from_none():
    with pytest.raises(WeightsValueError, match=r"matrix is None; expected an n x n matrix "
                                                r"\(20 x 20"):
        Weights.from_sparse(None, CODES)


def test_builder_option_with_a_close_match():
    with pytest.raises(WeightsError, match=r"islands must be one of 'keep', 'connect', 'raise'; "
                                           r"got 'conect' \(did you mean 'connect'\?\)"):
        Weights.contiguity(islands="conect")


def test_align_names_missing_and_extra_codes():
    w = ring_weights()
    with pytest.raises(WeightsCodesError, match=r"1 unit\(s\) missing from W: 150000; 1 unit\(s\) "
                                                r"of W missing from units: 132000"):
        w.align(CODES[:-1] + ["150000"])


def test_binary_user_matrix_gives_exact_effects():
    """A binary W (spectral radius 2) used to give NaN indirect effects: the row-sum power
    series overflowed. The effects now equal the dense formula (1/n) 1'(I - rho W)^-1 b 1."""
    res = _fit((ring(), CODES), model="sar", effects="unit", effects_method="delta",
               effects_draws=1)
    eff = res.effects.set_index(["variable", "effect"])["estimate"]
    A = np.linalg.inv(np.eye(N) - res.rho * ring().toarray())
    b = res.params["x1"]
    assert np.isfinite(res.effects["estimate"]).all()
    np.testing.assert_allclose(eff[("x1", "total")], b * A.sum() / N, rtol=1e-10)
    np.testing.assert_allclose(eff[("x1", "direct")], b * np.trace(A) / N, rtol=1e-10)


# --------------------------------------------------------------------------- W without links

@pytest.mark.parametrize("model", ["sar", "sem", "sdm", "slx", "sac"])
def test_empty_weights_never_give_a_bound_estimate(model):
    empty = Weights.from_sparse(sp.csr_matrix((N, N)), CODES, name="cutoff10km", transform="row")
    with pytest.raises(EmptyWeightsError, match=rf"W 'cutoff10km' has no links: all 20 rows are "
                                                rf"zero, so model='{model}'"):
        _fit(empty, model=model)


def test_empty_user_matrix():
    with pytest.raises(EmptyWeightsError, match=r"W 'w' has no links"):
        _fit((sp.csr_matrix((N, N)), CODES), model="sem", effects="twoway")


def test_empty_matrix_array_api():
    y, X, _ = arrays()
    with pytest.raises(EmptyWeightsError, match=r"W 'W' has no links"):
        fit_array(y, X, sp.csr_matrix((N, N)), "sar", "unit", effects_draws=0)


def test_empty_weights_rho_bounds():
    empty = Weights.from_sparse(sp.csr_matrix((N, N)), CODES, name="none")
    with pytest.raises(EmptyWeightsError, match=r"none: W has no links \(all 20 rows are zero\)"):
        empty.rho_bounds


def test_two_w_groups_without_within_links():
    groups = {c: str(i % 2) for i, c in enumerate(CODES)}  # ring neighbours never share a group
    with pytest.raises(EmptyWeightsError, match=r"within-group part of W 'ring' has no links"):
        fit_two_w("y ~ x1", panel(), ring_weights(), groups, unit="code", time="year",
                  effects_draws=0)


# --------------------------------------------------------------------------- islands

def _island_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        return Weights.from_sparse(island_matrix(2), CODES, name="ring-cut", transform="row")


@pytest.mark.parametrize("model", ["sar", "sem", "sdm"])
@pytest.mark.parametrize("effects", ["time", "twoway"])
def test_islands_named_when_they_break_the_time_effects(model, effects):
    with pytest.raises(IslandError, match=r"W 'ring-cut' has 1 island\(s\).*: 130300\. The "
                                          r"Lee-Yu transformation.*islands='connect', "
                                          r"k_islands=2.*w.subset.*bias_correction=None") as ei:
        _fit(_island_weights(), model=model, effects=effects)
    assert ei.value.islands == ["130300"] and isinstance(ei.value, ModelSpecificationError)


def test_islands_in_a_user_matrix():
    with pytest.raises(IslandError, match=r"W 'w' has 1 island\(s\).*130300"):
        _fit((row_standardised(island_matrix(2)), CODES), effects="twoway")


def test_islands_with_the_bias_correction():
    for kw in ({"lee_yu": "bias"}, {"bias_correction": "analytic"}):  # alias and new name
        with pytest.raises(IslandError, match=r"130300.*Lee-Yu analytic bias correction"):
            _fit(_island_weights(), effects="time", **kw)


def test_islands_with_a_spatial_error_term_and_time_effects():
    with pytest.raises(IslandError, match=r"130300.*spatial error term with time"):
        _fit(_island_weights(), model="sem", effects="time", lee_yu=False)


def test_islands_in_the_two_w_model():
    groups = {c: "a" if i < 10 else "b" for i, c in enumerate(CODES)}
    with pytest.raises(IslandError, match=r"130300.*two-W model"):
        fit_two_w("y ~ x1", panel(), _island_weights(), groups, unit="code", time="year",
                  effects_draws=0)


def test_islands_are_fine_with_unit_effects():
    res = _fit(_island_weights(), model="sar", effects="unit")
    assert np.isfinite(res.params).all()


def test_shipped_contiguity_with_two_way_effects_says_islands():
    """The README path: queen contiguity on the shipped layer (Hainan's four cities are islands)
    and a two-way SDM; the message used to say 'Row-standardise W'."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        w = Weights.contiguity()
    rng = np.random.default_rng(0)
    import pandas as pd
    df = pd.DataFrame([(c, t) for c in w.codes for t in (2020, 2021, 2022)],
                      columns=["adcode", "year"])
    df["x"] = rng.standard_normal(len(df))
    df["y"] = df["x"] + rng.standard_normal(len(df))
    with pytest.raises(IslandError, match=r"4 island\(s\).*460100, 460200, 460300, 460400.*"
                                          r"islands='connect'"):
        fit("y ~ x", df, w, "sdm", "twoway", unit="adcode", time="year", effects_draws=0)


# --------------------------------------------------------------------------- files

_GOOD_GAL = "3\n130100 1\n130200\n130200 1\n130100\n130300 0\n\n"


@pytest.mark.parametrize("text, pattern", [
    ("cities\n130100 0\n\n", r"line 1: header 'cities' does not give the number of units"),
    ("2\n130100 1\n130200\n", r"line 3: the file ends here, but the header says n = 2"),
    ("2\n130100 x\n130200\n130200 1\n130100\n", r"line 2: expected 'code k'.*'130100 x'"),
    ("2\n130100 2\n130200\n130200 1\n130100\n", r"line 3: unit 130100 declares 2 neighbour\(s\) "
                                                r"on line 2 but 1 are listed"),
    ("2\n130100 1\n139999\n130200 1\n130100\n", r"line 3: neighbour\(s\) 139999 of unit 130100 "
                                                r"are not units of the file"),
    ("2\n130100 1\n130100\n130200 0\n\n", r"line 3: unit 130100 lists itself"),
    ("2\n130100 0\n\n130100 0\n\n", r"line 4: duplicate unit code\(s\) 130100"),
    ("1\n130100 0\n\n130200 0\n", r"line 4: unexpected content '130200 0'"),
    ("", r"empty GAL file"),
])
def test_malformed_gal_names_file_and_line(tmp_path, text, pattern):
    p = tmp_path / "bad.gal"
    p.write_text(text)
    with pytest.raises(WeightsFileError, match=r"bad\.gal.*" + pattern):
        Weights.read_gal(p)


def test_missing_gal_file(tmp_path):
    with pytest.raises(WeightsFileError, match=r"nowhere\.gal: no such GAL file"):
        Weights.read_gal(tmp_path / "nowhere.gal")


def test_well_formed_gal_keeps_islands_and_codes(tmp_path):
    p = tmp_path / "ok.gal"
    p.write_text(_GOOD_GAL)
    w = Weights.read_gal(p)
    assert w.codes == ("130100", "130200", "130300") and w.islands == ("130300",)


def test_gwt_with_a_non_numeric_weight(tmp_path):
    p = tmp_path / "bad.gwt"
    p.write_text("0 2 w adcode\n130100 130200 1.0\n130200 130100 one\n")
    with pytest.raises(WeightsFileError, match=r"bad\.gwt: the weight .* line\(s\) 3 \('one'\)"):
        Weights.read_gwt(p)


def test_weights_errors_are_weights_errors():
    for cls in (WeightsValueError, WeightsCodesError, EmptyWeightsError, IslandError,
                WeightsFileError):
        assert issubclass(cls, WeightsError)
