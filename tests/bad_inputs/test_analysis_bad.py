"""Analysis files: out-of-range values and messages in the analysis file's own language."""

from __future__ import annotations

import re

import pytest

from spatialinno.errors import AnalysisFileError, AnalysisRunError
from spatialinno.runner import run

from runner_fixtures import PLAIN_ANALYSIS, tiny_project

ESDA = """
[weights.ring]
type = "file"
path = "ring.gal"

[esda]
variables = ["y"]
weights = "ring"
"""


@pytest.mark.parametrize("extra,expected", [
    ('[esda]\nvariables = ["y"]\nweights = "w"\npermutations = 0\n', r"esda\.permutations: expected a positive number"),
    ('[esda]\nvariables = ["y"]\nweights = "w"\nalpha = 1.5\n', r"esda\.alpha: expected a level in \(0, 1\)"),
    ('[[models]]\nname = "m"\nformula = "y ~ x"\nmodel = "sar"\neffects = "unit"\nweights = "w"\ndraws = -5\n',
     r"models\[0\]\.draws: expected a positive number of simulation draws"),
    ('[weights.w]\ntype = "knn"\nk = 0\n', r"weights\.w\.k: expected a positive number of neighbours"),
    ('[weights.w]\ntype = "distance"\ncutoff_km = -10.0\n', r"weights\.w\.cutoff_km: expected a positive distance"),
    ('[choose]\nformula = "y ~ x"\nweights = "w"\nlevel = 0.0\n', r"choose\.level: expected a level in \(0, 1\)"),
])
def test_out_of_range_values_name_line_and_key(tmp_path, extra, expected):
    text = PLAIN_ANALYSIS + "\n" + extra
    if "[weights.w]" not in extra:
        text += '\n[weights.w]\ntype = "knn"\nk = 2\n'
    path = tiny_project(tmp_path, text)
    with pytest.raises(AnalysisFileError, match=expected) as err:
        run(path, tmp_path / "out", quiet=True)
    assert re.search(r"analysis\.toml, line \d+", str(err.value))
    assert not (tmp_path / "out").exists()


def test_negative_seed(tmp_path):
    path = tiny_project(tmp_path, PLAIN_ANALYSIS.replace("seed = 7", "seed = -3"))
    with pytest.raises(AnalysisFileError, match=r"line 3: analysis\.seed: expected an integer in \[0, 2\*\*32 - 1\], got -3"):
        run(path, tmp_path / "out", quiet=True)


def test_join_failure_speaks_the_analysis_file_language(tmp_path):
    csv = "city,year,gdp\n北京市,2015,1.0\n亚特兰蒂斯,2015,2.0\n"
    text = PLAIN_ANALYSIS.replace('unit = "unit"', 'unit = "city"').replace(
        "registry = false\n", "").replace('panel = "tiny.csv"', 'panel = "tiny.csv"')
    path = tiny_project(tmp_path, text, csv=csv)
    with pytest.raises(AnalysisRunError) as err:
        run(path, tmp_path / "out", quiet=True)
    msg = str(err.value)
    assert "亚特兰蒂斯" in msg and "line 3" in msg
    assert "set [data] strict = false" in msg and "strict=False" not in msg


def test_unknown_weights_reference_lists_the_declared_ones(tmp_path):
    text = PLAIN_ANALYSIS + '\n[weights.w]\ntype = "knn"\nk = 2\n\n[esda]\nvariables = ["y"]\nweights = "queen"\n'
    with pytest.raises(AnalysisFileError, match=r"esda\.weights: .*'queen'"):
        run(tiny_project(tmp_path, text), tmp_path / "out", quiet=True)


def test_unknown_table_is_named(tmp_path):
    text = PLAIN_ANALYSIS + '\n[modles]\nname = "x"\n'
    with pytest.raises(AnalysisFileError, match=r"line \d+: modles: unknown table"):
        run(tiny_project(tmp_path, text), tmp_path / "out", quiet=True)
