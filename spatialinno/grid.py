"""Robustness grids and other loops of fits, serial or on a Dask cluster.

A robustness grid refits one model of an analysis file under every combination of the choices a
referee asks about: the spatial weights, the model (SAR, SDM, ...), the fixed effects, the sample
(year ranges, regions) and the method of the composite index. ``[grid]`` in the analysis file (or
a separate grid file naming the analysis) lists the values of each dimension; each cell of their
cross product is one fit, run through the runner's own steps (:func:`spatialinno.runner.fit_model`
and the data, index and weights steps), so a cell is the model ``spatialinno run`` would fit with
those choices (with the cell's own seed for the effect draws; region "all" is the analysis's own
sample, its ``[data] region`` when it has one). The outputs are a robustness table (the coefficient and the direct,
indirect and total effects of the term of interest in every cell), the cells' numbers in full
precision (``tables/grid_cells.csv``), a specification curve (Simonsohn, Simmons & Nelson 2020,
Nature Human Behaviour 4, 1208-1214), the report, the log and a manifest that records every cell.

Where the cells run (:func:`engine`): a local Dask cluster on the machine's cores (default), a
running Dask cluster (``scheduler="tcp://HOST:PORT"`` or ``DASK_SCHEDULER_ADDRESS``), or in this
process (``serial``). The outputs do not depend on it: every cell has its own seed derived from
the analysis seed and the cell's choices (:func:`cell_seed`), runs with one BLAS thread, and the
results are put back in cell order, so a serial run, one worker and many workers write the same
bytes. Placebo, bootstrap and Monte Carlo loops use the same mechanism (:func:`map_chunks`; e.g.
:func:`spatialinno.policy.placebo`).

What is prepared where: the client reads the data once, builds the index once per method (on the
whole panel, so a city's index value is the same number in every cell; a sample restricts the
model's estimation sample only) and cuts the samples; the workers build each W once per unit set
(on the sample's units, transformed after the cut, as in a run) and fit the cells. Workers need
spatialinno installed, not the data files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import outfolder, report
from .analysis import GRID_QUANTITIES, Analysis, _Checker, check_grid, load_analysis, read_toml
from .errors import AnalysisFileError, GridError, SpatialinnoError
from .models.table import _stars
from .progress import Progress
from .runner import (DEPENDENCIES, _complete_sample, _formula_variables, _PlainPanel,
                     _portable_text, _protected_paths, _read_weights_file, _restrict_to_region,
                     _sha256, _step_data, _step_index, _step_indices, _weights_on, _write_report,
                     fit_model, new_outputs, portable_path, quiet_state, write_log_and_manifest)

__all__ = ["run", "run_cells", "load_grid", "expand", "engine", "map_chunks", "cell_seed",
           "robustness_table", "Engine", "Cell", "CellResult", "GridResult", "DIMENSIONS"]

#: The dimensions of a grid, in the order of its cross product (the first varies slowest).
DIMENSIONS = ("index", "weights", "model", "effects", "years", "region")
_GRID_KEYS = {"index": "index", "weights": "weights", "model": "models", "effects": "effects",
              "years": "years", "region": "regions"}
_LABELS = {"index": "Index", "weights": "W", "model": "Model", "effects": "Effects",
           "years": "Years", "region": "Region"}
_QUANTITY_COLUMNS = {"coefficient": "Coefficient", "direct": "Direct", "indirect": "Indirect",
                     "total": "Total"}
_STARS = (0.10, 0.05, 0.01)  # * ** *** (the etable's levels)


# =============================================================================================
# Where the cells run
# =============================================================================================

class Engine:
    """Runs functions on a Dask client, or here when ``client`` is None.

    ``submit`` returns a handle (a Dask future, or the value itself when serial) that may be
    passed to further ``submit`` calls; ``collect`` returns the values in the order given.
    """

    def __init__(self, client: Any = None, description: str = "serial (this process)") -> None:
        self.client = client
        self.description = description

    @property
    def workers(self) -> int:
        """Number of Dask workers (1 when serial)."""
        if self.client is None:
            return 1
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def version_differences(self) -> list[str]:
        """Workers whose versions of the packages the numbers depend on differ from this
        process's (the same bytes everywhere assume the same versions), one line each."""
        if self.client is None:
            return []
        here = _versions()
        found = self.client.run(_versions)
        return [f"worker {addr}: {name} {v.get(name)} (here {here[name]})"
                for addr, v in sorted(found.items()) for name in sorted(here)
                if v.get(name) != here[name]]

    def share(self, value: Any) -> Any:
        """Send ``value`` to the cluster once (a handle tasks can take), or keep it here."""
        if self.client is None:
            return value
        # in a list: Dask scatters the items of a list or dict one by one, the list is one item
        return self.client.scatter([value], hash=False)[0]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` with one BLAS thread: now when serial, else as a Dask task."""
        if self.client is None:
            return _one_thread(fn, *args)
        return self.client.submit(_one_thread, fn, *args, pure=False)

    def collect(self, handles: Sequence[Any], progress: Progress | None = None,
                label: str = "cells") -> list[Any]:
        """The values of ``handles`` in their order (a progress bar as they finish)."""
        progress = progress or Progress(enabled=False)
        if self.client is None:
            return list(handles)
        from distributed import as_completed

        for _ in progress.bar(as_completed(handles), label, total=len(handles)):
            pass
        return self.client.gather(list(handles))


#: Packages whose versions decide the numbers of a cell.
_NUMERIC_PACKAGES = ("spatialinno", "numpy", "scipy", "pandas", "libpysal", "formulaic")


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in _NUMERIC_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def _one_thread(fn: Callable[..., Any], *args: Any) -> Any:
    # one BLAS thread: the same arithmetic (and bytes) on any number of workers and here
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return fn(*args)


@contextmanager
def engine(scheduler: str | None = None, workers: int | None = None, *,
           serial: bool = False, connect_timeout: float = 10.0) -> Iterator[Engine]:
    """Where a grid or loop runs.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``, started with ``dask scheduler``
        and joined by ``dask worker`` processes); default ``DASK_SCHEDULER_ADDRESS`` when set.
    workers : int, optional
        Worker processes of the local Dask cluster started otherwise (one thread each; default:
        the CPUs this process may use). Ignored with ``scheduler``.
    serial : bool
        Run everything in this process, without Dask.
    connect_timeout : float
        Seconds to wait for the scheduler before :class:`~spatialinno.errors.GridError`.
    """
    if serial:
        yield Engine()
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise GridError("Dask's distributed scheduler is not installed (pip install "
                        "distributed); or run serially (--serial)") from exc
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if address:
        try:
            client = Client(address, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise GridError(f"cannot reach the Dask scheduler at {address} ({exc}); start one "
                            "with `dask scheduler` and workers with `dask worker ADDRESS`, or "
                            "leave out --scheduler (and DASK_SCHEDULER_ADDRESS) for a local "
                            "cluster") from exc
        try:
            yield Engine(client, f"Dask scheduler {address}")
        finally:
            client.close()
        return
    n = workers if workers is not None else _cpus()
    if n < 1:
        raise GridError(f"workers={n}: a local cluster needs at least one worker process")
    import dask

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's dynamic
    # mmap threshold: every numpy temporary above 128 kB is then mmapped and unmapped, and the
    # fits ran 1.5 times slower than in this process (benchmarks/bench_grid.txt). Unset here.
    with warnings.catch_warnings(), dask.config.set(
            {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        warnings.simplefilter("ignore")  # e.g. "Port 8787 is already in use"
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=50,
                               env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                    "MKL_NUM_THREADS": "1"})
    client = Client(cluster)
    try:
        yield Engine(client, f"local Dask cluster ({n} worker process{'es' if n > 1 else ''})")
    finally:
        client.close()
        cluster.close()


def _cpus() -> int:
    """CPUs this process may use (its affinity on Linux, else the machine's count)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def map_chunks(fn: Callable[[Any, list[Any]], list[Any]], items: Sequence[Any], shared: Any,
               *, client: Any = None, chunks: int = 8) -> list[Any]:
    """``fn(shared, chunk)`` over ``chunks`` consecutive chunks of ``items``, serial or on a Dask
    client (``shared`` sent to the workers once), results concatenated in the items' order.

    The loop of placebo draws, bootstrap replications and Monte Carlo repetitions: each item
    carries its own seed or draw, so the results do not depend on the client or the chunking.
    """
    size = max(1, -(-len(items) // max(1, chunks)))
    parts = [list(items[i:i + size]) for i in range(0, len(items), size)]
    eng = Engine(client)
    data = eng.share(shared)
    return [r for part in eng.collect([eng.submit(fn, data, p) for p in parts]) for r in part]


def cell_seed(seed: int, choices: dict[str, str]) -> int:
    """The seed of a cell: from the analysis seed and the cell's choices (not its position), so
    adding a dimension or a value leaves the other cells' draws as they were."""
    text = json.dumps(choices, sort_keys=True, ensure_ascii=False)
    word = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([int(seed), word]).generate_state(1, np.uint32)[0])


# =============================================================================================
# The grid: file, cells
# =============================================================================================

@dataclass(frozen=True)
class Cell:
    """One specification of the grid: the value of every dimension (``None``: the whole sample
    for ``years`` and ``region``; no index for ``index``)."""

    number: int
    index: str | None
    weights: str
    model: str
    effects: str
    years: tuple[int, int] | None
    region: str | None

    def choices(self) -> dict[str, str]:
        """The cell's choices as text, by dimension."""
        return {"index": self.index or "-", "weights": self.weights, "model": self.model,
                "effects": self.effects,
                "years": "all" if self.years is None else f"{self.years[0]}-{self.years[1]}",
                "region": self.region or "all"}


def load_grid(path: str | Path) -> tuple[Analysis, dict[str, Any]]:
    """The analysis and its ``[grid]`` table, from an analysis file with a ``[grid]`` table or
    from a grid file (only a ``[grid]`` table whose ``analysis`` names the analysis file,
    relative to the grid file). Errors name the file, line and key."""
    path, text, doc = read_toml(path)
    grid = doc.get("grid")
    if not isinstance(grid, dict):
        raise AnalysisFileError(f"{path}: no [grid] table; a grid file holds [grid] with "
                                "analysis = \"ANALYSIS.toml\", an analysis file its own [grid]")
    if "analysis" in doc or "analysis" not in grid:
        analysis = load_analysis(path)  # an analysis file: its [grid] is checked with the rest
        return analysis, analysis.doc["grid"]
    from .analysis import SCHEMA

    c = _Checker(path, text)
    for key in doc:
        if key != "grid":
            c.fail((key,), "a grid file holds only [grid] (the analysis is in the file that "
                   "grid.analysis names)")
    c.check_table(("grid",), grid, SCHEMA["grid"])
    if c.errors:
        raise AnalysisFileError(f"{len(c.errors)} problem(s) in the grid file:\n  "
                                + "\n  ".join(c.errors))
    target = (path.parent / grid["analysis"]).resolve()
    if not target.is_file():
        c.fail(("grid", "analysis"), f"analysis file not found: {target}")
        raise AnalysisFileError(c.errors[0])
    analysis = load_analysis(target)
    check_grid(c, grid, analysis.doc)
    if c.errors:
        raise AnalysisFileError(f"{len(c.errors)} problem(s) in the grid file (against "
                                f"{target.name}):\n  " + "\n  ".join(c.errors))
    return analysis, grid


def expand(analysis: Analysis, grid: dict[str, Any]) -> list[Cell]:
    """The cells of the grid: the cross product of its dimensions (a dimension the grid does not
    list keeps the base model's choice), numbered from 1 in :data:`DIMENSIONS` order."""
    base = next(m for m in analysis.doc.get("models", []) if m["name"] == grid["model"])
    index = analysis.section("index").get("method")
    values = {
        "index": grid.get("index", [index]),
        "weights": grid.get("weights", [base["weights"]]),
        "model": grid.get("models", [base["model"]]),
        "effects": grid.get("effects", [base["effects"]]),
        "years": [tuple(y) for y in grid["years"]] if "years" in grid else [None],
        "region": [None if r == "all" else r for r in grid.get("regions", ["all"])],
    }
    return [Cell(k + 1, *combo) for k, combo in
            enumerate(itertools.product(*(values[d] for d in DIMENSIONS)))]


# =============================================================================================
# One cell
# =============================================================================================

@dataclass(frozen=True)
class CellResult:
    """What a cell gave: the numbers of the term of interest, or why it failed."""

    cell: Cell
    seed: int
    status: str
    numbers: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the cell's model was fitted."""
        return self.status == "ok"


@dataclass(frozen=True)
class _Failed:
    message: str


@dataclass(frozen=True)
class _Sample:
    """A cell's estimation sample, prepared on the client."""

    data: pd.DataFrame
    unit: str
    time: str
    units: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # of the cut (units left out by missing = "drop_units")


def _state_on(analysis: Analysis, sample: _Sample) -> Any:
    s = quiet_state(analysis)
    s.data, s.unit, s.panel = sample.data, sample.unit, _PlainPanel(sample.data, sample.time,
                                                                      sample.unit)
    return s


def _build_weights(analysis: Analysis, layer: Any, files: dict[str, Any],
                   sample: _Sample | _Failed, name: str) -> Any:
    """W ``name`` on the sample's units, built by the runner's weights step (its warnings kept);
    weights files were read on the client (``files``)."""
    if isinstance(sample, _Failed):
        return sample
    s = _state_on(analysis, sample)
    s.layer, s.weight_files = layer, dict(files)
    try:
        w = _weights_on(s, name, sample.units)
    except SpatialinnoError as exc:
        return _Failed(f"weights {name}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a bug in one cell must not lose the grid
        return _Failed(f"weights {name}: internal error {type(exc).__name__}: {exc}")
    return w, tuple(s.out.warnings)


def _fit_cell(analysis: Analysis, cell: Cell, spec: dict[str, Any], sample: _Sample | _Failed,
              built: Any, seed: int, term: str) -> CellResult:
    """Fit the cell's model by the runner's model step; keep the term's numbers. Errors of the
    fit are the cell's status (named errors as they are, anything else as an internal error),
    never the end of the grid."""
    for failed in (sample, built):
        if isinstance(failed, _Failed):
            return CellResult(cell, seed, f"failed: {failed.message}")
    w, w_warnings = built
    said = sample.warnings + w_warnings
    s = _state_on(analysis, sample)
    s.weights[spec["weights"]] = w
    s.weight_cache[(spec["weights"], sample.units)] = w
    index = next(i for i, m in enumerate(analysis.doc["models"]) if m["name"] == spec["name"])
    try:
        res = fit_model(s, index, spec, seed)
        terms = list(res.tidy()["term"])
        if term not in terms:
            return CellResult(cell, seed, f"failed: {term!r} is not a coefficient of the fitted "
                              f"model (its terms: {terms}); [grid] term must name a regressor as "
                              "the formula enters it", warnings=said)
        numbers = _term_numbers(res, term)
    except SpatialinnoError as exc:
        return CellResult(cell, seed, f"failed: {exc}", warnings=said)
    except Exception as exc:  # noqa: BLE001 - a bug in one cell must not lose the grid
        return CellResult(cell, seed, f"failed: internal error {type(exc).__name__}: {exc}",
                          warnings=said)
    return CellResult(cell, seed, "ok", numbers, said + tuple(s.out.warnings))


def _term_numbers(res: Any, term: str) -> dict[str, float]:
    """Coefficient and effects of ``term``: estimate, standard error, p-value, interval (for a
    dynamic model the short-run effects)."""
    from .models.table import model_effects

    out: dict[str, float] = {"nobs": float(res.nobs), "loglik": float(res.loglik)}
    for name, attr in (("rho", "rho"), ("lambda", "lambda_")):
        value = getattr(res, attr, None)
        out[name] = float(value) if value is not None else np.nan
    tidy = res.tidy().set_index("term")
    for q in GRID_QUANTITIES:
        for k in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper"):
            out[f"{q}_{k}"] = np.nan
    if term in tidy.index:
        row = tidy.loc[term]
        for k in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper"):
            out[f"coefficient_{k}"] = float(row[k])
    eff = model_effects(res).frame
    if eff is not None and len(eff):
        for _, row in eff[eff["variable"] == term].iterrows():
            # a dynamic model labels its effects "direct (short run)", ...: the short-run ones
            effect = str(row["effect"]).removesuffix(" (short run)")
            if effect in ("direct", "indirect", "total"):
                for k in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper"):
                    out[f"{effect}_{k}"] = float(row[k]) if k in row else np.nan
    return out


# =============================================================================================
# The run
# =============================================================================================

@dataclass(frozen=True)
class GridResult:
    """A finished grid: the cells' results in cell order, and where it ran."""

    analysis: Analysis
    grid: dict[str, Any]
    results: tuple[CellResult, ...]
    engine: str
    inputs: tuple[dict[str, str], ...] = ()
    warnings: tuple[str, ...] = ()  # of the data and index steps
    out: Path | None = None

    def frame(self) -> pd.DataFrame:
        """One row per cell: its choices, seed, status and the term's numbers (full precision;
        ``ci_lower``/``ci_upper`` are the fit's 95% intervals, the specification curve uses
        ``[grid] level``)."""
        rows = []
        for r in self.results:
            rows.append({"cell": r.cell.number, **r.cell.choices(), "seed": r.seed,
                         "status": r.status, **r.numbers})
        frame = pd.DataFrame(rows)
        numbers = [f"{q}_{k}" for q in GRID_QUANTITIES
                   for k in ("estimate", "std_error", "p_value", "ci_lower", "ci_upper")]
        for col in ("nobs", "loglik", "rho", "lambda", *numbers):
            if col not in frame.columns:
                frame[col] = np.nan
        return frame[["cell", *DIMENSIONS, "seed", "status", "nobs", "loglik", "rho", "lambda",
                      *numbers]]


def run_cells(analysis: Analysis, grid: dict[str, Any], eng: Engine, *,
             progress: Progress | None = None) -> GridResult:
    """Run every cell of ``grid`` on ``eng``; the results in cell order."""
    progress = progress or Progress(enabled=False)
    cells = expand(analysis, grid)
    base = next(m for m in analysis.doc.get("models", []) if m["name"] == grid["model"])
    seed = int(analysis.section("analysis")["seed"])
    with progress.step("data and index", 1, 3):
        prep = _prepare(analysis, cells)
    layer_handle = eng.share(prep.layer) if prep.layer is not None else None
    files_handle = eng.share(prep.files)
    samples: dict[Any, Any] = {}
    weights: dict[Any, Any] = {}
    fits = []
    with progress.step(f"{len(cells)} cells on {eng.description}", 2, 3):
        for cell in cells:
            spec = _cell_spec(base, cell, grid)
            skey = (cell.index, cell.years, cell.region)
            if skey not in samples:
                samples[skey] = eng.share(_sample(analysis, prep.by_index[cell.index], cell, spec))
            sample = samples[skey]
            wkey = (skey, cell.weights)
            if wkey not in weights:
                weights[wkey] = eng.submit(_build_weights, analysis, layer_handle, files_handle,
                                           sample, cell.weights)
            fits.append(eng.submit(_fit_cell, analysis, cell, spec, sample, weights[wkey],
                                   cell_seed(seed, cell.choices()), grid["term"]))
        results = [_portable(r, analysis) for r in eng.collect(fits, progress, "cells")]
    return GridResult(analysis, grid, tuple(results), eng.description, tuple(prep.inputs),
                      tuple(prep.warnings))


def _portable(result: CellResult, analysis: Analysis) -> CellResult:
    """The cell's status and warnings without this machine's paths (outputs must not depend on
    where the project lies)."""
    return dataclasses.replace(result, status=_portable_text(result.status, analysis),
                               warnings=tuple(_portable_text(w, analysis)
                                              for w in result.warnings))


def _cell_spec(base: dict[str, Any], cell: Cell, grid: dict[str, Any]) -> dict[str, Any]:
    spec = {**base, "weights": cell.weights, "model": cell.model, "effects": cell.effects}
    if "draws" in grid:
        spec["draws"] = grid["draws"]
    return spec


@dataclass(frozen=True)
class _Preparation:
    """What the client prepares once: the data with each index method's index, the boundary
    layer, the weights files as read, the inputs (for the manifest) and the steps' warnings."""

    by_index: dict[str | None, Any]
    layer: Any
    files: dict[str, Any]
    inputs: list[dict[str, str]]
    warnings: list[str]


def _prepare(analysis: Analysis, cells: list[Cell]) -> _Preparation:
    """The runner's data step once, the weights files the cells use read once, then the index
    steps once per index method."""
    s = quiet_state(analysis)
    _step_data(s)
    specs = analysis.section("weights")
    names = list(dict.fromkeys(c.weights for c in cells))
    for name in names:  # with the W a nested or mixed W is built on
        names += [specs[name][k] for k in ("geo", "econ") if k in specs[name]
                  and specs[name][k] not in names]
    for name in names:
        if specs[name]["type"] == "file":
            _read_weights_file(s, name, specs[name])
    prepared: dict[str | None, Any] = {}
    for method in dict.fromkeys(c.index for c in cells):
        doc = dict(analysis.doc)
        if method is not None:
            doc["index"] = {**doc["index"], "method": method}
        t = quiet_state(Analysis(analysis.path, doc, analysis.text))
        t.data, t.panel, t.unit, t.layer = s.data, s.panel, s.unit, s.layer
        try:
            if "index" in doc:
                _step_index(t)
            if "indices" in doc:
                _step_indices(t)
        except SpatialinnoError as exc:
            prepared[method] = _Failed(f"index {method}: {exc}")
            continue
        prepared[method] = t
    said = s.out.warnings + [w for t in prepared.values() if not isinstance(t, _Failed)
                             for w in t.out.warnings]
    return _Preparation(prepared, s.layer, s.weight_files, s.inputs, list(dict.fromkeys(said)))


def _sample(analysis: Analysis, prepared: Any, cell: Cell, spec: dict[str, Any]
            ) -> _Sample | _Failed:
    """The cell's estimation sample: its years and region of the prepared data, then the
    model's complete-data rule (``missing``) as in a run."""
    if isinstance(prepared, _Failed):
        return prepared
    s, data = prepared, prepared.data
    try:
        if cell.years is not None:
            t = data[s.panel.time]
            data = data[(t >= cell.years[0]) & (t <= cell.years[1])].reset_index(drop=True)
            if data.empty:
                return _Failed(f"no observation in the years {cell.years[0]}-{cell.years[1]}")
        if cell.region is not None:
            cfg = {**analysis.section("data"), "region": cell.region}
            data = _restrict_to_region(s, data, cfg)
        t = quiet_state(analysis)
        t.data, t.panel, t.unit = data, s.panel, s.unit
        variables = _formula_variables(t, "grid.model", spec["formula"])
        data, units = _complete_sample(t, f"models.{spec['name']}", variables,
                                       spec.get("missing", "error"))
    except SpatialinnoError as exc:
        return _Failed(str(exc))
    units = units or tuple(sorted(data[s.unit].astype(str).unique()))
    return _Sample(data.reset_index(drop=True), s.unit, s.panel.time, units,
                   tuple(t.out.warnings))


# =============================================================================================
# Outputs
# =============================================================================================

def robustness_table(result: GridResult, *, digits: int = 4) -> pd.DataFrame:
    """The publication table: one block of two rows per cell (estimates with stars, then their
    standard errors in parentheses) of the term's coefficient and direct, indirect and total
    effects; a column for each dimension the grid varies (the fixed ones in the note)."""
    frame = result.frame()
    varied = [d for d in DIMENSIONS if frame[d].nunique() > 1] or ["model"]
    rows = []
    for _, r in frame.iterrows():
        top = {"Cell": str(r["cell"]), **{_LABELS[d]: r[d] for d in varied}}
        bottom = {"Cell": "", **{_LABELS[d]: "" for d in varied}}
        for q, label in _QUANTITY_COLUMNS.items():
            est, se, p = r[f"{q}_estimate"], r[f"{q}_std_error"], r[f"{q}_p_value"]
            top[label] = f"{est:.{digits}f}{_stars(p, _STARS)}" if np.isfinite(est) else ""
            bottom[label] = f"({se:.{digits}f})" if np.isfinite(se) else ""
        top["N"] = str(int(r["nobs"])) if np.isfinite(r["nobs"]) else ""
        bottom["N"] = ""
        if r["status"] != "ok":
            top["Coefficient"] = "failed"
        rows += [top, bottom]
    table = pd.DataFrame(rows)
    fixed = [f"{_LABELS[d]} {frame[d].iloc[0]}" for d in DIMENSIONS
             if d not in varied and frame[d].iloc[0] not in ("-",)]
    g = result.grid
    note = (f"Term: {g['term']}. Model {g['model']} refitted in every cell"
            + (f"; in all cells: {', '.join(fixed)}" if fixed else "")
            + ". Standard errors in parentheses; * p < 0.10, ** p < 0.05, *** p < 0.01. "
            "Effects as in the run (simulated draws for models with a spatial lag of y; exact "
            "for SEM, SLX, SDEM); each cell has its own seed (tables/grid_cells.csv).")
    return report.with_layout(table, report.Layout(note=note))


def _write_outputs(result: GridResult, tmp: Path, quiet: bool,
                   differences: Sequence[str] = ()) -> Any:
    from .plots import specification_curve
    a, g = result.analysis, result.grid
    outputs = new_outputs(a, tmp, quiet)
    note = outputs.note
    frame = result.frame()
    quantity = g.get("quantity", "direct")
    failed = frame[frame["status"] != "ok"]
    outputs.section(f"Robustness grid: {g['term']} in {len(frame)} specifications")
    outputs.table("robustness", robustness_table(result),
                  f"Robustness of the {g['term']} estimates across {len(frame)} specifications "
                  f"(model {g['model']})")
    fig = specification_curve(frame, quantity=quantity, term=g["term"],
                              dimensions=[d for d in DIMENSIONS if frame[d].nunique() > 1],
                              level=g.get("level", 0.95), note=note)
    outputs.figure("specification_curve", fig, f"Specification curve: {quantity} of "
                   f"{g['term']}, {len(frame) - len(failed)} fitted cells", beside="robustness")
    (tmp / "tables").mkdir(parents=True, exist_ok=True)
    (tmp / "tables" / "grid_cells.csv").write_text(
        (f"# {note}\n" if note else "") + report.to_csv(frame), encoding="utf-8")
    for line in differences:
        outputs.warn(f"package versions differ, so the outputs may differ from a serial run: "
                     f"{line}")
    for w in result.warnings:
        outputs.warn(f"data and index: {w}")
    for r in result.results:
        for w in r.warnings:
            outputs.warn(f"cell {r.cell.number}: {w}")
    for _, r in failed.iterrows():
        outputs.warn(f"cell {r['cell']} ({_describe(r)}) not fitted: {r['status']}")
    outputs.log += [f"grid: {len(frame)} cells of model {g['model']}, term {g['term']}",
                    *[f"cell {r['cell']}: {_describe(r)}; seed {r['seed']}; {r['status']}"
                      + (f"; {quantity} {r[f'{quantity}_estimate']!r}" if r["status"] == "ok"
                         else "") for _, r in frame.iterrows()]]
    _write_report(outputs, f"{a.section('analysis')['title']}: robustness grid")
    return outputs


def _describe(row: pd.Series) -> str:
    return ", ".join(f"{d} {row[d]}" for d in DIMENSIONS)


def run(path: str | Path, out: str | Path = "grid_out", *, scheduler: str | None = None,
        workers: int | None = None, serial: bool = False, quiet: bool = False) -> GridResult:
    """Run the robustness grid of ``path`` (an analysis file with ``[grid]``, or a grid file) and
    write its outputs into ``out`` under the output-folder contract of
    :mod:`spatialinno.outfolder` (an existing folder is replaced only when it holds an earlier
    spatialinno output and nothing else). ``scheduler``, ``workers`` and ``serial`` say where
    the cells run (:func:`engine`); a script that starts the local cluster must call this under
    ``if __name__ == "__main__":`` (Dask starts its workers as fresh Python processes)."""
    t0 = time.perf_counter()
    analysis, g = load_grid(path)
    path = Path(path).resolve()
    out = Path(out).absolute()
    protected = _protected_paths(analysis) + [path]
    outfolder.check_replaceable(out, protected)
    outfolder.clean_interrupted(out)
    with engine(scheduler, workers, serial=serial) as eng:
        differences = eng.version_differences()
        result = run_cells(analysis, g, eng, progress=Progress.for_terminal(quiet=quiet))
        where = {"where": result.engine, "workers": eng.workers}
    tmp = outfolder.new_temporary(out.parent)
    try:
        outputs = _write_outputs(result, tmp, quiet, differences)
        files, _ = write_log_and_manifest(
            tmp, out, analysis, outputs.log, [_grid_input(path)] + list(result.inputs),
            extra=_manifest_entries(result, path, out, where),
            timings={"grid": round(time.perf_counter() - t0, 3)},
            dependencies=(*DEPENDENCIES, "dask", "distributed"))
        outfolder.install(tmp, out, protected)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not quiet:
        ok = sum(r.ok for r in result.results)
        print(f"grid: {ok} of {len(result.results)} cells fitted on {result.engine}; wrote "
              f"{len(files) + 1} files to {out} ({time.perf_counter() - t0:.1f} s)")
    return GridResult(result.analysis, g, result.results, result.engine, result.inputs,
                      result.warnings, out)


def _grid_input(path: Path) -> dict[str, str]:
    return {"role": "grid", "path": str(path), "sha256": _sha256(path)}


def _manifest_entries(result: GridResult, path: Path, out: Path, where: dict[str, Any]
                      ) -> dict[str, Any]:
    """What a grid's manifest holds beyond a run's (:func:`spatialinno.runner.run`): the grid
    file and table, every cell (choices, seed, status, sha256 of its row of grid_cells.csv) and
    where the cells ran."""
    frame = result.frame()
    cells = [{"cell": int(r["cell"]), "choices": {d: r[d] for d in DIMENSIONS},
              "seed": int(r["seed"]), "status": r["status"],
              "sha256": hashlib.sha256(report.to_csv(frame.iloc[[i]]).encode()).hexdigest()}
             for i, (_, r) in enumerate(frame.iterrows())]
    return {"grid": {"path": portable_path(path, out), "sha256": _sha256(path),
                     "table": result.grid},
            "cells": cells, "engine": where}
