"""The runner with an unbalanced panel, by-year weights and random effects (issue 21): missing
unit-years go to the model as they are (bias_correction = "none"), weights declared with
by_year = true feed [esda] and [[models]], effects = "random" fits the RE model; each table
equals the Python API on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import AnalysisRunError
from spatialinno.models import fit
from spatialinno.runner import run
from spatialinno.weights import Weights, WeightsSequence

#: The runner calls the same fit on the same rows: identical up to summation order.
SAME = 1e-10

ANALYSIS = """
[analysis]
title = "Unbalanced Produc"
seed = 1

[data]
panel = "{csv}"
registry = false
unit = "state"
time = "year"

[weights.usaww]
type = "file"
path = "libpysal:states48.gal"
ids = "sorted_units"

[weights.econ]
type = "economic"
variable = "lpc"
by_year = true

[esda]
variables = ["lgsp"]
weights = "econ"
permutations = 9
lisa_years = [1985]

[[models]]
name = "sar_unb"
formula = "lgsp ~ lpcap + lpc + lemp + unemp"
model = "sar"
effects = "twoway"
weights = "usaww"
bias_correction = "{bc}"
draws = 50

[[models]]
name = "sem_econ"
formula = "lgsp ~ lpcap + lpc + lemp + unemp"
model = "sem"
effects = "unit"
weights = "econ"
bias_correction = "none"
draws = 50
"""


@pytest.fixture(scope="module")
def unbalanced_csv(produc, tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    p = produc[["state", "year", "gsp", "pcap", "pc", "emp", "unemp"]].copy()
    for v, src in (("lgsp", "gsp"), ("lpcap", "pcap"), ("lpc", "pc"), ("lemp", "emp")):
        p[v] = np.log(p[src])
    i = p["state"].map({s: k for k, s in enumerate(sorted(p["state"].unique()))})
    p = p[~(((7 * i + 3 * (p["year"] - 1970)) % 23 == 0)
            | ((p["state"] == "WYOMING") & (p["year"] > 1983)))].reset_index(drop=True)
    path = tmp_path_factory.mktemp("unb") / "produc_unbalanced.csv"
    p.to_csv(path, index=False)
    return path, p


def _analysis(tmp_path: Path, csv: Path, bc: str = "none") -> Path:
    path = tmp_path / "analysis.toml"
    path.write_text(ANALYSIS.format(csv=csv.as_posix(), bc=bc), encoding="utf-8")
    return path


def test_runner_unbalanced_by_year_weights(tmp_path, unbalanced_csv, states48):
    pytest.importorskip("libpysal")
    csv, data = unbalanced_csv
    res = run(_analysis(tmp_path, csv), tmp_path / "out", quiet=True)
    tables = res.out / "tables"
    sar = pd.read_csv(tables / "model_sar_unb.csv", comment="#").set_index("term")
    direct = fit("lgsp ~ lpcap + lpc + lemp + unemp", data, states48, "sar", "twoway",
                 unit="state", time="year", bias_correction=None, effects_draws=0)
    np.testing.assert_allclose(sar.loc[direct.params.index, "estimate"], direct.params, atol=SAME)
    econ = {t: Weights.economic(data, "lpc", "state", "year", years=[t],
                                units=sorted(g["state"]))
            for t, g in data.groupby("year")}
    sem = pd.read_csv(tables / "model_sem_econ.csv", comment="#").set_index("term")
    d2 = fit("lgsp ~ lpcap + lpc + lemp + unemp", data, WeightsSequence(econ), "sem", "unit",
             unit="state", time="year", bias_correction=None, effects_draws=0)
    np.testing.assert_allclose(sem.loc[d2.params.index, "estimate"], d2.params, atol=SAME)
    moran = pd.read_csv(tables / "moran_lgsp.csv", comment="#")
    assert list(moran["n"]) == list(data.groupby("year").size())
    assert (tables / "weights_by_year_econ.csv").is_file()


def test_runner_unbalanced_needs_the_direct_approach(tmp_path, unbalanced_csv):
    pytest.importorskip("libpysal")
    csv, data = unbalanced_csv
    gaps = 48 * 17 - len(data)
    with pytest.raises(AnalysisRunError, match=rf"models\[0\]\.bias_correction.*unbalanced "
                                                rf"\({gaps} unit-year\(s\) missing.*"
                                                r"bias_correction = \"none\""):
        run(_analysis(tmp_path, csv, bc="transform"), tmp_path / "out", quiet=True)
