"""Panels that cover part of the country: W is built on the panel's own units (re-standardised
after the cut) and the cut is reported; a region is one key away."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import AnalysisRunError
from spatialinno.runner import DEMO_PANEL, _data_file, run

ANALYSIS = """
[analysis]
title = "partial"
seed = 3

[data]
panel = "{panel}"
unit = "city"
time = "year"
{extra}

[weights.queen]
type = "contiguity"
islands = "keep"

[weights.knn4]
type = "knn"
k = 4

[weights.band]
type = "distance"
cutoff_km = 150.0

[esda]
variables = ["gdp"]
weights = "queen"
permutations = 99
lisa_years = [2022]

[[models]]
name = "sar_knn"
formula = "ln_gdp ~ ln_pop"
model = "sar"
effects = "twoway"
weights = "knn4"

[data.derive]
ln_gdp = "log(gdp)"
ln_pop = "log(population)"
"""


def _demo() -> pd.DataFrame:
    return pd.read_csv(_data_file(DEMO_PANEL), dtype={"code": str})


def _write(tmp_path, frame, extra=""):
    frame.to_csv(tmp_path / "panel.csv", index=False)
    path = tmp_path / "a.toml"
    path.write_text(ANALYSIS.format(panel="panel.csv", extra=extra), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def subset_run(tmp_path_factory):
    """280 of the 337 units: the first 280 codes in a seeded shuffle (莱芜/巢湖 rows removed)."""
    tmp = tmp_path_factory.mktemp("subset")
    from spatialinno import cities
    demo = _demo()
    demo = demo[~demo["code"].isin(["371200", "341400"])]
    # rows carry the code of their year (毕节地区 522400 in 2011 ...): select by today's unit
    unit = [cities.lookup(c, int(y)) for c, y in zip(demo["code"], demo["year"], strict=True)]
    codes = sorted(set(unit))
    assert len(codes) == 337
    keep = set(np.random.default_rng(280).permutation(codes)[:280])
    rows = [u in keep for u in unit]
    res = run(_write(tmp, demo[rows]), tmp / "out", quiet=True)
    return res.out, sorted(keep)


def test_weights_are_built_on_the_panels_units(subset_run):
    import spatialinno as si
    out, keep = subset_run
    cut = pd.read_csv(out / "tables" / "weights_cut.csv", comment="#").set_index("weights")
    assert set(cut.index) == {"queen", "knn4", "band"}
    assert (cut["units_in_W"] == 280).all() and (cut["units_dropped"] == 57).all()
    assert (cut["units_in_layer"] == 337).all()
    # independent: queen contiguity of libpysal on the cut layer, islands as zero rows
    from libpysal.weights import Queen
    layer = si.load_boundaries()
    sub = layer[layer["adcode"].isin(keep)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = Queen.from_dataframe(sub, ids=list(sub["adcode"]), use_index=False)
    expected_islands = sorted(q.islands)
    full = Queen.from_dataframe(layer, ids=list(layer["adcode"]), use_index=False)
    new = sorted(set(expected_islands) - set(full.islands))
    reported = cut.loc["queen", "new islands"]
    if new:
        assert all(code in reported for code in new)
    else:
        assert reported == "none"


def test_cut_is_in_the_log_and_the_report(subset_run):
    out, _ = subset_run
    log = (out / "run.log").read_text(encoding="utf-8")
    assert "weights queen: built on the panel's 280 units (57 of the layer's 337 dropped" in log
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Weights built on the panel" in html


def test_knn_on_the_panel_has_k_neighbours_among_panel_units(subset_run):
    out, _ = subset_run
    summary = pd.read_csv(out / "tables" / "weights_summary.csv", comment="#").set_index("diagnostic")
    assert summary.loc["units (n)", "knn4"] == "280"
    assert summary.loc["neighbours min / mean / max", "knn4"] == "4 / 4.00 / 4"
    model = pd.read_csv(out / "tables" / "model_sar_knn.csv", comment="#").set_index("term")
    assert np.isfinite(model.loc["rho", "estimate"])


@pytest.mark.parametrize("region, n_units", [("长三角", 26), ("江苏省", 13)])
def test_region_is_one_key_away(tmp_path, region, n_units):
    demo = _demo()
    path = _write(tmp_path, demo, extra=f'merged = "aggregate"\naggregate = "demo"\nregion = "{region}"')
    res = run(path, tmp_path / "out", quiet=True)
    reg = pd.read_csv(res.out / "tables" / "region.csv", comment="#")
    assert reg["units in region"].iloc[0] == n_units == reg["units in the panel"].iloc[0]
    cut = pd.read_csv(res.out / "tables" / "weights_cut.csv", comment="#").set_index("weights")
    assert (cut["units_in_W"] == n_units).all()


def test_unknown_region_names_the_item(tmp_path):
    path = _write(tmp_path, _demo(), extra='merged = "aggregate"\naggregate = "demo"\nregion = "Atlantis"')
    with pytest.raises(AnalysisRunError, match=r"\[data.region\]: region item 'Atlantis' is not an "
                                               r"agglomeration, a province"):
        run(path, tmp_path / "out", quiet=True)


def test_layer_units_keep_the_strict_check(tmp_path):
    demo = _demo()
    hebei = demo[demo["code"].str.startswith("13")]
    path = _write(tmp_path, hebei)
    text = path.read_text(encoding="utf-8").replace('islands = "keep"', 'islands = "keep"\nunits = "layer"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AnalysisRunError, match=r"units = \"layer\" W covers the whole layer"):
        run(path, tmp_path / "out", quiet=True)
