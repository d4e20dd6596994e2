"""The shipped SYNTHETIC demo panel and the main job (`spatialinno run`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatialinno import cities
from spatialinno.runner import DEMO_PANEL, demo_panel, run

DATA = Path(str(resources.files("spatialinno.data")))


def test_demo_panel_is_labelled_synthetic():
    assert "SYNTHETIC" in DEMO_PANEL
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "**SYNTHETIC DATA.**" in readme


def test_shipped_demo_panel_is_reproduced_by_its_documented_generator():
    from spatialinno.data.make_demo_panel import SEED, generate

    panel, truth = generate(SEED)
    text = panel.to_csv(index=False, lineterminator="\n")
    assert text == (DATA / DEMO_PANEL).read_text(encoding="utf-8")
    shipped_truth = pd.read_csv(DATA / "demo_truth_SYNTHETIC.csv", dtype={"adcode": str})
    np.testing.assert_allclose(shipped_truth["nqpf_latent"], truth["nqpf_latent"], rtol=1e-9)


def test_demo_join_exercises_history_and_merges_and_is_balanced():
    p = demo_panel()
    c = p.report.counts
    assert p.is_balanced and len(p.data) == 337 * 12 and p.years == list(range(2011, 2023))
    assert set(p.units) == set(cities.registry()["adcode"])
    assert c["merged_aggregated"] == 9  # 莱芜 2011-2018, 巢湖 2011
    hist = p.report.history_matches
    assert {"毕节地区", "铜仁地区", "海东地区", "那曲地区", "莱芜市", "巢湖市"} <= set(hist["value"])
    assert sum(c.values()) == 4053 == p.report.n_input


def test_demo_join_by_historical_codes_gives_the_same_panel():
    """Keyed by the yearbook's codes (522400, 469003, 371200 ...) the join must agree with the
    join keyed by the yearbook's names."""
    from spatialinno.data.make_demo_panel import AGGREGATE_RULES
    from spatialinno.errors import BoundaryChangeWarning
    from spatialinno.panel import load_panel

    with pytest.warns(BoundaryChangeWarning):
        by_code = load_panel(DATA / DEMO_PANEL, unit="code", merged="aggregate",
                             aggregate={**AGGREGATE_RULES, "city": "successor"})
    by_name = demo_panel()
    assert set(by_code.report.rows["rule"]) >= {"code", "code_history"}
    cols = ["adcode", "year", "rd_expenditure", "gdp", "green_coverage"]
    pd.testing.assert_frame_equal(by_code.data[cols], by_name.data[cols])


def test_demo_dgp_has_spatial_dependence_and_the_index_tracks_the_latent_truth():
    from spatialinno.data.make_demo_panel import INDICATORS, queen_w
    from spatialinno.index import build_index

    truth = pd.read_csv(DATA / "demo_truth_SYNTHETIC.csv", dtype={"adcode": str})
    units = sorted(truth["adcode"].unique())
    W = queen_w(units)
    z = truth[truth["year"] == 2022].set_index("adcode").loc[units, "nqpf_latent"].to_numpy()
    zc = z - z.mean()
    n, s0 = len(z), W.sum()
    moran = n / s0 * (zc @ W @ zc) / (zc @ zc)  # closed-form Moran's I
    # Cliff & Ord (1981) moments under normality: E[I] = -1/(n-1),
    # Var[I] = (n^2 S1 - n S2 + 3 S0^2) / ((n^2 - 1) S0^2) - E[I]^2
    s1 = 0.5 * ((W + W.T) ** 2).sum()
    s2 = ((W.sum(axis=0) + W.sum(axis=1)) ** 2).sum()
    e_i = -1 / (n - 1)
    var_i = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - e_i**2
    assert (moran - e_i) / np.sqrt(var_i) > 3  # the SDM DGP (rho = 0.35) leaves clear dependence
    p = demo_panel()
    idx = build_index(p.data, {k: v[1] for k, v in INDICATORS.items()}, unit="adcode", time="year")
    merged = idx.with_index(p.data)[["adcode", "year", "nqpf"]].merge(truth, on=["adcode", "year"])
    rank_corr = merged["nqpf"].rank().corr(merged["nqpf_latent"].rank())
    assert rank_corr > 0.8


def test_failed_run_leaves_no_partial_output(tmp_path, monkeypatch):
    import spatialinno.index as index_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(index_module, "build_index", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run(None, tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too


def test_cli_reports_errors_with_exit_code_2(tmp_path, capsys):
    from spatialinno.cli import main

    assert main(["run", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "analysis file not found" in capsys.readouterr().err
    assert main(["verify", str(tmp_path)]) == 2
