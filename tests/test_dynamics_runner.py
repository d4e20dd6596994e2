"""Runner steps [indices.NAME], [markov], [coupling], [obstacle], [geodetector], [gravity]:
outputs on the demo panel and the error messages of their keys."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from spatialinno.errors import AnalysisFileError, AnalysisRunError
from spatialinno.runner import run

from bad_inputs.runner_fixtures import PLAIN_ANALYSIS, tiny_project

DEMO = """[analysis]
title = "dynamics"
seed = 3

[data]
panel = "demo"
unit = "city"
time = "year"
merged = "aggregate"
aggregate = "demo"

[index]
name = "nqpf"
method = "entropy"
indicators = "demo"
dimensions = "demo"

[indices.devel]
method = "entropy"
indicators = { pgdp = "+", urbanisation = "+", human_capital = "+" }

[weights.knn4]
type = "knn"
k = 4

[markov]
variable = "nqpf"
weights = "knn4"
k = 3
lisa = true
years = [2018, 2019, 2020, 2021, 2022]

[coupling]
systems = ["nqpf", "devel"]
weights = [0.6, 0.4]
moran_weights = "knn4"
permutations = 99

[obstacle]
top = 2

[geodetector]
y = "nqpf"
factors = ["pgdp", "urbanisation"]
k = [3, 4]

[gravity]
variable = "nqpf"
years = [2011, 2022]

[output]
tables = ["csv"]
figures = ["png"]
"""


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dyn")
    path = folder / "analysis.toml"
    path.write_text(DEMO, encoding="utf-8")
    run(path, folder / "out", quiet=True)
    return folder / "out"


def test_steps_write_their_tables_and_figures(demo_run):
    tables = {p.stem for p in (demo_run / "tables").glob("*.csv")}
    assert {"index_weights_devel", "markov_nqpf", "markov_nqpf_classes", "markov_mfpt_nqpf",
            "spatial_markov_nqpf", "spatial_markov_tests_nqpf", "lisa_markov_nqpf",
            "coupling_levels", "coupling_by_year", "coupling_lagging", "coupling_moran",
            "obstacle_nqpf", "obstacle_dimensions_nqpf", "obstacle_top_nqpf_2022",
            "geodetector_factor", "geodetector_interaction", "geodetector_discretization",
            "gravity_nqpf"} <= tables
    figures = {p.stem for p in (demo_run / "figures").glob("*.png")}
    assert {"spatial_markov_nqpf", "coupling_map", "obstacle_nqpf", "geodetector_interaction",
            "gravity_nqpf"} <= figures
    by_year = pd.read_csv(demo_run / "tables" / "coupling_by_year.csv", comment="#")
    assert by_year["year"].tolist() == list(range(2011, 2023))
    markov = pd.read_csv(demo_run / "tables" / "spatial_markov_nqpf.csv", comment="#")
    assert set(markov["regime"]) == {"all", "lag C1", "lag C2", "lag C3"}
    assert markov.query("regime == 'all'")["n"].sum() == 337 * 4  # 5 years: 4 transitions
    levels = (demo_run / "tables" / "coupling_levels.csv").read_text(encoding="utf-8")
    assert "优质协调" in levels and "Tian" in (demo_run / "report.html").read_text("utf-8")


@pytest.mark.parametrize("extra,expected", [
    ('[markov]\nvariable = "y"\nweights = "nope"\n', r"markov\.weights: no weights named 'nope'"),
    ('[markov]\nvariable = "y"\nlisa = true\n', r"markov\.lisa: the LISA Markov chain needs"),
    ('[markov]\nvariable = "y"\nk = 1\n', r"markov\.k: expected a number of classes >= 2"),
    ('[markov]\nvariable = "y"\ncutoffs = [2.0, 1.0]\n', r"markov\.cutoffs: expected increasing"),
    ('[coupling]\nsystems = ["y"]\n', r"coupling\.systems: expected at least 2 different"),
    ('[coupling]\nsystems = ["y", "x"]\nweights = [0.7, 0.7]\n',
     r"coupling\.weights: expected 2 non-negative weights .* summing to 1"),
    ('[coupling]\nsystems = ["y", "x"]\nbalance_band = 1.5\n',
     r"coupling\.balance_band: expected a band in \[0, 1\)"),
    ('[obstacle]\nindex = "z"\n', r"obstacle\.index: no index named 'z'"),
    ('[geodetector]\ny = "y"\nfactors = ["x"]\nmethods = ["jenks"]\n',
     r"geodetector\.methods: unknown method 'jenks'"),
    ('[gravity]\nvariable = "y"\nscale = 0.0\n', r"gravity\.scale: expected a positive number"),
    ('[indices.q]\nmethod = "entropy"\nindicators = "all"\n',
     r"indices\.q\.indicators: expected 'demo' or a table"),
    ('[markov]\nvariable = "y"\nbins = 3\n', r"markov\.bins: unknown key"),
])
def test_analysis_file_errors_name_line_and_key(tmp_path, extra, expected):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + "\n" + extra)
    with pytest.raises(AnalysisFileError, match=expected) as err:
        run(path, tmp_path / "out", quiet=True)
    assert re.search(r"analysis\.toml, line \d+", str(err.value))


def test_markov_gap_names_unit_years(tmp_path):
    csv = "unit,year,y,x\n" + "".join(f"U{u},{2000 + t},{u + t * 0.5 + 1},{u}\n"
                                      for u in range(6) for t in range(3) if (u, t) != (2, 1))
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + '\n[markov]\nvariable = "y"\nk = 2\n', csv)
    with pytest.raises(AnalysisRunError, match=r"\[markov\].*\('U2', 2001\)"):
        run(path, tmp_path / "out", quiet=True)


def test_coupling_outside_unit_interval_is_named(tmp_path):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + '\n[coupling]\nsystems = ["y", "x"]\n')
    with pytest.raises(AnalysisRunError, match=r"\[coupling\].*outside or missing.*'y'.*U0/2000"):
        run(path, tmp_path / "out", quiet=True)


def test_markov_empty_class_and_unknown_variable(tmp_path):
    extra = '\n[markov]\nvariable = "y"\ncutoffs = [100.0]\n'
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + extra)
    with pytest.raises(AnalysisRunError, match=r"\[markov\].*C2 \(100, inf\]"):
        run(path, tmp_path / "out", quiet=True)
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + '\n[markov]\nvariable = "gdp"\n')
    with pytest.raises(AnalysisRunError, match=r"markov\.variable.*unknown variable 'gdp'"):
        run(path, tmp_path / "out", quiet=True)


def test_geodetector_single_stratum(tmp_path):
    csv = "unit,year,y,x,c\n" + "".join(f"U{u},2000,{u * 1.5},{u * 0.5},1\n" for u in range(8))
    extra = '\n[geodetector]\ny = "y"\nfactors = ["x", "c"]\nk = [2]\n'
    path = tiny_project(tmp_path, PLAIN_ANALYSIS + extra, csv)
    with pytest.raises(AnalysisRunError, match=r"\[geodetector\].*factor 'c' has 1 stratum"):
        run(path, tmp_path / "out", quiet=True)
