"""The runner's [disparity] step: its keys' error messages, a small run and its tables."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from spatialinno.errors import AnalysisFileError, AnalysisRunError
from spatialinno.runner import run

EXACT = 1e-12  # the CSV keeps full precision (shortest repr)

BASE = """
[analysis]
title = "disparity"
seed = 1

[data]
panel = "demo"
unit = "city"
time = "year"
merged = "aggregate"
aggregate = "demo"
region = ["江苏", "浙江", "安徽", "辽宁"]

[weights.queen]
type = "contiguity"
islands = "connect"
k_islands = 2

[disparity]
variable = "{var}"
{extra}
"""


def write(tmp_path: Path, var: str = "gdp", extra: str = "") -> Path:
    path = tmp_path / "analysis.toml"
    path.write_text(BASE.format(var=var, extra=extra), encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, message", [
    ('bandwidth = "nrd"', "disparity.bandwidth: expected 'silverman', 'scott' or a positive "
                          "number, got 'nrd'"),
    ("bandwidth = -0.5", "disparity.bandwidth: expected a positive bandwidth"),
    ('beta = ["ols"]', "disparity.beta: unknown model 'ols'; expected any of ['fe', 'sar', "
                       "'sdm', 'sem']"),
    ('beta = ["sdm"]', "disparity.weights: required for the spatial beta-convergence models "
                       "['sdm']; name a declared [weights.NAME]: ['queen']"),
    ('beta = ["fe"]\nweights = "rook"', "disparity.weights: no weights named 'rook'; declared: "
                                        "['queen']"),
    ("bootstrap = -1", "disparity.bootstrap: expected a number of bootstrap draws >= 0"),
    ('outside = "keep"', "disparity.outside: expected one of ['drop', 'group'], got 'keep'"),
    ('overlap = "first"', "disparity.overlap: expected 'raise', 'plan_order' or a list"),
    ("time_trim = 1.5", "disparity.time_trim: expected a share of periods in (0, 1)"),
    ('colour = "red"', "disparity.colour: unknown key"),
    ('controls = ["gdp"]', "disparity.controls: the variable 'gdp' is also a control"),
])
def test_file_errors_name_line_and_key(tmp_path, extra, message):
    path = write(tmp_path, extra=extra)
    with pytest.raises(AnalysisFileError, match=re.escape(message)) as err:
        run(path, tmp_path / "out", quiet=True)
    assert f"{path}, line" in str(err.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("var, extra, message", [
    ("gdp_pc", "", r"\[disparity.variable\]: unknown variable\(s\) \['gdp_pc'\]"),
    ("gdp", 'by = ["province_group"]', r"\[disparity.by\]: 'province_group' is not "
                                        r"'agglomeration', 'region' or a column"),
    ("gdp", 'by = ["region"]\nkernel = false\nclubs = false\ncontrols = ["x9"]',
     r"\[disparity.controls\]: unknown variable\(s\) \['x9'\]"),
    ("gdp", 'by = ["region"]\nkernel_years = [1999]',
     r"\[disparity.kernel_years\]: year\(s\) \[1999\] not in the data"),
])
def test_run_errors_name_the_key(tmp_path, var, extra, message):
    with pytest.raises(AnalysisRunError, match=message):
        run(write(tmp_path, var, extra), tmp_path / "out", quiet=True)


def test_a_small_disparity_run(tmp_path):
    extra = ('by = ["region"]\nkernel_by = "region"\nbeta = ["fe", "sar"]\nweights = "queen"\n'
             'clubs = true\nbootstrap = 19')
    res = run(write(tmp_path, "gdp", extra), tmp_path / "out", quiet=True)
    tables = tmp_path / "out" / "tables"
    dag = pd.read_csv(tables / "dagum_gdp_region.csv", comment="#")
    assert ((dag["G_w"] + dag["G_nb"] + dag["G_t"] - dag["G"]).abs() < EXACT).all()
    assert {"G_jj central", "G_jj east", "G_jj northeast"} <= set(dag.columns)
    beta = pd.read_csv(tables / "beta_convergence_gdp.csv", comment="#")
    assert list(beta["model"]) == ["fe", "sar"]
    ci = pd.read_csv(tables / "dagum_ci_gdp_region.csv", comment="#")
    assert set(ci["statistic"]) >= {"G", "G_jj", "G_jh"}
    for name in ("dagum_within_gdp_region", "dagum_between_gdp_region",
                 "dagum_contributions_gdp_region", "kernel_density_gdp",
                 "kernel_density_surface_gdp", "convergence_clubs_gdp"):
        assert f"figures/{name}.png" in res.outputs, name
    assert "Regional disparity and distribution dynamics of gdp" in (
        tmp_path / "out" / "report.html").read_text(encoding="utf-8")
