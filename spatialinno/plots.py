"""Publication figures with deterministic output: maps, LISA cluster maps, Moran plots.

Every function returns a :class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`
(no global figure state, no GUI backend) and accepts ``note=`` (printed at the bottom left, e.g.
``"SYNTHETIC DATA"``; results objects carrying a note pass it on by default). Save with
:func:`save_figure`, which strips the metadata that changes between runs (matplotlib version,
creation date), so the same inputs give the same bytes.

City labels
-----------
``labels="english"`` (default) uses the romanised names (``name_en``) and renders with the
DejaVu Sans font shipped with matplotlib on any machine; ``labels="code"`` uses the 6-digit codes;
``labels="chinese"`` uses the Chinese names and needs a font covering CJK ideographs (found with
:func:`find_cjk_font`, or given as ``font=`` a .ttf/.otf/.ttc path). Without one it raises
:class:`FontNotFoundError` naming fonts to install, instead of drawing boxes.

Maps
----
Every map is a standard-looking map of China drawn by :mod:`spatialinno.mapframe`: on a national
map every land unit is drawn (Taiwan, Hong Kong, Macao and the county-level units the default
layer leaves out are hatched "no data" when they have none), the South China Sea islands and the
dashed maritime boundary line are in an inset at the lower right, with a north arrow and a scale
bar in km; legends are placed where they cover no unit, else beside the map; a region study's
panel gets a map zoomed to its units (``extent="auto"``). The projection is the equal-area Albers
conic of :data:`spatialinno.weights.ALBERS_CHINA` (standard parallels 25°N and 47°N, central
meridian 105°E). A note under each map names the projection and the boundary source and says that
the map approval number (审图号) is the author's to obtain (``map_note=``). Class breaks come from
:mod:`mapclassify`: ``scheme="quantiles"`` or ``"natural_breaks"`` (Fisher-Jenks, the exact
optimum of Jenks' criterion, deterministic unlike k-means based ``NaturalBreaks``),
``"equal_interval"``.
"""

from __future__ import annotations

import functools
import io
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import shapely

from .errors import FontNotFoundError, PlotError, PlotOptionError, PlotWarning

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .esda import GlobalResult, LisaResult

__all__ = [
    "choropleth", "choropleth_small_multiples", "lisa_cluster_map", "lisa_small_multiples",
    "moran_scatter", "moran_timeseries", "save_figure", "figure_bytes", "find_cjk_font",
    "FontNotFoundError", "PlotError", "PlotOptionError", "PlotWarning", "LISA_COLOURS",
    "CJK_FONT_CANDIDATES", "DPI", "agglomeration_map", "specification_curve",
]

Labels = Literal["english", "chinese", "code"]

#: Resolution of saved raster figures.
DPI = 200
#: Colours of the LISA cluster types (ColorBrewer RdYlBu-like, as in GeoDa).
LISA_COLOURS = {"HH": "#d7191c", "LL": "#2c7bb6", "LH": "#abd9e9", "HL": "#fdae61",
                "not significant": "#eeeeee", "undefined (island)": "#ffffff"}
#: Font families tried first (in order) for Chinese labels.
CJK_FONT_CANDIDATES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
                       "Source Han Sans CN", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                       "Sarasa Gothic SC", "SimHei", "Microsoft YaHei", "PingFang SC",
                       "Heiti SC", "STHeiti", "Noto Serif CJK SC", "AR PL UMing CN",
                       "Droid Sans Fallback")
_BASE_FONT = "DejaVu Sans"
_CJK_PROBE = "中国京沪"  # characters a usable font must cover
_INSTALL_HINT = ("install a CJK font, e.g. Noto Sans CJK (Debian/Ubuntu: `apt install "
                 "fonts-noto-cjk`; Fedora: `dnf install google-noto-sans-cjk-fonts`; macOS and "
                 "Windows ship PingFang SC / Microsoft YaHei), then clear matplotlib's font cache "
                 "(delete ~/.cache/matplotlib) or pass font='/path/to/NotoSansCJK-Regular.ttc'; "
                 "or use labels='english' (romanised names)")
_HATCH_ISLAND = "////"
_NOTE_COLOUR = "#b2182b"


# --------------------------------------------------------------------------- fonts


def _covers_cjk(path: str) -> bool:
    from matplotlib.ft2font import FT2Font
    try:
        cmap = FT2Font(path).get_charmap()
    except Exception:  # noqa: BLE001 - unreadable font files are simply not candidates
        return False
    return all(ord(ch) in cmap for ch in _CJK_PROBE)


@functools.lru_cache(maxsize=1)
def _scan_cjk() -> str | None:
    from matplotlib import font_manager as fm
    entries = list(fm.fontManager.ttflist)
    by_name: dict[str, list[str]] = {}
    for e in entries:
        by_name.setdefault(e.name, []).append(e.fname)
    for name in CJK_FONT_CANDIDATES:
        for path in sorted(by_name.get(name, [])):
            if _covers_cjk(path):
                return name
    hints = ("CJK", "Hei", "Song", "Kai", "Ming", "WenQuanYi", "Han Sans", "Han Serif", "YaHei",
             "Fallback")
    for e in sorted(entries, key=lambda e: (e.name, e.fname)):
        if any(h.lower() in e.name.lower() for h in hints) and _covers_cjk(e.fname):
            return e.name
    return None


def find_cjk_font(font: str | Path | None = None) -> str | None:
    """Family name of a font covering Chinese characters, or ``None`` when none is available.

    ``font`` may be a font file (registered with matplotlib and checked for coverage) or a
    family name. Without it, :data:`CJK_FONT_CANDIDATES` are tried, then any installed font
    whose name suggests CJK and whose character map covers common ideographs.
    """
    from matplotlib import font_manager as fm
    if font is None:
        return _scan_cjk()
    p = Path(font)
    if p.suffix.lower() in (".ttf", ".otf", ".ttc") or p.exists():
        if not p.exists():
            raise FontNotFoundError(f"font file {str(p)!r} does not exist; " + _INSTALL_HINT)
        if not _covers_cjk(str(p)):
            raise FontNotFoundError(f"font file {str(p)!r} does not cover Chinese characters "
                                    f"({_CJK_PROBE}); " + _INSTALL_HINT)
        fm.fontManager.addfont(str(p))
        return fm.FontProperties(fname=str(p)).get_name()
    names = {e.name: e.fname for e in fm.fontManager.ttflist}
    if str(font) not in names or not _covers_cjk(names[str(font)]):
        raise FontNotFoundError(f"font family {str(font)!r} is not installed or does not cover "
                                "Chinese characters; " + _INSTALL_HINT)
    return str(font)


def _font_family(labels: Labels, font: str | Path | None) -> list[str]:
    if labels not in ("english", "chinese", "code"):
        raise PlotError(f"labels must be 'english', 'chinese' or 'code'; got {labels!r}")
    if labels != "chinese":
        return [_BASE_FONT]
    name = find_cjk_font(font)
    if name is None:
        raise FontNotFoundError("labels='chinese' needs a font covering Chinese characters and "
                                "none was found among matplotlib's fonts; " + _INSTALL_HINT)
    return [name, _BASE_FONT]


def _rc(family: list[str]) -> dict[str, Any]:
    return {"font.family": family, "font.size": 9, "axes.titlesize": 10,
            "svg.hashsalt": "spatialinno", "svg.fonttype": "path", "pdf.fonttype": 42,
            "path.simplify": True, "axes.unicode_minus": False, "figure.dpi": 100}


def _new_figure(figsize: tuple[float, float], family: list[str]) -> Figure:
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    with rc_context(_rc(family)):
        return Figure(figsize=figsize, layout=None)


# --------------------------------------------------------------------------- saving


_METADATA = {"png": {"Software": None},
             "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
             "svg": {"Date": None, "Creator": None}}


def save_figure(fig: Figure, path: str | Path, *, dpi: int = DPI) -> Path:
    """Save ``fig`` (format from the suffix: png, pdf, svg) with run-invariant metadata.

    PNG without the ``Software`` chunk, PDF without creator, producer and creation date, SVG
    without date and a fixed hash salt: the same figure gives the same bytes on every run.
    """
    path = Path(path)
    path.write_bytes(figure_bytes(fig, path.suffix.lstrip(".").lower() or "png", dpi=dpi))
    return path


def figure_bytes(fig: Figure, fmt: str = "png", *, dpi: int = DPI) -> bytes:
    """The bytes :func:`save_figure` would write, in format ``fmt``."""
    from matplotlib import rc_context
    if fmt not in _METADATA:
        raise PlotError(f"format must be one of {', '.join(_METADATA)}; got {fmt!r}")
    buf = io.BytesIO()
    family = getattr(fig, "_spatialinno_family", [_BASE_FONT])
    with rc_context(_rc(family)):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
    return buf.getvalue()


# --------------------------------------------------------------------------- input checks

_SCHEMES = ("quantiles", "natural_breaks", "equal_interval")


def _check_options(*, scheme: Any = "quantiles", k: Any = 5, cmap: Any = "YlOrRd",
                   ncols: Any = 1, level: Any = 0.95, alpha: Any = 0.05) -> None:
    """Options of the figure functions, checked before any drawing (defaults pass)."""
    if scheme not in _SCHEMES:
        raise PlotOptionError(f"scheme must be 'quantiles', 'natural_breaks' or 'equal_interval'; "
                              f"got {scheme!r}")
    for what, v, lo in (("k", k, 2), ("ncols", ncols, 1)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < lo:
            raise PlotOptionError(f"{what} must be an integer >= {lo}; got {v!r}")
    from matplotlib import colormaps
    if not isinstance(cmap, str) or cmap not in colormaps:
        raise PlotOptionError(f"cmap {cmap!r} is not a matplotlib colormap (e.g. 'YlOrRd', "
                              "'viridis', 'Blues'; see matplotlib.colormaps)")
    for what, v in (("level", level), ("alpha", alpha)):
        if (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number))
                or not 0 < v < 1):
            raise PlotOptionError(f"{what} must be a number in (0, 1); got {v!r}")


def _as_plot_year(year: Any) -> int:
    from .esda import _as_year
    try:
        return _as_year(year)
    except ValueError:
        raise PlotOptionError(f"year must be a year (an integer such as 2015); got {year!r}"
                              ) from None


def _plot_years(years: Any) -> list[int]:
    from .esda import _years_arg
    return _years_arg(years, PlotOptionError)


def _check_result(obj: Any, kind: str, producer: str) -> None:
    """``obj`` must be the result type (``LisaResult``/``GlobalResult``) a figure draws."""
    from . import esda
    if not isinstance(obj, getattr(esda, kind)):
        raise PlotOptionError(f"expected a {kind} (from spatialinno.esda.{producer}); got "
                              f"{type(obj).__name__}")


def _label_codes(label_units: Any) -> list[str]:
    return [label_units] if isinstance(label_units, str) else [str(c) for c in label_units]


def _check_on_layer(codes: Sequence[str], layer: gpd.GeoDataFrame, what: str, *,
                    known_off: frozenset[str] = frozenset()) -> None:
    """Raise when none of ``codes`` is on the layer; warn naming those that are not (except
    ``known_off``: codes known to lie off the layer, documented where they arise)."""
    on_layer = set(layer["adcode"].astype(str))
    off = sorted(set(codes) - on_layer)
    if off and len(off) == len(set(codes)):
        raise PlotError(f"none of the {len(off)} unit code(s) of {what} is on the boundary layer "
                        f"(e.g. {', '.join(off[:5])}); codes are 6-digit strings such as "
                        "'110000' (check the unit column)")
    off = [c for c in off if c not in known_off]
    if off:
        warnings.warn(f"{len(off)} unit(s) of {what} are not on the boundary layer and are not "
                      f"drawn: {', '.join(off[:20])}" + (" ..." if len(off) > 20 else ""),
                      PlotWarning, stacklevel=3)


# --------------------------------------------------------------------------- layers and data


@functools.lru_cache(maxsize=1)
def _default_layer() -> gpd.GeoDataFrame:
    from .boundaries import load_boundaries
    from .weights import ALBERS_CHINA
    return load_boundaries().to_crs(ALBERS_CHINA)


def _layer(boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if boundaries is None:
        return _default_layer()
    from .weights import ALBERS_CHINA
    if "adcode" not in boundaries.columns:
        raise PlotError("boundaries need an 'adcode' column (6-digit code strings)")
    return boundaries.to_crs(ALBERS_CHINA)


def _names(layer: gpd.GeoDataFrame, labels: Labels) -> pd.Series:
    col = {"english": "name_en", "chinese": "name", "code": "adcode"}[labels]
    if col not in layer.columns:
        raise PlotError(f"labels={labels!r} needs a {col!r} column in the boundary layer")
    return pd.Series(layer[col].astype(str).to_numpy(), index=layer["adcode"].astype(str))


def _cross_section(data: Any, variable: str, year: int | None, unit: str, time: str
                   ) -> pd.Series:
    """Values of one year, indexed by code."""
    if isinstance(data, pd.Series):
        _check_numeric(data, str(data.name or variable))
        s = data.copy()
        s.index = s.index.astype(str)
        return s.astype(float)
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame):
        raise PlotError(f"data must be a Panel, a long DataFrame with column {variable!r}, or a "
                        f"Series indexed by code; got {type(data).__name__}")
    for col in (variable, unit):
        if col not in frame.columns:
            raise PlotError(f"column {col!r} not found in the data; available: "
                            f"{', '.join(map(str, frame.columns))}")
    _check_numeric(frame[variable], variable)
    if time in frame.columns:
        from .esda import _integer_years, _span
        tyears = _integer_years(frame[time], time, PlotError)
        years = sorted({int(y) for y in tyears})
        if year is None:
            if len(years) != 1:
                raise PlotError(f"pass year=: the data have {len(years)} years "
                                f"({_span(years)})")
            year = years[0]
        year = _as_plot_year(year)
        if year not in years:
            raise PlotError(f"year {year} not in the data ({_span(years)})")
        frame = frame[tyears == year]
    s = pd.Series(frame[variable].to_numpy(dtype=float), index=frame[unit].astype(str).to_numpy())
    if s.index.has_duplicates:
        raise PlotError(f"several rows per unit for year {year} (e.g. "
                        f"{', '.join(s.index[s.index.duplicated()][:5])}); pass one cross-section")
    return s


def _check_numeric(s: pd.Series, name: str) -> None:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_complex_dtype(s):
        return
    raise PlotError(f"variable {name!r} is not numeric (dtype {s.dtype}); convert it with "
                    f"pandas.to_numeric(..., errors='coerce') first")


def _classify(values: np.ndarray, scheme: str, k: int, what: str = "the variable") -> Any:
    import mapclassify
    _check_options(scheme=scheme, k=k)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise PlotError(f"no finite value of {what} on the boundary layer to classify (all "
                        "missing, or no unit code matches the layer)")
    n_distinct = len(np.unique(finite))
    if n_distinct < k:
        warnings.warn(f"{what} has {n_distinct} distinct value(s), fewer than k={k} classes: "
                      "some classes are empty or merged", PlotWarning, stacklevel=3)
    with warnings.catch_warnings():  # "Numba not installed" (a speed notice), and mapclassify's
        warnings.simplefilter("ignore", UserWarning)  # own too-few-values notice (warned above)
        if scheme == "quantiles":
            return mapclassify.Quantiles(finite, k=k)
        if scheme == "natural_breaks":
            return mapclassify.FisherJenks(finite, k=k)
        return mapclassify.EqualInterval(finite, k=k)


def _note(fig: Figure, note: str | None) -> None:
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, color=_NOTE_COLOUR, ha="left", va="bottom")


def _annotate(ax: Axes, layer: gpd.GeoDataFrame, codes: Sequence[str], labels: Labels) -> None:
    """Label ``codes`` on a map: units of the layer, or units the map drew from the shipped
    layer (Taiwan, Hong Kong ...), at a point inside their largest polygon."""
    if not codes:
        return
    _names(layer, labels)  # the layer must have the label column
    units = ax._spatialinno_frame.units  # type: ignore[attr-defined]
    sub = units.set_index(units["adcode"].astype(str))
    unknown = sorted(set(codes) - set(sub.index))
    if unknown:
        raise PlotError(f"label_units not in the boundary layer: {', '.join(unknown)}")
    col = {"english": "name_en", "chinese": "name", "code": "adcode"}[labels]
    own = _names(layer, labels)
    for c in codes:
        parts = shapely.get_parts(sub.loc[c, "geometry"])
        pt = parts[int(np.argmax(shapely.area(parts)))].representative_point()
        name = own.get(c, sub.loc[c, col])
        ax.annotate(str(name), (pt.x, pt.y), fontsize=6, ha="center", va="center",
                    xytext=(0, 0), textcoords="offset points",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.7})


# --------------------------------------------------------------------------- map figures

_TITLE_IN = 0.42      # band above a single map for its title, inches
_MARGIN_IN = 0.1      # left/right margin of map figures, inches
_PANEL_TITLE_IN = 0.24
_MAP_OPTIONS_DOC = """
    Map options (every map function; see :mod:`spatialinno.mapframe`):

    ``extent``
        ``"auto"`` (default): ``"panel"`` when the data cover less than half of the layer's
        units (a province, an agglomeration), else ``"national"``. ``"national"``: standard
        national map: every unit of the layer and (``complete``) of the shipped layer, with
        Taiwan, Hong Kong, Macao and the county-level units hatched "no data" when they have
        none, the South China Sea islands and the dashed maritime boundary line in an inset at
        the lower right. ``"panel"``: zoomed to the data's units, neighbours drawn as grey
        context.
    ``inset``
        ``None`` (default): the South China Sea inset on national maps, none on panel maps;
        ``True`` on a panel map adds a locator map of the whole country; ``False`` drops it.
    ``complete``
        ``True`` (default): units the layer lacks are drawn from the shipped layer.
    ``map_note``
        ``"auto"`` (default): a note with the projection, the boundary source, and that the map
        approval number (审图号) is the author's to obtain; ``None``: no note; a string: that
        text (e.g. your approval number).
"""


def _check_map_options(extent: Any, map_note: Any) -> None:
    from .mapframe import EXTENTS
    if extent not in EXTENTS:
        raise PlotOptionError(f"extent must be one of {', '.join(map(repr, EXTENTS))}; got "
                              f"{extent!r}")
    if map_note is not None and not isinstance(map_note, str):
        raise PlotOptionError(f"map_note must be 'auto', None or a string; got {map_note!r}")


def _note_lines(frame: Any, note: str | None, map_note: str | None, labels: str,
                width_in: float) -> list[tuple[str, float, str]]:
    """Lines under a map: the map note (grey, small), then the figure note (red)."""
    from .mapframe import map_note_text, note_lines
    out: list[tuple[str, float, str]] = []
    text = map_note_text(frame, labels) if map_note == "auto" else map_note
    if text:
        out += [(t, 5.5, "#555555") for t in note_lines(text, width_in, 5.5)]
    if note:
        out += [(t, 7.0, _NOTE_COLOUR) for t in note_lines(note, width_in, 7.0)]
    return out


def _on_layer(codes: Sequence[str], layer: gpd.GeoDataFrame) -> list[str]:
    known = set(layer["adcode"].astype(str))
    return [c for c in dict.fromkeys(map(str, codes)) if c in known]


def _map_figure(layer: gpd.GeoDataFrame, data_codes: Sequence[str], *, figsize: tuple[float, float],
                family: list[str], labels: str, paint: Any, legend: Any, title: str,
                note: str | None, map_note: str | None, extent: str, inset: bool | None,
                complete: bool, furniture: bool = True) -> tuple[Figure, Axes]:
    """One map: ``paint(frame)`` gives the fill, ``legend(frame)`` the legend entries."""
    from matplotlib import rc_context

    from .mapframe import (
        VECTOR_BUDGET,
        build_frame,
        compose,
        content_height,
        draw_notes,
        notes_height,
        plan,
        vertices,
    )
    width, height = figsize
    frame = build_frame(layer, _on_layer(data_codes, layer), extent=extent, inset=inset,
                        complete=complete, width_in=width - 2 * _MARGIN_IN)
    fig = _new_figure(figsize, family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    with rc_context(_rc(family)):
        lines = _note_lines(frame, note, map_note, labels, width - 2 * _MARGIN_IN)
        low = notes_height([(t, fs) for t, fs, _ in lines]) + 0.05
        rect = (_MARGIN_IN, low, width - 2 * _MARGIN_IN, height - _TITLE_IN - low)
        spec = legend(frame)
        need = content_height(plan(fig, rect, frame, spec, furniture))
        if frame.national and need < rect[3] - 0.05:  # trim the empty band of a wide map
            fig.set_size_inches(width, height - (rect[3] - need))
            rect = (rect[0], rect[1], rect[2], need)
        ax = compose(fig, rect, frame, paint(frame), legend=spec, furniture=furniture,
                     labels=labels, rasterized=vertices(frame) > VECTOR_BUDGET)
        ax.set_title(title)
        draw_notes(fig, lines)
    return fig, ax


def _grid(n: int, ncols: int) -> tuple[int, int]:
    """Rows and columns for ``n`` panels with at most ``ncols`` columns and no empty row or
    column (e.g. 4 panels with ncols=3 -> 2 x 2, 2 panels -> 1 x 2)."""
    nrows = -(-n // ncols)
    return nrows, -(-n // nrows)


def _small_multiples(keys: Sequence[Any], *, layer: gpd.GeoDataFrame, data_codes: Sequence[str],
                     paint: Any, legend: Any, family: list[str], ncols: int, panel_size: float,
                     title: str, note: str | None, map_note: str | None, labels: str,
                     extent: str, inset: bool | None, complete: bool) -> Figure:
    """A grid of maps, one per key, on one frame (same extent and simplification);
    ``paint(frame, key)`` fills a panel, ``legend(frame)`` gives the shared legend. The grid has
    no empty row or column; the legend goes into the empty cells of the last row when it fits
    there, else below the grid. The first panel carries the scale bar and the north arrow."""
    from matplotlib import rc_context

    from .mapframe import (
        VECTOR_BUDGET,
        build_frame,
        compose,
        draw_notes,
        make_legend,
        notes_height,
        vertices,
    )
    nrows, ncols = _grid(len(keys), ncols)
    frame = build_frame(layer, _on_layer(data_codes, layer), extent=extent, inset=inset,
                        complete=complete, width_in=panel_size)
    x0, y0, x1, y1 = frame.view
    ph = panel_size * min(max((y1 - y0) / (x1 - x0), 0.5), 1.6)
    gap = 0.06
    width = ncols * panel_size + (ncols - 1) * gap + 2 * _MARGIN_IN
    empty = nrows * ncols - len(keys)
    fig = _new_figure((width, 1.0), family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    with rc_context(_rc(family)):
        spec = legend(frame)
        size, in_cell = _shared_legend(fig, spec, empty * (panel_size + gap) - gap, ph,
                                       width - 2 * _MARGIN_IN)
        lines = _note_lines(frame, note, map_note, labels, width - 2 * _MARGIN_IN)
        low = notes_height([(t, fs) for t, fs, _ in lines]) + 0.05
        grid_bottom = low + (0.0 if in_cell else size[1] + 0.12)
        height = grid_bottom + nrows * (ph + _PANEL_TITLE_IN) + (nrows - 1) * gap + 0.5
        fig.set_size_inches(width, height)
        raster = vertices(frame, len(keys)) > VECTOR_BUDGET
        for i, key in enumerate(keys):
            r, c = divmod(i, ncols)
            left = _MARGIN_IN + c * (panel_size + gap)
            bottom = grid_bottom + (nrows - 1 - r) * (ph + _PANEL_TITLE_IN + gap)
            ax = compose(fig, (left, bottom, panel_size, ph), frame, paint(frame, key),
                         furniture=i == 0, labels=labels, linewidth=0.15, rasterized=raster)
            ax.set_title(str(key))
        if in_cell:  # centred in the empty cells at the end of the last row
            cell_w = empty * (panel_size + gap) - gap
            left = _MARGIN_IN + (ncols - empty) * (panel_size + gap)
            at = (left + (cell_w - size[0]) / 2, grid_bottom + (ph - size[1]) / 2)
        else:  # centred below the grid
            at = ((width - size[0]) / 2, low + 0.06)
        make_legend(fig, spec, at)
        fig.suptitle(title, y=1 - 0.12 / height, va="top")
        draw_notes(fig, lines)
    return fig


def _shared_legend(fig: Figure, spec: Any, cell_w: float, cell_h: float, max_w: float
                   ) -> tuple[tuple[float, float], bool]:
    """Size (inches) of the shared legend and whether it goes into the empty cells (``cell_w``
    wide, ``cell_h`` high); else it is laid out in one row below the grid, or in two when one
    row is wider than ``max_w``."""
    from .mapframe import legend_size
    size = legend_size(fig, spec)
    if cell_w > 0 and size[0] <= cell_w and size[1] <= cell_h:
        return size, True
    spec.ncols = len(spec.handles)
    size = legend_size(fig, spec)
    if size[0] > max_w:
        spec.ncols = max(1, -(-len(spec.handles) // 2))
        size = legend_size(fig, spec)
    return size, False


# --------------------------------------------------------------------------- choropleths


def _choropleth_paint(frame: Any, values: pd.Series, bins: np.ndarray, cmap: str) -> Any:
    from matplotlib import colormaps

    from .mapframe import nodata_paint
    k = len(bins)
    colours = colormaps[cmap](np.linspace(0.12, 0.95, k))
    v = _frame_values(frame, values)
    cls = np.minimum(np.searchsorted(bins, v, side="left"), k - 1)
    have = np.isfinite(v)
    face = np.array([colours[c] if h else (0.0, 0.0, 0.0, 1.0) for c, h in zip(cls, have,
                                                                              strict=True)])
    return nodata_paint(frame, face, have)


def _frame_values(frame: Any, values: pd.Series) -> np.ndarray:
    v = values.reindex(frame.units["adcode"]).to_numpy(dtype=float, copy=True)
    v[~frame.in_data] = np.nan
    return v


def _choropleth_legend(frame: Any, values: Sequence[pd.Series], bins: np.ndarray, cmap: str,
                       digits: int, lo: float) -> Any:
    """Class bounds (with counts for a single map) and the no-data entries; a unit counts as
    "no data" when it lacks a value in any of ``values``."""
    from matplotlib import colormaps
    from matplotlib.patches import Patch

    from .mapframe import LegendSpec, nodata_handles
    k = len(bins)
    colours = colormaps[cmap](np.linspace(0.12, 0.95, k))
    edges = [lo, *bins]
    vs = [_frame_values(frame, v) for v in values]
    have = np.logical_and.reduce([np.isfinite(v) for v in vs])
    counts = None
    if len(vs) == 1:
        counts = np.bincount(np.minimum(np.searchsorted(bins, vs[0][have], side="left"), k - 1),
                             minlength=k)
    handles = [Patch(facecolor=colours[i], edgecolor="#666666", linewidth=0.3,
                     label=f"{edges[i]:.{digits}f} \u2013 {edges[i + 1]:.{digits}f}"
                           + (f" ({counts[i]})" if counts is not None else ""))
               for i in range(k)]
    return LegendSpec(handles=handles + nodata_handles(frame, have, counts=counts is not None))


def choropleth(data: Any, variable: str, *, year: int | None = None,
               boundaries: gpd.GeoDataFrame | None = None, scheme: str = "quantiles",
               k: int = 5, cmap: str = "YlOrRd", title: str | None = None,
               note: str | None = None, labels: Labels = "english",
               label_units: Sequence[str] = (), font: str | Path | None = None,
               digits: int = 2, unit: str = "adcode", time: str = "year",
               figsize: tuple[float, float] = (7.0, 6.0), extent: str = "auto",
               inset: bool | None = None, complete: bool = True,
               map_note: str | None = "auto") -> Figure:
    """Choropleth of ``variable`` in ``year``, classes from mapclassify.

    ``data`` is a Panel, a long DataFrame, or a Series of values indexed by code. Units drawn
    without a value are hatched grey ("no data", counted in the legend). ``label_units``: codes
    to label on the map (names per ``labels``). The legend shows class bounds and counts; it
    never covers a unit (placed in empty space inside the frame, else beside it).
    """
    _check_options(scheme=scheme, k=k, cmap=cmap)
    _check_map_options(extent, map_note)
    family = _font_family(labels, font)
    layer = _layer(boundaries)
    values = _cross_section(data, variable, year, unit, time)
    _check_on_layer(list(values.index), layer, f"{variable!r}")
    on_layer = values.reindex(layer["adcode"].astype(str)).to_numpy(dtype=float)
    cl = _classify(on_layer, scheme, k, f"{variable!r}" + (f" in {year}" if year is not None
                                                            else ""))
    bins = np.asarray(cl.bins)
    fig, ax = _map_figure(
        layer, list(values.index), figsize=figsize, family=family, labels=labels,
        paint=lambda fr: _choropleth_paint(fr, values, bins, cmap),
        legend=lambda fr: _choropleth_legend(fr, [values], bins, cmap, digits,
                                             float(np.nanmin(on_layer))),
        title=title or f"{variable}" + (f", {year}" if year is not None else "")
        + f" ({scheme.replace('_', ' ')}, k={len(cl.bins)})",
        note=note, map_note=map_note, extent=extent, inset=inset, complete=complete)
    with _rc_of(fig):
        _annotate(ax, layer, _label_codes(label_units), labels)
    return fig


choropleth.__doc__ = (choropleth.__doc__ or "") + _MAP_OPTIONS_DOC


def _rc_of(fig: Figure) -> Any:
    from matplotlib import rc_context
    return rc_context(_rc(getattr(fig, "_spatialinno_family", [_BASE_FONT])))


def choropleth_small_multiples(data: Any, variable: str, years: Sequence[int], *,
                               boundaries: gpd.GeoDataFrame | None = None,
                               scheme: str = "quantiles", k: int = 5, cmap: str = "YlOrRd",
                               ncols: int = 3, note: str | None = None, title: str | None = None,
                               labels: Labels = "english", font: str | Path | None = None,
                               digits: int = 2, unit: str = "adcode", time: str = "year",
                               panel_size: float = 3.2, extent: str = "auto",
                               inset: bool | None = None, complete: bool = True,
                               map_note: str | None = "auto") -> Figure:
    """One choropleth per year with **common** class breaks (pooled over the selected years),
    so colours mean the same in every panel; one shared legend (class bounds, no counts)."""
    _check_options(scheme=scheme, k=k, cmap=cmap, ncols=ncols)
    _check_map_options(extent, map_note)
    years = _plot_years(years)
    family = _font_family(labels, font)
    layer = _layer(boundaries)
    series = {y: _cross_section(data, variable, y, unit, time) for y in years}
    codes = sorted({c for s in series.values() for c in s.index})
    _check_on_layer(codes, layer, f"{variable!r}")
    on_layer = set(layer["adcode"].astype(str))
    pooled = np.concatenate([s[s.index.isin(on_layer)].to_numpy(dtype=float)
                             for s in series.values()])
    bins = np.asarray(_classify(pooled, scheme, k, f"{variable!r}").bins)
    return _small_multiples(
        years, layer=layer, data_codes=codes,
        paint=lambda fr, y: _choropleth_paint(fr, series[y], bins, cmap),
        legend=lambda fr: _choropleth_legend(fr, list(series.values()), bins, cmap, digits,
                                             float(np.nanmin(pooled))),
        family=family, ncols=ncols, panel_size=panel_size, note=note, map_note=map_note,
        labels=labels, extent=extent, inset=inset, complete=complete,
        title=title or f"{variable} ({scheme.replace('_', ' ')}, common breaks)")


choropleth_small_multiples.__doc__ = (choropleth_small_multiples.__doc__ or "") + _MAP_OPTIONS_DOC


# --------------------------------------------------------------------------- LISA maps


def _lisa_year(lisa: LisaResult, year: int) -> pd.DataFrame:
    _check_result(lisa, "LisaResult", "lisa_by_year")
    year = _as_plot_year(year)
    if year not in lisa.years:
        raise PlotError(f"year {year} not in this LISA result ({', '.join(map(str, lisa.years))})")
    return lisa.table[lisa.table["year"] == year]


def _lisa_labels(frame: Any, rows: pd.DataFrame) -> np.ndarray:
    cl = pd.Series(rows["cluster"].to_numpy(), index=rows["adcode"].astype(str).to_numpy())
    lab = cl.reindex(frame.units["adcode"]).to_numpy(dtype=object, copy=True)
    lab[~frame.in_data] = None
    return lab


def _lisa_paint(frame: Any, rows: pd.DataFrame) -> Any:
    from matplotlib.colors import to_rgba

    from .esda import ISLAND
    from .mapframe import nodata_paint
    lab = _lisa_labels(frame, rows)
    have = np.array([isinstance(x, str) for x in lab])
    face = np.array([to_rgba(LISA_COLOURS.get(x, "#cccccc")) if isinstance(x, str)
                     else (0.0, 0.0, 0.0, 1.0) for x in lab])
    paint = nodata_paint(frame, face, have)
    for i in np.flatnonzero(lab == ISLAND):
        paint.hatch[i] = _HATCH_ISLAND
    paint.hatch_colour[_HATCH_ISLAND] = "#555555"
    return paint


def _lisa_legend(frame: Any, rows: Sequence[pd.DataFrame]) -> Any:
    """Cluster types (with counts for a single map) and the no-data entries; a unit counts as
    "no data" when it lacks a result in any of ``rows``."""
    from matplotlib.patches import Patch

    from .esda import CLUSTERS, ISLAND
    from .mapframe import LegendSpec, nodata_handles
    labs = [_lisa_labels(frame, r) for r in rows]
    have = np.logical_and.reduce([np.array([isinstance(x, str) for x in lab]) for lab in labs])
    counts = pd.Series(labs[0][have]).value_counts() if len(labs) == 1 else None
    handles = [Patch(facecolor=LISA_COLOURS[c], edgecolor="#666666", linewidth=0.3,
                     hatch=_HATCH_ISLAND if c == ISLAND else None,
                     label=f"{c} ({int(counts.get(c, 0))})" if counts is not None else c)
               for c in CLUSTERS]
    return LegendSpec(handles=handles + nodata_handles(frame, have, counts=counts is not None))


def lisa_cluster_map(lisa: LisaResult, year: int, *, boundaries: gpd.GeoDataFrame | None = None,
                     title: str | None = None, note: str | None = None,
                     labels: Labels = "english", label_units: Sequence[str] = (),
                     font: str | Path | None = None,
                     figsize: tuple[float, float] = (7.0, 6.0), extent: str = "auto",
                     inset: bool | None = None, complete: bool = True,
                     map_note: str | None = "auto") -> Figure:
    """LISA cluster map of one year: HH, LL, LH, HL, not significant, islands hatched.

    The legend counts units per type; the note defaults to the result's ``note``.
    """
    _check_map_options(extent, map_note)
    rows = _lisa_year(lisa, year)
    family = _font_family(labels, font)
    layer = _layer(boundaries)
    codes = list(rows["adcode"].astype(str))
    _check_on_layer(codes, layer, "the LISA result")
    adj = f", {lisa.adjust}" if lisa.adjust else ""
    fig, ax = _map_figure(
        layer, codes, figsize=figsize, family=family, labels=labels,
        paint=lambda fr: _lisa_paint(fr, rows), legend=lambda fr: _lisa_legend(fr, [rows]),
        title=title or f"LISA clusters: {lisa.variable}, {year} "
        f"(p <= {lisa.thresholds[_as_plot_year(year)]:.3g}{adj}, {lisa.permutations} perm.)",
        note=note if note is not None else lisa.note, map_note=map_note, extent=extent,
        inset=inset, complete=complete)
    with _rc_of(fig):
        _annotate(ax, layer, _label_codes(label_units), labels)
    return fig


lisa_cluster_map.__doc__ = (lisa_cluster_map.__doc__ or "") + _MAP_OPTIONS_DOC


def lisa_small_multiples(lisa: LisaResult, years: Sequence[int] | None = None, *,
                         boundaries: gpd.GeoDataFrame | None = None, ncols: int = 3,
                         title: str | None = None, note: str | None = None,
                         labels: Labels = "english", font: str | Path | None = None,
                         panel_size: float = 3.2, extent: str = "auto",
                         inset: bool | None = None, complete: bool = True,
                         map_note: str | None = "auto") -> Figure:
    """LISA cluster maps of several years side by side (default: every year), one legend.

    The grid is chosen from the number of years (at most ``ncols`` columns, no empty row or
    column); the shared legend goes into the empty cells of the last row, else below the maps.
    """
    _check_result(lisa, "LisaResult", "lisa_by_year")
    _check_options(ncols=ncols)
    _check_map_options(extent, map_note)
    years = lisa.years if years is None else _plot_years(years)
    for y in years:
        _lisa_year(lisa, y)
    family = _font_family(labels, font)
    layer = _layer(boundaries)
    codes = sorted({c for y in years for c in _lisa_year(lisa, y)["adcode"].astype(str)})
    return _small_multiples(
        years, layer=layer, data_codes=codes,
        paint=lambda fr, y: _lisa_paint(fr, _lisa_year(lisa, y)),
        legend=lambda fr: _lisa_legend(fr, [_lisa_year(lisa, y) for y in years]), family=family, ncols=ncols,
        panel_size=panel_size, title=title or f"LISA clusters: {lisa.variable}",
        note=note if note is not None else lisa.note, map_note=map_note, labels=labels,
        extent=extent, inset=inset, complete=complete)


lisa_small_multiples.__doc__ = (lisa_small_multiples.__doc__ or "") + _MAP_OPTIONS_DOC


# --------------------------------------------------------------------------- Moran plots


def moran_scatter(lisa: LisaResult, year: int, *, title: str | None = None,
                  note: str | None = None, labels: Labels = "english",
                  label_units: Sequence[str] = (), boundaries: gpd.GeoDataFrame | None = None,
                  font: str | Path | None = None,
                  figsize: tuple[float, float] = (5.5, 5.0)) -> Figure:
    r"""Moran scatter plot of one year: standardised z against its spatial lag Wz.

    Points are coloured by LISA cluster; quadrants are labelled HH, LH, LL, HL; islands (lag 0)
    are drawn as hollow squares. The line through the origin has slope
    :math:`b = z^\top W z / z^\top z`, the OLS slope of Wz on z. Moran's I is
    :math:`I = (n / S_0)\,b`: for a row-standardised W without islands :math:`S_0 = n` and the
    slope **is** I; with islands (:math:`S_0 = n - n_{islands}`) the title gives both.
    """
    from matplotlib import rc_context

    from .esda import ISLAND
    rows = _lisa_year(lisa, year)
    family = _font_family(labels, font)
    label_units = _label_codes(label_units)
    z = rows["z"].to_numpy(dtype=float)
    lag = rows["lag_z"].to_numpy(dtype=float)
    b = float(z @ lag / (z @ z))
    moran_i = float(len(z) / lisa.s0 * b)
    fig = _new_figure(figsize, family)
    fig._spatialinno_family = family  # type: ignore[attr-defined]
    with rc_context(_rc(family)):
        ax = fig.add_axes((0.13, 0.12, 0.82, 0.78))
        isl = rows["cluster"].to_numpy() == ISLAND
        for c, colour in LISA_COLOURS.items():
            m = (rows["cluster"].to_numpy() == c) & ~isl
            if m.any():
                ax.scatter(z[m], lag[m], s=12, c=colour if c != "not significant" else "#999999",
                           edgecolors="#333333", linewidths=0.2, label=f"{c} ({int(m.sum())})",
                           zorder=3)
        if isl.any():
            ax.scatter(z[isl], lag[isl], s=16, marker="s", facecolors="none",
                       edgecolors="#333333", linewidths=0.6, label=f"{ISLAND} ({int(isl.sum())})",
                       zorder=3)
        lim_x = float(np.max(np.abs(z))) * 1.08
        lim_y = float(np.max(np.abs(lag))) * 1.15
        xs = np.array([-lim_x, lim_x])
        ax.plot(xs, b * xs, color="#222222", linewidth=1.0, zorder=4)
        ax.axhline(0, color="#777777", linewidth=0.6)
        ax.axvline(0, color="#777777", linewidth=0.6)
        ax.set_xlim(-lim_x, lim_x)
        ax.set_ylim(-lim_y, lim_y)
        for text, (hx, hy) in {"HH": (0.97, 0.97), "LH": (0.03, 0.97), "LL": (0.03, 0.03),
                               "HL": (0.97, 0.03)}.items():
            ax.text(hx, hy, text, transform=ax.transAxes, ha="right" if hx > 0.5 else "left",
                    va="top" if hy > 0.5 else "bottom", fontsize=11, fontweight="bold",
                    color=LISA_COLOURS[text] if text in ("HH", "LL") else "#555555")
        if label_units:
            layer = _layer(boundaries)
            names = _names(layer, labels)
            pos = {c: i for i, c in enumerate(rows["adcode"].astype(str))}
            unknown = sorted(set(label_units) - set(pos))
            if unknown:
                raise PlotError(f"label_units not in the LISA result: {', '.join(unknown)}")
            for c in label_units:
                ax.annotate(names.get(c, c), (z[pos[c]], lag[pos[c]]), fontsize=6,
                            xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(f"z ({lisa.variable}, standardised)")
        ax.set_ylabel("W z (spatial lag)")
        same = abs(moran_i - b) < 1e-12
        stat = (f"I = slope = {moran_i:.4f}" if same else
                f"I = {moran_i:.4f} (= n/S0 x slope {b:.4f}; S0 = {lisa.s0:g})")
        ax.set_title(title or f"Moran scatter plot: {lisa.variable}, {year}\n{stat}")
        ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.06), fontsize=6, frameon=False)
        _note(fig, note if note is not None else lisa.note)
    return fig


def moran_timeseries(result: GlobalResult, *, band: Literal["permutation", "normal"] =
                     "permutation", level: float = 0.95, alpha: float = 0.05,
                     title: str | None = None, note: str | None = None,
                     figsize: tuple[float, float] = (6.0, 3.6)) -> Figure:
    """Global Moran's I by year with the band of I under spatial randomness.

    ``band="permutation"`` shades the central 95% of the permutation distribution of each
    year (columns ``sim_q025``/``sim_q975``; needs ``permutations > 0`` and ``level=0.95``);
    ``band="normal"`` shades ``E[I] +/- z_{(1+level)/2} sqrt(Var_N[I])``. A value outside the
    band is significant at ``1 - level``; filled markers mark ``p_sim`` (or ``p_norm``) <=
    ``alpha``. Works for ``moran_by_year`` and ``residual_moran_by_year`` results.
    """
    from matplotlib import rc_context
    from scipy import stats
    _check_result(result, "GlobalResult", "moran_by_year")
    _check_options(level=level, alpha=alpha)
    if result.statistic != "moran":
        raise PlotError(f"moran_timeseries needs a moran_by_year result; got {result.statistic!r}")
    t = result.table.sort_values("year")
    years = t["year"].to_numpy()
    if band == "permutation":
        if not int(t["permutations"].iloc[0]):
            raise PlotError("band='permutation' needs permutations > 0; use band='normal'")
        if level != 0.95:
            raise PlotError("band='permutation' stores the 95% band only; use level=0.95")
        lo, hi = t["sim_q025"].to_numpy(), t["sim_q975"].to_numpy()
        p = t["p_sim"].to_numpy()
        label = "95% of I under permutation"
    elif band == "normal":
        q = stats.norm.ppf(0.5 + level / 2)
        se = np.sqrt(t["VI_norm"].to_numpy())
        lo, hi = t["EI"].to_numpy() - q * se, t["EI"].to_numpy() + q * se
        p = t["p_norm"].to_numpy()
        label = f"{level:.0%} band under normality"
    else:
        raise PlotError(f"band must be 'permutation' or 'normal'; got {band!r}")
    family = [_BASE_FONT]
    fig = _new_figure(figsize, family)
    with rc_context(_rc(family)):
        ax = fig.add_axes((0.12, 0.16, 0.84, 0.72))
        ax.fill_between(years, lo, hi, color="#cccccc", alpha=0.8, linewidth=0, label=label)
        ax.plot(years, t["I"].to_numpy(), color="#b2182b", linewidth=1.2, zorder=3,
                label="Moran's I")
        sig = p <= alpha
        ax.scatter(years[sig], t["I"].to_numpy()[sig], color="#b2182b", s=18, zorder=4,
                   label=f"p <= {alpha}")
        ax.scatter(years[~sig], t["I"].to_numpy()[~sig], facecolors="white",
                   edgecolors="#b2182b", s=18, zorder=4, label=f"p > {alpha}")
        ax.axhline(float(t["EI"].iloc[0]), color="#555555", linewidth=0.6, linestyle="--")
        ax.set_xticks(years)
        ax.set_xticklabels([str(y) for y in years], rotation=45 if len(years) > 8 else 0)
        ax.set_ylabel("Moran's I")
        ax.legend(fontsize=7, frameon=False, loc="best")
        var = str(t["variable"].iloc[0])
        ax.set_title(title or f"Global Moran's I of {var} by year (W: {t['W'].iloc[0]})")
        _note(fig, note if note is not None else result.note)
    return fig


# --------------------------------------------------------------------------- agglomerations


def agglomeration_map(membership: Any = None, *, boundaries: gpd.GeoDataFrame | None = None,
                      title: str | None = None, note: str | None = None,
                      cmap: str = "tab20", figsize: tuple[float, float] = (8.0, 6.5),
                      inset: bool | None = None, complete: bool = True,
                      map_note: str | None = "auto") -> Figure:
    """Map of the urban agglomerations: one colour per agglomeration on the boundary layer.

    Parameters
    ----------
    membership
        Unit code -> agglomeration scope (a partition, e.g. ``agglomerations.groups(...)``) or
        unit code -> set of scopes (``agglomerations.membership()``, the default: overlaps
        kept). A unit in two or more agglomerations is filled with the colour of the first in the
        registry's order and hatched (``////``), with the count in the legend.
    boundaries
        Layer with an ``adcode`` column (default: the shipped 337-unit layer).
    inset, complete, map_note
        As for every map (see below); the map is always national (``extent="national"``).

    With ``complete=True`` (default) the units the layer lacks are drawn from the shipped layer,
    so the registry's county-level members (e.g. 济源 419001, 仙桃 429004) and Hong Kong and
    Macao are drawn in their agglomeration's colour, and Taiwan in "in none". With
    ``complete=False`` members that are not on the layer are not drawn. Codes off the shipped
    registry (e.g. a typo) raise a :class:`PlotWarning` naming them, or a :class:`PlotError`
    when none is on the layer.

    The legend lists every default agglomeration of the registry (19) in its order with the
    romanised name and the number of member units drawn; agglomerations without shipped
    members are marked "no members shipped" (or "members unconfirmed" where the registry lists
    only unconfirmed ones, e.g. 宁夏沿黄). Colours are fixed by the registry order (``cmap``
    sampled at 20 points), so the same inputs give the same bytes with :func:`save_figure`.
    """
    from matplotlib import colormaps

    from . import agglomerations as ag

    _check_map_options("national", map_note)
    if membership is None:
        membership = ag.membership()
    if not isinstance(membership, Mapping):
        raise PlotOptionError("membership must be a mapping unit code -> agglomeration (e.g. "
                              "agglomerations.groups(...)) or unit code -> set of agglomerations "
                              f"(agglomerations.membership()); got {type(membership).__name__}")
    mem = {str(u): (frozenset([s]) if isinstance(s, str) else frozenset(s))
           for u, s in dict(membership).items()}
    table = ag.agglomerations(alternatives=True)
    default = table[table["default_scope"] == "true"]
    order = list(default["scope"])
    extra = sorted({s for ss in mem.values() for s in ss} - set(order))
    known = set(table["scope"])
    unknown = [s for s in extra if s not in known]
    order += extra  # alternative scopes (or user groups) after the 19 defaults
    names = dict(zip(table["scope"], table["name_en"], strict=True))
    if cmap == "tab20":  # tab20 without its two greys (kept for "in none"), + two of tab20b
        base = colormaps["tab20"](np.arange(20) / 19.0)
        colours = np.vstack([np.delete(base, [14, 15], axis=0),
                             colormaps["tab20b"](np.array([0.0, 8 / 19.0]))])
    else:
        colours = colormaps[cmap](np.linspace(0.05, 0.95, max(len(order), 2)))
    colour = {s: colours[i % len(colours)] for i, s in enumerate(order)}
    family = _font_family("english", None)
    layer = _layer(boundaries)
    _check_on_layer(sorted(mem), layer, "the membership",
                    known_off=frozenset(ag._members()["adcode"]))
    fig, _ax = _map_figure(
        layer, list(layer["adcode"].astype(str)), figsize=figsize, family=family,
        labels="english", paint=lambda fr: _agglomeration_paint(fr, mem, order, colour),
        legend=lambda fr: _agglomeration_legend(fr, mem, order, colour, names, unknown, table),
        title=title or f"Urban agglomerations ({len(default)} national)", note=note,
        map_note=map_note, extent="national", inset=inset, complete=complete)
    return fig


agglomeration_map.__doc__ = (agglomeration_map.__doc__ or "") + _MAP_OPTIONS_DOC

_NONE_FACE = (0.9, 0.9, 0.9, 1.0)


def _first_scope(frame: Any, mem: Mapping[str, frozenset[str]], order: list[str]
                 ) -> tuple[list[str | None], np.ndarray]:
    codes = frame.units["adcode"].to_numpy()
    first = [min(mem[c], key=order.index) if c in mem else None for c in codes]
    multi = np.array([c in mem and len(mem[c]) > 1 for c in codes], dtype=bool)
    return first, multi


def _agglomeration_paint(frame: Any, mem: Mapping[str, frozenset[str]], order: list[str],
                         colour: Mapping[str, Any]) -> Any:
    from .mapframe import Paint
    first, multi = _first_scope(frame, mem, order)
    face = np.array([colour[f] if f is not None else _NONE_FACE for f in first], dtype=float)
    hatch = ["////" if m else None for m in multi]
    return Paint(face=face, hatch=hatch, hatch_colour={"////": "#222222"})


def _agglomeration_legend(frame: Any, mem: Mapping[str, frozenset[str]], order: list[str],
                          colour: Mapping[str, Any], names: Mapping[str, str],
                          unknown: list[str], table: pd.DataFrame) -> Any:
    from matplotlib.patches import Patch

    from .mapframe import LegendSpec
    codes = frame.units["adcode"].to_numpy()
    first, multi = _first_scope(frame, mem, order)
    known = set(table["scope"])
    n_units = table.set_index("scope")["n_units"]
    handles = []
    for s in order:
        label = names.get(s, s) if s not in unknown else s
        label = textwrap.shorten(label, width=44, placeholder="...")
        n_s = int(sum(1 for c in codes if c in mem and s in mem[c]))
        if n_s:
            text = f"{label} ({n_s})"
        elif int(n_units.loc[s] if s in known else 0):
            text = f"{label} (members unconfirmed, not drawn)"
        else:
            text = f"{label} (no members shipped)"
        handles.append(Patch(facecolor=colour[s] if n_s else "white", edgecolor="#666666",
                             linewidth=0.3, label=text))
    if multi.any():
        handles.append(Patch(facecolor="white", edgecolor="#222222", hatch="////",
                             label=f"in two agglomerations ({int(multi.sum())}), "
                                   "coloured by the first"))
    handles.append(Patch(facecolor=_NONE_FACE, edgecolor="#666666", linewidth=0.3,
                         label=f"in none ({int(sum(f is None for f in first))})"))
    return LegendSpec(handles=handles, title="agglomeration (units)")


# --------------------------------------------------------------------------- specification curve

def specification_curve(cells: pd.DataFrame, *, quantity: str, term: str,
                        dimensions: Sequence[str], level: float = 0.95, note: str | None = None,
                        title: str | None = None) -> Figure:
    """Specification curve of a robustness grid (Simonsohn, Simmons & Nelson 2020, Nature Human
    Behaviour 4, 1208-1214): the estimates of every fitted cell sorted from smallest to largest,
    with their ``level`` intervals (estimate +/- z * standard error) and the median, above a
    panel that marks each cell's choice in every varied dimension.

    ``cells`` is :meth:`spatialinno.grid.GridResult.frame`: columns ``status``,
    ``{quantity}_estimate``, ``{quantity}_std_error`` and one per dimension.
    """
    from matplotlib import rc_context
    from scipy import stats

    _check_options(level=level)
    for col in (f"{quantity}_estimate", f"{quantity}_std_error", "status", *dimensions):
        if col not in cells.columns:
            raise PlotError(f"specification_curve needs column {col!r} (a grid's cells frame)")
    ok = cells[(cells["status"] == "ok") & np.isfinite(cells[f"{quantity}_estimate"])]
    ok = ok.sort_values([f"{quantity}_estimate", "cell"] if "cell" in ok else
                        f"{quantity}_estimate", kind="stable")
    est = ok[f"{quantity}_estimate"].to_numpy(dtype=float)
    half = stats.norm.ppf(0.5 + level / 2) * ok[f"{quantity}_std_error"].to_numpy(dtype=float)
    x = np.arange(1, len(ok) + 1)
    rows = [(d, v) for d in dimensions for v in sorted(cells[d].astype(str).unique())]
    family = [_BASE_FONT]
    width = float(min(12.0, max(6.0, 3.0 + 0.12 * len(ok))))
    lower_h = 0.22 * max(len(rows), 1) + 0.4
    total = 3.3 + lower_h  # inches: title band, curve (2.0), gap, choices, x label and note
    fig = _new_figure((width, total), family)
    with rc_context(_rc(family)):
        top = fig.add_axes((0.2, (lower_h + 0.85) / total, 0.76, 2.0 / total))
        significant = np.isfinite(half) & ((est - half > 0) | (est + half < 0))
        top.axhline(0.0, color="#555555", linewidth=0.8)
        if len(ok):
            top.axhline(float(np.median(est)), color="#2166ac", linewidth=0.8, linestyle="--",
                        label=f"median {np.median(est):.4g}")
            top.errorbar(x, est, yerr=np.where(np.isfinite(half), half, 0.0), fmt="none",
                         ecolor="#999999", elinewidth=0.8)
            top.scatter(x[significant], est[significant], s=14, color="#b2182b", zorder=3,
                        label=f"{level:.0%} interval excludes 0")
            top.scatter(x[~significant], est[~significant], s=14, facecolor="white",
                        edgecolor="#b2182b", zorder=3, label=f"{level:.0%} interval covers 0")
            top.legend(loc="upper left", fontsize=7, frameon=False)
        top.set_xlim(0.3, len(ok) + 0.7)
        top.set_xticks([])
        top.set_ylabel(f"{quantity} of {term}")
        top.set_title(title or f"Specification curve: {quantity} of {term}, {len(ok)} of "
                      f"{len(cells)} cells fitted", loc="left")
        low = fig.add_axes((0.2, 0.75 / total, 0.76, (lower_h - 0.2) / total))
        for j, (d, v) in enumerate(rows):
            chosen = ok[d].astype(str).to_numpy() == v
            low.scatter(x[chosen], np.full(chosen.sum(), j), s=10, marker="s", color="#333333")
        low.set_yticks(range(len(rows)), [f"{d}: {v}" for d, v in rows], fontsize=7)
        low.set_ylim(len(rows) - 0.5, -0.5)
        low.set_xlim(0.3, len(ok) + 0.7)
        low.set_xlabel("cells, sorted by the estimate")
        _note(fig, note)
    return fig
