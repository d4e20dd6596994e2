r"""Distribution dynamics: Gaussian kernel density of a variable across units, year by year.

    from spatialinno import distribution as dist
    kd = dist.kernel_density(data, "nqpf")                      # all units, every year
    kd = dist.kernel_density(data, "nqpf", by="region")         # and each NBS region
    kd.features            # peak location and height, number of modes, width, spread, tails
    dist.plot_density_lines(kd); dist.plot_density_surface(kd)  # the two figures papers print

The estimator is the Gaussian kernel density

.. math:: \hat f_t(x) = \frac{1}{n_t h_t}\sum_{i=1}^{n_t}\phi\!\left(\frac{x-y_{it}}{h_t}\right)

(Rosenblatt 1956; Parzen 1962), evaluated on one grid shared by every year and group so that the
curves and the surface are comparable. The bandwidth :math:`h_t` is chosen per year and group by
a stated rule (``bandwidth``), or given:

* ``"silverman"`` (default): :math:`h = 0.9\min(s, \mathrm{IQR}/1.34)\,n^{-1/5}`, Silverman
  (1986, *Density Estimation*, eq. 3.31); R's ``bw.nrd0`` and Stata's ``kdensity`` default.
* ``"scott"``: :math:`h = 1.06\min(s, \mathrm{IQR}/1.34)\,n^{-1/5}`, Scott (1992,
  *Multivariate Density Estimation*); R's ``bw.nrd``.
* a positive number: the bandwidth in the variable's units, for every year and group.

:math:`s` is the sample SD (divisor n - 1), the IQR uses linear interpolation of quantiles (R
type 7). The values agree with :class:`scipy.stats.gaussian_kde` given the same bandwidth (tests,
1e-12). Groups and missing values follow :mod:`spatialinno.disparity` (``by``, ``outside``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import report
from .disparity import Outside, _note_text, _prepare
from .errors import DisparityError, DisparityOptionError

__all__ = ["kernel_density", "bandwidth", "gaussian_kde_values", "DensityResult",
           "plot_density_lines", "plot_density_surface", "MODE_MIN_HEIGHT", "GRID_SIZE",
           "GRID_PAD", "SURFACE_CUT"]

#: A local maximum counts as a mode when its height is at least this share of the highest peak:
#: bumps lower than 5% of the main peak are within the sampling noise of a kernel estimate on a
#: few hundred units and are not what papers call a side peak.
MODE_MIN_HEIGHT = 0.05
#: Default number of grid points (the peak location is read to within (range + 6 h) / 511).
GRID_SIZE = 512
#: The grid runs from min - GRID_PAD h_max to max + GRID_PAD h_max, where the Gaussian tails
#: have fallen below 1.2% of their height (exp(-3^2/2)).
GRID_PAD = 3.0
#: The surface figure leaves out values where every year's density is below 1% of the
#: highest (the flat tails would take most of the value axis).
SURFACE_CUT = 0.01
_NORM = 1 / np.sqrt(2 * np.pi)


def bandwidth(y: np.ndarray, rule: str | float = "silverman") -> float:
    r"""Bandwidth of a Gaussian kernel density of ``y`` by ``rule`` (see the module notes).

    Raises :class:`~spatialinno.errors.DisparityError` when the rule gives 0 (fewer than two
    distinct values)."""
    y = np.asarray(y, dtype=float)
    if not isinstance(rule, str):
        if isinstance(rule, bool) or not isinstance(rule, (int, float)) or not rule > 0:
            raise DisparityOptionError(f"bandwidth must be 'silverman', 'scott' or a positive "
                                       f"number; got {rule!r}")
        return float(rule)
    if rule not in ("silverman", "scott"):
        raise DisparityOptionError(f"bandwidth={rule!r}: expected 'silverman', 'scott' or a "
                                   "positive number")
    s = float(y.std(ddof=1)) if len(y) > 1 else 0.0
    q75, q25 = np.quantile(y, [0.75, 0.25])
    spread = min(s, (q75 - q25) / 1.34) if q75 > q25 else s
    h = (0.9 if rule == "silverman" else 1.06) * spread * len(y) ** -0.2
    if not h > 0:
        raise DisparityError(f"the {rule} bandwidth is 0: the {len(y)} value(s) do not vary; "
                             "a density needs at least two distinct values")
    return float(h)


def gaussian_kde_values(y: np.ndarray, grid: np.ndarray, h: float) -> np.ndarray:
    """Gaussian kernel density of ``y`` with bandwidth ``h`` on ``grid`` (exact sum over y)."""
    y = np.asarray(y, dtype=float)
    z = (np.asarray(grid, dtype=float)[:, None] - y[None, :]) / h
    return np.exp(-0.5 * z * z).sum(axis=1) * (_NORM / (len(y) * h))


def _modes(grid: np.ndarray, f: np.ndarray) -> int:
    """Local maxima of f on the grid at least MODE_MIN_HEIGHT x the highest."""
    inner = (f[1:-1] > f[:-2]) & (f[1:-1] >= f[2:])
    return int(np.sum(inner & (f[1:-1] >= MODE_MIN_HEIGHT * f.max())))


def _half_width(grid: np.ndarray, f: np.ndarray) -> float:
    """Width of the main peak at half its height (linear interpolation at both crossings)."""
    k = int(np.argmax(f))
    half = f[k] / 2
    left = k
    while left > 0 and f[left] > half:
        left -= 1
    right = k
    while right < len(f) - 1 and f[right] > half:
        right += 1

    def cross(i: int, j: int) -> float:  # where f crosses half between grid points i and j
        if f[j] == f[i]:
            return float(grid[i])
        return float(grid[i] + (half - f[i]) * (grid[j] - grid[i]) / (f[j] - f[i]))
    return cross(right - 1, right) - cross(left, left + 1) if right > left else np.nan


def _features(y: np.ndarray, grid: np.ndarray, f: np.ndarray, h: float) -> dict[str, float]:
    k = int(np.argmax(f))
    med = float(np.median(y))
    m, sd = float(y.mean()), float(y.std(ddof=1))
    skew = float(np.mean((y - m) ** 3) / np.mean((y - m) ** 2) ** 1.5)
    return {"bandwidth": h, "peak_location": float(grid[k]), "peak_height": float(f[k]),
            "n_modes": _modes(grid, f), "half_height_width": _half_width(grid, f),
            "mean": m, "sd": sd, "skewness": skew, "lower_tail": med - float(y.min()),
            "upper_tail": float(y.max()) - med}


@dataclass(frozen=True)
class DensityResult:
    """Kernel densities by group and year on one shared grid.

    Attributes
    ----------
    grid
        The evaluation points (shared by every curve).
    curves
        Long table ``group, year, x, density``.
    features
        One row per group and year: ``group, year, n, bandwidth, peak_location, peak_height,
        n_modes (local maxima >= MODE_MIN_HEIGHT x the highest), half_height_width (width of the
        main peak at half its height), mean, sd, skewness, lower_tail (median - min),
        upper_tail (max - median)``. Papers read: the peak moving right (the level rises), the
        peak falling and widening (dispersion grows), side peaks (polarisation), a lengthening
        right tail.
    """

    variable: str
    by: str
    rule: str
    grid: np.ndarray
    curves: pd.DataFrame
    features: pd.DataFrame
    dropped: tuple[str, ...] = ()
    note: str | None = None

    @property
    def groups(self) -> list[str]:
        """Groups with a density, in the order they were computed."""
        return list(dict.fromkeys(self.features["group"]))

    @property
    def years(self) -> list[int]:
        """Years with a density, sorted."""
        return sorted({int(y) for y in self.features["year"]})

    def density(self, group: str = "all") -> pd.DataFrame:
        """Wide table of one group: rows = grid points, columns = years."""
        if group not in self.groups:
            raise DisparityOptionError(f"group {group!r} is not in this result; groups: "
                                       f"{self.groups}")
        c = self.curves[self.curves["group"] == group]
        return c.pivot(index="x", columns="year", values="density")

    def _note(self) -> str:
        text = (f"Gaussian kernel density of {self.variable}; bandwidth: {self.rule}; "
                f"{len(self.grid)} grid points; modes: local maxima >= {MODE_MIN_HEIGHT:g} x "
                "the highest")
        if self.dropped:
            text += f"; {len(self.dropped)} unit(s) in no {self.by} left out"
        return _note_text(self.note, text + ".")

    def summary(self) -> str:
        """The features as text (the Markdown of :meth:`to_markdown`)."""
        return self.to_markdown()

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """The features of each density (peaks, bandwidth ...) as Markdown."""
        return report.to_markdown(self.features, digits=digits, note=self._note())

    def to_latex(self, digits: int = 4, caption: str | None = "Kernel density: features"
                 ) -> str:
        """The features of each density as LaTeX."""
        return report.to_latex(self.features, digits=digits, caption=caption, note=self._note())


def _rule_text(rule: str | float) -> str:
    if isinstance(rule, str):
        return {"silverman": "Silverman 0.9 min(s, IQR/1.34) n^-1/5",
                "scott": "Scott 1.06 min(s, IQR/1.34) n^-1/5"}[rule]
    return f"{float(rule):g} (given)"


def kernel_density(data: Any, variable: str, *, by: str | Mapping[str, str] | None = None,
                   years: Sequence[int] | None = None, bandwidth: str | float = "silverman",
                   grid: Sequence[float] | np.ndarray | None = None, grid_size: int = GRID_SIZE,
                   unit: str = "adcode", time: str = "year",
                   overlap: str | Sequence[str] | Mapping[str, str] = "plan_order",
                   replace: Mapping[str, str] | None = None, outside: Outside = "drop",
                   note: str | None = None) -> DensityResult:
    """Gaussian kernel density of ``variable`` across units for each year (and group).

    Parameters
    ----------
    data, variable, unit, time, years
        A Panel or long DataFrame and the column to describe.
    by
        ``None`` (all units), or ``"agglomeration"``, ``"region"``, a column or a mapping:
        the curves of every group are added to those of all units (group ``"all"``).
    bandwidth
        ``"silverman"``, ``"scott"`` or a positive number (see the module notes).
    grid, grid_size
        Evaluation points; default: ``grid_size`` points from min - 3 h_max to max + 3 h_max
        over every year and group.
    overlap, replace, outside, note
        As in :func:`spatialinno.disparity.dagum_gini`.
    """
    if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 3:
        raise DisparityOptionError(f"grid_size must be an integer >= 3; got {grid_size!r}")
    prep = _prepare(data, variable, by, unit=unit, time=time, years=years, overlap=overlap,
                    replace=replace, outside=outside)
    blocks = _blocks(prep.frame, by is not None)
    hs = {key: _bandwidth_of(y, bandwidth, key) for key, y in blocks.items()}
    xs = _grid(grid, blocks, hs, grid_size)
    curves, feats = [], []
    for (g, year), y in blocks.items():
        f = gaussian_kde_values(y, xs, hs[(g, year)])
        curves.append(pd.DataFrame({"group": g, "year": year, "x": xs, "density": f}))
        feats.append({"group": g, "year": year, "n": len(y), **_features(y, xs, f, hs[(g, year)])})
    return DensityResult(variable, str(prep.by or "none"), _rule_text(bandwidth), xs,
                         pd.concat(curves, ignore_index=True), pd.DataFrame(feats),
                         prep.dropped, note)


def _bandwidth_of(y: np.ndarray, rule: str | float, key: tuple[str, int]) -> float:
    try:
        return bandwidth(y, rule)
    except DisparityOptionError:
        raise
    except DisparityError as exc:
        raise DisparityError(f"kernel density of group {key[0]!r} in {key[1]}: {exc}") from None


def _blocks(frame: pd.DataFrame, grouped: bool) -> dict[tuple[str, int], np.ndarray]:
    """``{(group, year): values}``: ``"all"`` first, then each group in sorted order."""
    out = {("all", int(y)): f["value"].to_numpy() for y, f in frame.groupby("year", sort=True)}
    if grouped:
        for (g, y), f in frame.groupby(["group", "year"], sort=True):
            if g == "all":
                raise DisparityError("a group is named 'all', the label of every unit together; "
                                     "rename it")
            out[(str(g), int(y))] = f["value"].to_numpy()
    small = [f"{g} in {y}" for (g, y), v in out.items() if len(v) < 2]
    if small:
        raise DisparityError(f"a kernel density needs at least two units; one unit in "
                             f"{', '.join(small[:20])}")
    return out


def _grid(grid: Any, blocks: dict[tuple[str, int], np.ndarray], hs: dict[Any, float],
          size: int) -> np.ndarray:
    if grid is not None:
        xs = np.asarray(grid, dtype=float)
        if xs.ndim != 1 or len(xs) < 3 or not np.all(np.isfinite(xs)) or np.any(np.diff(xs) <= 0):
            raise DisparityOptionError("grid must be at least three finite, increasing values")
        return xs
    lo = min(float(v.min()) for v in blocks.values())
    hi = max(float(v.max()) for v in blocks.values())
    pad = GRID_PAD * max(hs.values())
    return np.linspace(lo - pad, hi + pad, size)


# =============================================================================================
# Figures (shared helpers also used by spatialinno.disparity)
# =============================================================================================

_FONT = "DejaVu Sans"


def _rc() -> dict[str, Any]:
    return {"font.family": [_FONT], "font.size": 8, "axes.titlesize": 9,
            "svg.hashsalt": "spatialinno", "pdf.fonttype": 42, "path.simplify": True,
            "axes.unicode_minus": False, "figure.dpi": 100}


def _axes_figure(figsize: tuple[float, float], rect: tuple[float, float, float, float] =
                 (0.1, 0.15, 0.62, 0.74), projection: str | None = None) -> tuple[Any, Any]:
    """A Figure (no pyplot state) with one axes; the rc context is applied when drawing and
    when saving (:func:`spatialinno.plots.figure_bytes`)."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_rc()):
        fig = Figure(figsize=figsize, layout=None)
        ax = fig.add_axes(rect, projection=projection) if projection else fig.add_axes(rect)
    fig._spatialinno_family = [_FONT]  # read by plots.figure_bytes
    return fig, ax


def _finish_figure(fig: Any, note: str | None) -> Any:
    if note:
        fig.text(0.01, 0.01, note, fontsize=6, color="#b2182b", ha="left", va="bottom",
                 wrap=True)
    return fig


def _year_ticks(ax: Any, years: np.ndarray) -> None:
    years = np.asarray(years)
    ax.set_xticks(years)
    ax.set_xticklabels([str(int(y)) for y in years], rotation=45 if len(years) > 8 else 0)


def _year_colours(years: Sequence[int]) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    n = max(len(years) - 1, 1)
    return [cmap(i / n) for i in range(len(years))]


def plot_density_lines(result: DensityResult, *, group: str | None = None,
                       years: Sequence[int] | None = None, title: str | None = None,
                       note: str | None = None, figsize: tuple[float, float] | None = None
                       ) -> Any:
    """Overlaid density curves of the years (colour from early to late), one panel per group
    (``group=None``: every group of the result, ``"all"`` first)."""
    from matplotlib import rc_context

    groups = result.groups if group is None else [group]
    for g in groups:
        if g not in result.groups:
            raise DisparityOptionError(f"group {g!r} is not in this result; groups: "
                                       f"{result.groups}")
    ys = result.years if years is None else [int(y) for y in years]
    bad = sorted(set(ys) - set(result.years))
    if bad:
        raise DisparityOptionError(f"years {bad} are not in this result ({result.years})")
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    size = figsize or (3.2 * ncols + 1.2, 2.6 * nrows + 0.6)
    fig, _ = _axes_figure(size, rect=(0, 0, 0.01, 0.01))
    fig.axes[0].remove()
    colours = _year_colours(ys)
    with rc_context(_rc()):
        for i, g in enumerate(groups):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            wide = result.density(g)
            for year, colour in zip(ys, colours, strict=True):
                if year in wide.columns:
                    ax.plot(wide.index.to_numpy(), wide[year].to_numpy(), color=colour,
                            linewidth=0.9, label=str(year))
            ax.set_title(str(g), fontsize=8)
            ax.set_xlabel(result.variable, fontsize=7)
            ax.set_ylabel("density", fontsize=7)
            ax.tick_params(labelsize=6)
        fig.axes[0].legend(fontsize=6, frameon=False, ncol=2)
        fig.suptitle(title or f"Kernel density of {result.variable} by year", fontsize=9)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16 if nrows == 1 else 0.1,
                            top=0.86 if nrows == 1 else 0.92, wspace=0.3, hspace=0.45)
    return _finish_figure(fig, note if note is not None else result.note)


def plot_density_surface(result: DensityResult, *, group: str = "all",
                         title: str | None = None, note: str | None = None,
                         figsize: tuple[float, float] = (6.4, 4.8), elev: float = 25.0,
                         azim: float = -60.0) -> Any:
    """The 3-D surface value x year x density of one group (the figure of the papers); the
    value axis is cut where every year's density is below :data:`SURFACE_CUT` of the peak."""
    from matplotlib import rc_context

    wide = result.density(group)
    dens = wide.to_numpy()
    keep = np.flatnonzero(dens.max(axis=1) >= SURFACE_CUT * dens.max())
    wide = wide.iloc[max(keep[0] - 1, 0):keep[-1] + 2]
    fig, ax = _axes_figure(figsize, rect=(0.02, 0.08, 0.96, 0.84), projection="3d")
    years = np.array(wide.columns, dtype=float)
    X, Y = np.meshgrid(wide.index.to_numpy(), years)
    with rc_context(_rc()):
        ax.plot_surface(X, Y, wide.to_numpy().T, cmap="viridis", linewidth=0.15,
                        edgecolor="#444444", antialiased=False, rstride=1,
                        cstride=max(1, len(wide) // 60))
        ax.set_xlabel(result.variable, fontsize=7)
        ax.set_ylabel("year", fontsize=7)
        ax.set_zlabel("density", fontsize=7)
        ax.set_yticks(years)
        ax.set_yticklabels([str(int(y)) for y in years], fontsize=5)
        ax.tick_params(labelsize=6)
        ax.view_init(elev=elev, azim=azim)
        label = "" if group == "all" else f" ({group})"
        ax.set_title(title or f"Kernel density of {result.variable}{label}, "
                     f"{int(years[0])}-{int(years[-1])}")
    return _finish_figure(fig, note if note is not None else result.note)
