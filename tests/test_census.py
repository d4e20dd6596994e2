"""The shipped REAL-DATA analysis: census 2010 and 2020 of China's prefecture-level units.

Checked: every output says REAL DATA with the source and never SYNTHETIC; every census row is
joined or explained; the cross-sectional SAR equals spreg's ML_Lag on the same y, X and W (same
likelihood, full eigenvalue log-determinant); Moran's I equals esda's; the report renders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatialinno.runner import CENSUS_PANEL, _data_file, default_analysis_path, run

from browser import check_report_renders
from peers import peer

# Both sides maximise the same concentrated likelihood with an exact log-determinant; 1e-5 is the
# optimiser's tolerance on rho (Brent), far above floating-point error.
ML_RTOL = 1e-5


@pytest.fixture(scope="module")
def census_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("census") / "out"
    run(default_analysis_path().parent / "census_population.toml", out, quiet=True)
    return out


def test_shipped_table_is_the_census_source():
    t = pd.read_csv(_data_file(CENSUS_PANEL), dtype={"city_code": str})
    assert len(t) == 369 and t["city_code"].is_unique
    assert (t["boundary_year"] == 2020).all()
    bj = t.set_index("city_code").loc["110100"]
    # 7th census bulletin: Beijing 21,893,095 residents; 6th census: 19,612,368
    assert (bj["popu_2020"], bj["popu_2010"]) == (21893095, 19612368)
    assert "coord" not in t.columns


def test_every_output_says_real_data_with_source(census_run):
    for path in census_run.rglob("*"):
        if path.suffix in (".md", ".tex", ".csv", ".html"):
            text = path.read_text(encoding="utf-8")
            assert "REAL DATA" in text and "leiii/census" in text, path.name
            assert "SYNTHETIC" not in text, path.name


def test_every_census_row_is_joined_or_explained(census_run):
    counts = pd.read_csv(census_run / "tables" / "join_report.csv", comment="#")
    c = dict(zip(counts["status"], counts["rows"], strict=True))
    assert c["matched"] == 337 and sum(c.values()) == 369
    rejected = pd.read_csv(census_run / "tables" / "join_rejected.csv", comment="#",
                           dtype={"city_code": str})
    assert len(rejected) == 369 - 337
    assert rejected["detail"].str.contains("not in the default prefecture layer").all()
    assert set(rejected["city_code"].str[:2]) == {"41", "42", "46", "65", "81", "82"}


def _model_sample(census_run):
    """The model sample rebuilt independently: joined units minus those with a missing value."""
    t = pd.read_csv(_data_file(CENSUS_PANEL), dtype={"city_code": str})
    t["city_code"] = t["city_code"].replace({"110100": "110000", "120100": "120000",
                                             "310100": "310000", "500100": "500000"})
    import spatialinno as si
    layer = si.load_boundaries()
    t = t[t["city_code"].isin(layer["adcode"])].copy()
    t["growth"] = np.log(t["popu_2020"] / t["popu_2010"])
    t["urban_2010"] = 100 * t["popu_urban_2010"] / t["popu_2010"]
    cols = ["growth", "urban_2010", "age_65_2010", "household_2010"]
    t = t.dropna(subset=cols).sort_values("city_code")
    return t, cols, layer


def test_cross_section_sar_equals_spreg_ml_lag(census_run):
    spreg = peer("spreg")
    import spatialinno as si
    t, cols, layer = _model_sample(census_run)
    w = si.Weights.contiguity(layer[layer["adcode"].isin(t["city_code"])], islands="connect",
                              k_islands=2)
    assert list(w.codes) == list(t["city_code"])
    ours = pd.read_csv(census_run / "tables" / "model_sar.csv", comment="#").set_index("term")
    assert len(t) == 334  # 337 joined minus 通化 (household), 三沙 and 儋州 (2010 urban split)
    y = t[["growth"]].to_numpy()
    X = t[cols[1:]].to_numpy()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = spreg.ML_Lag(y, X, w=w.to_libpysal(), method="full")
    b = ref.betas.ravel()
    assert ours.loc["rho", "estimate"] == pytest.approx(b[-1], rel=ML_RTOL)
    for j, name in enumerate(cols[1:], start=1):
        assert ours.loc[name, "estimate"] == pytest.approx(b[j], rel=ML_RTOL, abs=1e-8)


def test_moran_of_growth_equals_esda(census_run):
    esda = peer("esda")
    import spatialinno as si
    t, _, layer = _model_sample(census_run)
    full = pd.read_csv(_data_file(CENSUS_PANEL), dtype={"city_code": str})
    full["city_code"] = full["city_code"].replace({"110100": "110000", "120100": "120000",
                                                   "310100": "310000", "500100": "500000"})
    full = full[full["city_code"].isin(layer["adcode"])].dropna(subset=["popu_2010", "popu_2020"])
    full = full.sort_values("city_code")
    w = si.Weights.contiguity(layer[layer["adcode"].isin(full["city_code"])], islands="connect",
                              k_islands=2)
    growth = np.log(full["popu_2020"] / full["popu_2010"]).to_numpy()
    ref = esda.Moran(growth, w.to_libpysal(), permutations=0)
    ours = pd.read_csv(census_run / "tables" / "moran_growth.csv", comment="#")
    assert ours["I"].iloc[0] == pytest.approx(ref.I, rel=1e-10)


def test_census_report_renders(census_run):
    check_report_renders(census_run)
