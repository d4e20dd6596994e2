"""The shipped county analysis (``analyses/county_demo.toml``) end to end, as a fresh install runs
it: the 2,840-unit SYNTHETIC county panel joined year-aware, the index, three W, Moran/LISA with
999 permutations, model choice and three two-way SDMs with 1,000-draw effects (issue 22; its
speed is measured in benchmarks/bench_county.py, not here).

The demo panel is simulated by spatialinno/data/make_county_demo.py from known parameters on the
queen W of the analysis, so the SDM on that W must recover them: every coefficient within 4.5 of
its standard errors of the truth (a 4.5-sigma band over 7 parameters: a false alarm has
probability below 1e-4).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spatialinno.data.make_county_demo import PARAMS
from spatialinno.runner import run

ANALYSIS = Path(__file__).resolve().parents[1] / "analyses" / "county_demo.toml"
N_COUNTIES = 2840


@pytest.fixture(scope="module")
def county_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("county") / "out"
    run(ANALYSIS, out, quiet=True)
    return out


def _table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{name}.csv", comment="#")


def test_county_outputs_are_labelled_synthetic(county_run):
    for md in (county_run / "tables").glob("*.md"):
        assert "SYNTHETIC DATA" in md.read_text(encoding="utf-8"), md.name
    assert "SYNTHETIC DATA" in (county_run / "report.html").read_text(encoding="utf-8")


def test_county_join_keeps_every_row(county_run):
    rep = _table(county_run, "join_report").set_index("status")["rows"]
    assert rep.sum() == N_COUNTIES * 15  # 2010-2024, every row one status
    assert rep[["matched", "matched_history"]].sum() == rep.sum()
    assert rep["matched_history"] > 0  # codes printed before a change resolve to today's units


def test_county_sdm_recovers_the_simulated_parameters(county_run):
    est = _table(county_run, "model_sdm_queen").set_index("term")
    truth = {"rho": PARAMS["rho"]}
    truth |= {f"x{j + 1}": b for j, b in enumerate(PARAMS["beta"])}
    truth |= {f"W*x{j + 1}": t for j, t in enumerate(PARAMS["theta"])}
    for term, value in truth.items():
        z = (est.loc[term, "estimate"] - value) / est.loc[term, "std_error"]
        assert abs(z) < 4.5, (term, est.loc[term, "estimate"], value)


def test_county_lisa_and_weights_cover_every_unit(county_run):
    counts = _table(county_run, "lisa_counts_ln_innov").set_index("year")
    assert (counts.sum(axis=1) == N_COUNTIES).all() and len(counts) == 15
    assert counts[["HH", "LL"]].to_numpy().sum() > 0  # the DGP has positive spatial dependence
    summary = _table(county_run, "weights_summary").set_index("diagnostic")
    assert set(summary.columns) == {"queen", "knn6", "knn12"}
    assert (summary.loc["units (n)"].astype(int) == N_COUNTIES).all()
    assert (summary.loc["islands"].astype(int) == 0).all()
