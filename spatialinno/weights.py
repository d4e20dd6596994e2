"""Spatial weights for China's cities: an immutable :class:`Weights` object keyed by unit code.

Every W used in the Chinese regional-economics literature is one line::

    Weights.contiguity()                            # queen contiguity, shipped 337-unit layer
    Weights.contiguity(rook=True, islands="connect")
    Weights.knn(k=5)
    Weights.distance(alpha=1, cutoff_km=500)         # inverse distance
    Weights.distance("exponential", bandwidth_km=300)
    Weights.economic(panel.data, "pgdp")             # 1 / |Ybar_i - Ybar_j|
    Weights.nested(Weights.distance(), panel.data, "pgdp")   # W_d diag(Ybar_j / Ybar)
    Weights.mix(w_d, w_e, phi=0.5)                   # phi W_d + (1 - phi) W_e
    within, between = Weights.blocks(w, groups)      # urban-agglomeration blocks

Conventions (stated once, used everywhere)
------------------------------------------
* Units are keyed by their 6-digit code as a string; ``Weights.codes`` is the row/column order.
  Models and ESDA must call :meth:`Weights.align` with their own unit order: it reorders by code
  and raises :class:`WeightsError` naming missing, extra and duplicate codes, so a W can never be
  used in the wrong order.
* Great-circle distances use the haversine formula on a sphere of radius
  :data:`EARTH_RADIUS_KM` = 6371.0088 km (the IUGG mean Earth radius), in km.
* A unit's point is, by default, the centroid of its polygon computed in an equal-area Albers
  projection for China (:data:`ALBERS_CHINA`) and projected back to longitude/latitude
  (``point="centroid"``); ``point="representative"`` uses shapely's ``representative_point()``
  (always inside the polygon); a user's DataFrame of seat coordinates (``seats=``, columns
  ``code, lon, lat``) overrides both.
* Each object keeps the untransformed matrix (``raw``) and the transform applied to it
  (``transform`` in ``{"row", "spectral", "none"}``); :meth:`Weights.transform` always starts
  from ``raw``, so transforms never compound. Builders row-standardise by default.
* Islands (units without neighbours) are encoded explicitly as zero rows and listed in
  ``Weights.islands``; builders take an explicit ``islands=`` policy (default ``"keep"``, which
  always emits an :class:`IslandWarning` naming them) and never drop or connect them silently.
* ``w.transform`` is the stored kind (it compares equal to ``"row"`` etc.) and is also callable:
  ``w.transform("none")`` returns a new object, as does :meth:`Weights.with_transform`.
* Agglomeration blocks (:meth:`Weights.blocks`) split the W they are given, as stored:
  ``within.sparse + between.sparse == w.sparse`` exactly.
* Diagnostics: :meth:`Weights.summary` (a :class:`WeightsSummary` with text, Markdown and LaTeX
  views), :func:`neighbour_histogram` and :func:`link_map` (deterministic PNGs).

Files: :meth:`Weights.to_gal` / :meth:`~Weights.read_gal` (binary neighbour lists),
:meth:`~Weights.to_gwt` / :meth:`~Weights.read_gwt` (values), :meth:`~Weights.to_parquet` /
:meth:`~Weights.read_parquet` (edge list plus codes, name and transform in the metadata; the
only lossless format, islands included).

The builders use :mod:`libpysal` (contiguity through :meth:`libpysal.graph.Graph.build_contiguity`,
GAL written through :mod:`libpysal.io`, read by a checking parser) and :mod:`scipy.sparse` /
:class:`scipy.spatial.cKDTree`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import (EmptyWeightsError, IslandWarning, WeightsCodesError, WeightsError,
                     WeightsFileError, WeightsValueError)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "Weights", "WeightsSequence", "WeightsSummary", "WeightsError", "IslandWarning",
    "EARTH_RADIUS_KM", "ALBERS_CHINA", "DENSE_EIG_MAX", "TRANSFORMS",
    "great_circle_km", "distance_matrix_km", "unit_points", "neighbour_histogram", "link_map",
]

#: Mean Earth radius (IUGG, R1 = (2a + b) / 3) in km, used for every great-circle distance.
EARTH_RADIUS_KM = 6371.0088
#: Equal-area projection in which polygon centroids are computed (Albers, standard parallels
#: 25N and 47N, central meridian 105E, WGS84).
ALBERS_CHINA = ("+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 +datum=WGS84 "
                "+units=m")
#: Largest n for which eigenvalues are computed with a dense solver (O(n^3) time, O(n^2) memory).
#: Above it ``eigenvalues`` raises and ``rho_bounds`` uses ARPACK for the two extreme ones.
DENSE_EIG_MAX = 3000
#: From this many units on, ``summary()`` and ``rho_bounds`` take the two extreme real eigenvalues
#: from ARPACK instead of the dense spectrum (at the 2,846 county units: 0.04 s instead of 3.5 s
#: for queen contiguity, 0.1 s instead of 13 s for kNN 6, whose W is not symmetric).
SPARSE_EXTREMES_MIN_N = 1000
#: Accepted values of ``transform``.
TRANSFORMS = ("row", "spectral", "none")

Transform = Literal["row", "spectral", "none"]
IslandPolicy = Literal["keep", "connect", "raise"]
PointKind = Literal["centroid", "representative"]

_MAX_LISTED = 20
_SYMMETRY_RTOL = 1e-12
_IMAG_TOL = 1e-9


# --------------------------------------------------------------------------- small helpers


def _listing(items: Sequence[object], limit: int = _MAX_LISTED) -> str:
    items = [str(i) for i in items]
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _check_choice(value: object, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        import difflib
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=2, cutoff=0.5)
        raise WeightsError(f"{what} must be one of {', '.join(repr(a) for a in allowed)}; "
                           f"got {value!r}"
                           + (f" (did you mean {' or '.join(repr(c) for c in close)}?)"
                              if close else ""))


def _canonical(matrix: Any) -> sp.csr_array:
    """csr_array, float64, duplicates summed, explicit zeros removed, indices sorted."""
    m = sp.csr_array(matrix, dtype=np.float64, copy=True)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m


_MAX_CELLS = 10


def _cell_listing(label: str, cells: Sequence[tuple[str, str, float]]) -> str:
    shown = ", ".join(f"{label}[{r}, {c}] = {v:g}" for r, c, v in cells[:_MAX_CELLS])
    return shown + (f", ... ({len(cells) - _MAX_CELLS} more)" if len(cells) > _MAX_CELLS else "")


def _as_matrix(matrix: Any, n: int, label: str) -> sp.csr_array:
    """``matrix`` (dense or sparse) as an n x n float csr_array; a non-numeric, non-2-D or
    wrongly shaped input raises :class:`WeightsValueError` / :class:`WeightsCodesError`."""
    if matrix is None:
        raise WeightsValueError(f"{label} is None; expected an n x n matrix ({n} x {n}, one row "
                                f"and one column per code)")
    if not sp.issparse(matrix):
        try:
            arr = np.asarray(matrix)
        except Exception as exc:  # ragged nested lists and the like
            raise WeightsValueError(f"{label} cannot be read as a matrix ({exc}); expected an "
                                    f"{n} x {n} numeric array or scipy.sparse matrix") from exc
        if arr.dtype.kind == "O" and all(_is_number(v) for v in arr.ravel()):
            arr = arr.astype(float)
        if arr.dtype.kind not in "biuf":
            bad = [v.item() if isinstance(v, np.generic) else v
                   for v in arr.ravel()[:10_000] if not _is_number(v)][:5]
            raise WeightsValueError(
                f"{label} is not numeric (dtype {arr.dtype}); first non-numeric entries: "
                f"{_listing([repr(v) for v in bad]) or 'none found'}. Weights must be "
                f"real numbers (0 = no link)")
        matrix = arr
    elif matrix.dtype.kind not in "biuf":
        raise WeightsValueError(f"{label} has dtype {matrix.dtype}; weights must be real numbers")
    if matrix.ndim != 2 or matrix.shape != (n, n):
        raise WeightsCodesError(
            f"{label} has shape {tuple(matrix.shape)} but {n} codes were given; expected ({n}, "
            f"{n}): one row and one column per code, in the order of the codes")
    return _canonical(matrix)


def _is_number(v: object) -> bool:
    """True for a real number (not text, not complex)."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) or \
        isinstance(v, (bool, np.bool_))


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_values(m: sp.csr_array, codes: Sequence[str], label: str, *,
                  finite_only: bool = False) -> None:
    """Raise :class:`WeightsValueError` naming the cells (row code, column code, value) of
    non-finite, negative and diagonal entries of ``m`` (canonical csr_array); only non-finite
    ones with ``finite_only``."""
    coo = m.tocoo()
    row, col, val = coo.row, coo.col, coo.data

    def cells(mask: np.ndarray) -> list[tuple[str, str, float]]:
        return [(codes[r], codes[c], float(v)) for r, c, v in
                zip(row[mask], col[mask], val[mask], strict=True)]

    bad = ~np.isfinite(val)
    if bad.any():
        found = cells(bad)
        raise WeightsValueError(
            f"{label} has {len(found)} non-finite weight(s) (NaN or inf) in the cells "
            f"(row code, column code): {_cell_listing(label, found)}. Weights must be finite; "
            f"fix these cells or set them to 0 (no link)", found)
    if finite_only:
        return
    neg = val < 0
    if neg.any():
        found = cells(neg)
        raise WeightsValueError(
            f"{label} has {len(found)} negative weight(s) in the cells (row code, column code): "
            f"{_cell_listing(label, found)}. Weights must be >= 0 (0 = no link); a negative "
            f"entry is usually a difference or a log taken the wrong way round", found)
    diag = row == col
    if diag.any():
        found = cells(diag)
        raise WeightsValueError(
            f"{label} has {len(found)} non-zero diagonal value(s) (a unit is its own "
            f"neighbour): {_cell_listing(label, found)}. Set the diagonal to 0 "
            f"(e.g. matrix.setdiag(0))", found)


def _check_matrix(matrix: Any, codes: Sequence[str], label: str, *,
                  finite_only: bool = False) -> sp.csr_array:
    """The one validation of a user matrix: numeric, n x n for ``codes``, finite, non-negative,
    zero diagonal (each failure names the cells; ``finite_only`` skips the last two, for the
    array API whose matrices may be transformed). Returns the canonical csr_array."""
    m = _as_matrix(matrix, len(codes), label)
    _check_values(m, codes, label, finite_only=finite_only)
    return m


def _duplicate_codes(codes: Sequence[str]) -> list[str]:
    counts = pd.Series(list(codes), dtype=object).value_counts()
    return sorted(str(c) for c in counts.index[counts > 1])


def _code_format_hint(missing: Sequence[str], codes: Sequence[str]) -> str:
    """A hint when the missing codes differ from W's only in format (110000.0, 10000 vs 010000)."""
    have = set(codes)
    fixed = [m for m in missing if m.endswith(".0") and m[:-2] in have]
    if fixed:
        return (f". The units look like numbers written as floats ({_listing(fixed[:3])}): "
                f"convert the unit column with .astype('int64').astype(str)")
    padded = [m for m in missing if m.isdigit() and m.zfill(6) in have and m.zfill(6) != m]
    if padded:
        return (f". The units look like codes that lost their leading zeros "
                f"({_listing(padded[:3])}): convert with .astype(str).str.zfill(6)")
    return ""


def _as_codes(units: object, what: str) -> list[str]:
    if isinstance(units, (str, bytes)):
        raise WeightsError(f"{what} must be a sequence of unit codes, got the single string "
                           f"{units!r}")
    values = list(units)  # type: ignore[call-overload]
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise WeightsError(f"{what}: unit codes must be strings (6-digit codes such as '110000'); "
                           f"got {len(bad)} non-string value(s), e.g. {_listing(bad[:5])}. "
                           f"Convert with .astype(str).str.zfill(6)")
    return values


# --------------------------------------------------------------------------- geometry


def great_circle_km(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    r"""Great-circle distance in km between points given in degrees (broadcasting).

    Notes
    -----
    Haversine formula on a sphere of radius :math:`R` = :data:`EARTH_RADIUS_KM`:

    .. math::

        d = 2R \arcsin\sqrt{\sin^2\frac{\varphi_2-\varphi_1}{2}
            + \cos\varphi_1\cos\varphi_2\sin^2\frac{\lambda_2-\lambda_1}{2}}

    The argument of :math:`\arcsin` is clipped to 1 against rounding.
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlam = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_matrix_km(lon: Any, lat: Any) -> np.ndarray:
    """Dense n x n matrix of great-circle distances (km) between the points ``(lon, lat)``."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, 0.0)
    return d


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _load_layer(layer: gpd.GeoDataFrame | None, code: str) -> gpd.GeoDataFrame:
    if layer is None:
        from .boundaries import load_boundaries
        return load_boundaries()
    if code not in layer.columns:
        raise WeightsError(f"the layer has no code column {code!r} (columns: "
                           f"{_listing(list(layer.columns))}); pass code= naming it")
    codes = _as_codes(layer[code], f"layer column {code!r}")
    dup = sorted({c for c in codes if codes.count(c) > 1}) if len(set(codes)) < len(codes) else []
    if dup:
        raise WeightsError(f"the layer has duplicate codes: {_listing(dup)}; one row per unit is "
                           f"required")
    if layer.crs is None:
        raise WeightsError("the layer has no CRS; set one (e.g. layer.set_crs('EPSG:4326'))")
    out = layer.to_crs("EPSG:4326") if not layer.crs.equals("EPSG:4326") else layer
    out = out.rename(columns={code: "adcode"}) if code != "adcode" else out
    return out.sort_values("adcode", kind="stable").reset_index(drop=True)


def unit_points(layer: gpd.GeoDataFrame | None = None, *, point: PointKind = "centroid",
                code: str = "adcode") -> pd.DataFrame:
    """One point per unit of a boundary layer: DataFrame ``code, lon, lat`` (and ``name`` when the
    layer has one), sorted by code.

    Parameters
    ----------
    layer
        Boundary layer (``None``: the shipped default layer of 337 units).
    point
        ``"centroid"`` (default): the polygon centroid computed in the equal-area projection
        :data:`ALBERS_CHINA`, projected back to degrees. ``"representative"``: shapely's
        ``representative_point()`` in degrees, a point guaranteed to lie inside the polygon.
    code
        Name of the code column of ``layer``.
    """
    _check_choice(point, ("centroid", "representative"), "point")
    gdf = _load_layer(layer, code)
    if point == "centroid":
        pts = gdf.geometry.to_crs(ALBERS_CHINA).centroid.to_crs("EPSG:4326")
    else:
        pts = gdf.geometry.representative_point()
    out = pd.DataFrame({"code": gdf["adcode"].to_numpy(), "lon": pts.x.to_numpy(),
                        "lat": pts.y.to_numpy()})
    if "name" in gdf.columns:
        out["name"] = gdf["name"].to_numpy()
    return out


def _seats(seats: pd.DataFrame) -> pd.DataFrame:
    col = "code" if "code" in seats.columns else "adcode" if "adcode" in seats.columns else None
    missing = [c for c in ("lon", "lat") if c not in seats.columns]
    if col is None or missing:
        raise WeightsError(f"seats must have the columns code (or adcode), lon, lat; got "
                           f"{_listing(list(seats.columns))}")
    codes = _as_codes(seats[col], "seats code column")
    dup = sorted({c for c in codes if codes.count(c) > 1}) if len(set(codes)) < len(codes) else []
    if dup:
        raise WeightsError(f"seats have duplicate codes: {_listing(dup)}")
    out = pd.DataFrame({"code": codes, "lon": seats["lon"].to_numpy(dtype=float),
                        "lat": seats["lat"].to_numpy(dtype=float)})
    bad = out.loc[~(out["lon"].between(-180, 180) & out["lat"].between(-90, 90)), "code"]
    if len(bad):
        raise WeightsError(f"seats with missing or out-of-range lon/lat (degrees): "
                           f"{_listing(list(bad))}")
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def _rows_of_units(frame: pd.DataFrame, column: str, units: Sequence[str] | None,
                   source: str) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is one of ``units`` (all when None); every unit must
    be there (the message names those that are not)."""
    if units is None:
        return frame
    wanted = _as_codes(units, "units")
    missing = sorted(set(wanted) - set(frame[column]))
    if missing:
        raise WeightsError(f"{len(missing)} of the units are not in the {source}: "
                           f"{_listing(missing)}; load their boundaries (load_boundaries("
                           "include=...)) or leave them out")
    return frame[frame[column].isin(wanted)].reset_index(drop=True)


def _on_units(gdf: gpd.GeoDataFrame, units: Sequence[str] | None) -> gpd.GeoDataFrame:
    return _rows_of_units(gdf, "adcode", units, "boundary layer")


def _points_on_units(pts: pd.DataFrame, units: Sequence[str] | None) -> pd.DataFrame:
    return _rows_of_units(pts, "code", units, "layer or seats")


def _points(layer: gpd.GeoDataFrame | None, seats: pd.DataFrame | None, point: PointKind,
            code: str) -> pd.DataFrame:
    if seats is not None:
        if layer is not None:
            raise WeightsError("give either layer= or seats=, not both")
        return _seats(seats)
    return unit_points(layer, point=point, code=code)


def _nearest(lon: np.ndarray, lat: np.ndarray, k: int, rows: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest other points of each point in ``rows`` (all by default).

    Candidates come from a cKDTree on unit vectors (chord distance is monotone in great-circle
    distance); they are ranked by exact haversine distance, ties broken by position (i.e. code
    order). The query is widened until the k-th distance is strictly below the last candidate's,
    so ties at the boundary are resolved by code order, not by the tree. Returns (indices,
    distances), each of shape (len(rows), k).
    """
    from scipy.spatial import cKDTree

    n = len(lon)
    rows = np.arange(n) if rows is None else np.asarray(rows)
    xyz = _unit_vectors(lon, lat)
    tree = cKDTree(xyz)
    idx_out = np.empty((len(rows), k), dtype=np.int64)
    dist_out = np.empty((len(rows), k))
    m = min(n, k + 1 + 4)
    todo = np.arange(len(rows))
    while len(todo):
        _, cand = tree.query(xyz[rows[todo]], k=m)
        cand = np.asarray(cand).reshape(len(todo), m)
        retry = []
        for t, r_i in enumerate(todo):
            i = rows[r_i]
            c = cand[t][cand[t] != i]
            d = great_circle_km(lon[i], lat[i], lon[c], lat[c])
            order = np.lexsort((c, d))
            c, d = c[order], d[order]
            if m < n and len(c) > k and d[k - 1] >= d[-1]:
                retry.append(r_i)
                continue
            idx_out[r_i], dist_out[r_i] = c[:k], d[:k]
        todo = np.asarray(retry, dtype=np.int64)
        m = min(n, 2 * m)
    return idx_out, dist_out


# --------------------------------------------------------------------------- transforms


def _symmetric(m: sp.csr_array) -> bool:
    """True if ``m`` equals its transpose within a relative 1e-12 of its largest weight."""
    d = m - m.T
    scale = float(np.max(np.abs(m.data))) if m.nnz else 1.0
    return bool(d.nnz == 0 or np.max(np.abs(d.data)) <= _SYMMETRY_RTOL * scale)


def _spectral_radius(m: sp.csr_array) -> float:
    if m.nnz == 0:
        return 0.0
    if m.shape[0] <= DENSE_EIG_MAX:
        if _symmetric(m):
            a = m.toarray()
            return float(np.max(np.abs(np.linalg.eigvalsh((a + a.T) / 2))))
        return float(np.max(np.abs(np.linalg.eigvals(m.toarray()))))
    from scipy.sparse.linalg import eigs
    val = eigs(sp.csr_matrix(m), k=1, which="LM", return_eigenvectors=False)
    return float(np.abs(val[0]))


def _arpack_start(n: int) -> np.ndarray:
    """A fixed ARPACK starting vector: ARPACK's own random start carries state between calls,
    which would make the last digits of the bounds (and of the fits using them) vary by call
    order."""
    return np.random.default_rng(20261130).standard_normal(n)


def _real_extremes(vals: np.ndarray, allow_empty: bool = False) -> tuple[float, float] | None:
    """Smallest and largest of the real eigenvalues among ``vals`` (imaginary part within
    ``_IMAG_TOL`` of the largest modulus)."""
    if np.iscomplexobj(vals):
        scale = max(1.0, float(np.max(np.abs(vals))))
        vals = vals[np.abs(vals.imag) <= _IMAG_TOL * scale].real
    if vals.size == 0:
        if allow_empty:
            return None
        raise WeightsError("W has no real eigenvalue, so no admissible interval for rho exists")
    return float(np.min(vals)), float(np.max(vals))


def _row_sums(m: sp.csr_array) -> np.ndarray:
    """Row sums that do not depend on the column order: each row is summed in ascending order
    of its values, so a permuted W row-standardises to bit-identical weights."""
    counts = np.diff(m.indptr)
    if m.nnz and np.all(counts == counts[0]):  # equal row lengths (dense, kNN): sort per row
        return np.sort(m.data.reshape(m.shape[0], counts[0]), axis=1).sum(axis=1)
    rows = np.repeat(np.arange(m.shape[0]), counts)
    data = m.data[np.lexsort((m.data, rows))]
    out = np.zeros(m.shape[0])
    nonempty = counts > 0
    if data.size:
        out[nonempty] = np.add.reduceat(data, m.indptr[:-1][nonempty])
    return out


def _apply_transform(raw: sp.csr_array, kind: str) -> sp.csr_array:
    _check_choice(kind, TRANSFORMS, "transform")
    if kind == "none":
        return raw.copy()
    if kind == "row":
        s = _row_sums(raw)
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=s != 0)
        return _canonical(sp.diags_array(inv) @ raw)
    rad = _spectral_radius(raw)
    if rad == 0.0:
        raise WeightsError("spectral normalisation divides by the largest absolute eigenvalue, "
                           "which is 0 for this matrix (no links or a nilpotent W); use "
                           "transform='none' or 'row'")
    return _canonical(raw / rad)


_TRANSFORM_TEXT = {"row": "row-standardised",
                   "spectral": "spectral (divided by largest |eigenvalue|)",
                   "none": "untransformed"}


# --------------------------------------------------------------------------- summary


class _TransformKind(str):
    """The stored transform ("row", "spectral", "none"), callable as ``w.transform(kind)``.

    It compares, hashes and prints as the plain string; calling it returns a new
    :class:`Weights` with ``kind`` applied to ``raw`` (:meth:`Weights.with_transform`).
    """

    __slots__ = ("_owner",)

    def __new__(cls, value: str, owner: Weights) -> _TransformKind:
        obj = super().__new__(cls, value)
        obj._owner = owner
        return obj

    def __call__(self, kind: Transform) -> Weights:
        return self._owner.with_transform(kind)

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (str(self),))

    def __repr__(self) -> str:
        return repr(str(self))


@dataclass(frozen=True)
class WeightsSummary:
    """Diagnostics of a :class:`Weights` object (see :meth:`Weights.summary`)."""

    name: str
    transform: str
    n: int
    nnz: int
    density: float
    islands: tuple[str, ...]
    n_components: int
    neighbours_min: int
    neighbours_mean: float
    neighbours_max: int
    symmetric: bool
    pattern_symmetric: bool
    lambda_min: float
    lambda_max: float
    rho_lower: float
    rho_upper: float
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The diagnostics as a two-column table (statistic, value), values as text."""
        rows = [
            ("weights", self.name), ("transform", _TRANSFORM_TEXT[self.transform]),
            ("units (n)", str(self.n)), ("non-zero links", str(self.nnz)),
            ("density", f"{self.density:.4%}"),
            ("islands", f"{len(self.islands)}" + (f" ({', '.join(self.islands)})"
                                                  if self.islands else "")),
            ("connected components", str(self.n_components)),
            ("neighbours min / mean / max",
             f"{self.neighbours_min} / {self.neighbours_mean:.2f} / {self.neighbours_max}"),
            ("symmetric (values / pattern)",
             f"{'yes' if self.symmetric else 'no'} / {'yes' if self.pattern_symmetric else 'no'}"),
            ("eigenvalue range", f"[{self.lambda_min:.4f}, {self.lambda_max:.4f}]"),
            ("admissible rho interval", f"({self.rho_lower:.4f}, {self.rho_upper:.4f})"),
        ]
        rows += [("note", n) for n in self.notes]
        return pd.DataFrame(rows, columns=["statistic", "value"])

    def __str__(self) -> str:
        df = self.to_frame()
        width = int(df["statistic"].str.len().max())
        return "\n".join(f"{s:<{width}}  {v}" for s, v in df.itertuples(index=False))

    def _repr_html_(self) -> str:
        """Jupyter display: the table of :meth:`to_frame`."""
        from .report.notebook import repr_html
        return repr_html(f"Spatial weights: {self.name}", [(None, self.to_frame())])

    def to_markdown(self) -> str:
        """The diagnostics of :meth:`to_frame` as a Markdown table."""
        from .report import to_markdown
        return to_markdown(self.to_frame())

    def to_latex(self) -> str:
        """The diagnostics of :meth:`to_frame` as a LaTeX table captioned with the weights' name."""
        from .report import to_latex
        return to_latex(self.to_frame(), caption=f"Spatial weights: {self.name}")


# --------------------------------------------------------------------------- the value object


@dataclass(frozen=True, eq=False)
class Weights:
    """An immutable spatial weights matrix keyed by unit code.

    Parameters
    ----------
    codes
        Unit codes, the row and column order of the matrix (unique strings).
    sparse
        The weights as an n x n :class:`scipy.sparse.csr_array` of float64 in canonical form
        (sorted indices, no duplicates, no stored zeros), after ``transform``.
    name
        What the matrix is, e.g. ``"queen"``, ``"knn(k=5)"``, ``"inverse_distance(alpha=1)"``.
    transform
        ``"row"``, ``"spectral"`` or ``"none"``: how ``sparse`` was obtained from ``raw``.
    raw
        The untransformed matrix (defaults to ``sparse``, which requires ``transform="none"``).
    notes
        Provenance lines printed by :meth:`summary` (island policy, links added, ...).

    Notes
    -----
    Use the classmethod builders or :meth:`from_sparse` rather than the constructor. The
    diagonal must be zero and weights non-negative and finite. Derived statistics are cached.
    Equality is identity; compare matrices with :meth:`equals`.
    """

    codes: tuple[str, ...]
    sparse: sp.csr_array
    name: str = "custom"
    transform: str = "none"
    raw: sp.csr_array | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        codes = tuple(_as_codes(self.codes, "codes"))
        dup = _duplicate_codes(codes) if len(set(codes)) != len(codes) else []
        if dup:
            raise WeightsCodesError(f"codes must be unique; duplicated: {_listing(dup)}. Each "
                                    f"unit has one row and one column; drop or merge the "
                                    f"duplicates")
        _check_choice(self.transform, TRANSFORMS, "transform")
        mats = {}
        for label, m in (("raw", self.raw), ("sparse", self.sparse)):
            if m is None:
                continue
            mats[label] = _check_matrix(m, codes, label)
        if "raw" not in mats:
            if self.transform != "none":
                raise WeightsError(f"transform={self.transform!r} needs the untransformed matrix "
                                   f"raw=; use Weights.from_sparse(matrix, codes, transform=...)")
            mats["raw"] = mats["sparse"]
        object.__setattr__(self, "codes", codes)
        object.__setattr__(self, "sparse", mats["sparse"])
        object.__setattr__(self, "raw", mats["raw"])
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "transform", _TransformKind(str(self.transform), self))

    # ----------------------------------------------------------------- constructors

    @classmethod
    def from_sparse(cls, matrix: Any, codes: Sequence[str], *, name: str = "custom",
                    transform: Transform = "none", notes: Sequence[str] = ()) -> Weights:
        """Weights from an untransformed n x n matrix (sparse or dense) in the order of ``codes``.

        ``transform`` is applied to ``matrix`` (which is kept as ``raw``).
        """
        codes = _as_codes(codes, "codes")
        raw = _check_matrix(matrix, codes, "matrix")
        return cls(tuple(codes), _apply_transform(raw, transform), name=name, transform=transform,
                   raw=raw, notes=tuple(notes))

    @classmethod
    def from_libpysal(cls, w: Any, *, name: str = "libpysal", transform: Transform | None = None
                      ) -> Weights:
        """Weights from a libpysal ``W`` (order ``w.id_order``) or ``Graph`` (order ``unique_ids``).

        Ids are converted to strings. The values are taken as they are; if the libpysal object
        is row-standardised (``W.transform == "R"``, ``Graph.transformation == "R"``) the result
        is labelled ``transform="row"`` (its ``raw`` is then the row-standardised matrix),
        otherwise ``"none"``. Pass ``transform=`` to apply one of ours instead.
        """
        from libpysal.graph import Graph
        if isinstance(w, Graph):
            ids, m, label = list(w.unique_ids), w.sparse, str(w.transformation)
        else:
            ids, m, label = list(w.id_order), w.sparse, str(w.transform)
        codes = [str(i) for i in ids]
        m = _canonical(m)
        if transform is not None:
            return cls.from_sparse(m, codes, name=name, transform=transform)
        kind = "row" if label.upper() == "R" else "none"
        note = () if label.upper() in ("O", "B", "R") else (f"libpysal transform {label!r} kept "
                                                            f"as values",)
        return cls(tuple(codes), m, name=name, transform=kind, raw=m, notes=note)

    # ----------------------------------------------------------------- basic properties

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.codes)

    @property
    def nnz(self) -> int:
        """Number of non-zero weights (directed links)."""
        return int(self.sparse.nnz)

    @property
    def density(self) -> float:
        """Share of non-zero off-diagonal cells, nnz / (n (n - 1))."""
        return self.nnz / (self.n * (self.n - 1)) if self.n > 1 else 0.0

    @property
    def label(self) -> str:
        """``name [transform]``, the line models print in their summaries."""
        return f"{self.name} [{_TRANSFORM_TEXT[self.transform]}]"

    @cached_property
    def neighbour_counts(self) -> pd.Series:
        """Number of neighbours (non-zeros in the row) per unit, indexed by code."""
        return pd.Series(np.diff(self.sparse.indptr), index=pd.Index(self.codes, name="code"),
                         name="neighbours")

    @cached_property
    def islands(self) -> tuple[str, ...]:
        """Units without neighbours (zero rows), in ``codes`` order."""
        counts = np.diff(self.sparse.indptr)
        return tuple(self.codes[i] for i in np.flatnonzero(counts == 0))

    @cached_property
    def components(self) -> pd.Series:
        """Weakly connected component label per unit (0, 1, ...), indexed by code."""
        from scipy.sparse.csgraph import connected_components
        _, labels = connected_components(sp.csr_matrix(self.sparse), directed=True,
                                         connection="weak")
        return pd.Series(labels, index=pd.Index(self.codes, name="code"), name="component")

    @property
    def n_components(self) -> int:
        """Number of connected components of the neighbour graph (1: every unit reaches every
        other)."""
        return int(self.components.nunique()) if self.n else 0

    @cached_property
    def is_symmetric(self) -> bool:
        """True if ``sparse`` equals its transpose (relative tolerance 1e-12 on the values)."""
        return _symmetric(self.sparse)

    @cached_property
    def eigenvalues(self) -> np.ndarray:
        """All eigenvalues of ``sparse``, sorted ascending (real part).

        Computed densely (``numpy.linalg.eigvalsh`` if W is symmetric, or is the row-standardised
        form of a symmetric ``raw``, through the similar matrix
        :math:`D^{-1/2} A D^{-1/2}`; ``eigvals`` otherwise), which
        needs O(n^2) memory and O(n^3) time: fine up to :data:`DENSE_EIG_MAX` units (about 10 s
        at 3,000). Returned as real numbers when every imaginary part is below 1e-9 (always the
        case for a symmetric W and for the row-standardised form of a symmetric W, which is
        similar to a symmetric matrix); complex otherwise.
        """
        if self.n > DENSE_EIG_MAX:
            raise WeightsError(f"n = {self.n} > DENSE_EIG_MAX = {DENSE_EIG_MAX}: the dense "
                               f"eigen-decomposition is too costly; rho_bounds uses ARPACK for the "
                               f"extreme eigenvalues instead")
        a = self.sparse.toarray()
        if self.is_symmetric:
            vals = np.linalg.eigvalsh((a + a.T) / 2)
        elif self.transform == "row" and _symmetric(self.raw):
            # W = D^-1 A with A = raw symmetric is similar to D^-1/2 A D^-1/2 (islands: zero
            # rows and columns in both, eigenvalue 0), so its spectrum is real: use eigvalsh.
            d = _row_sums(self.raw)
            h = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
            b = (sp.diags_array(h) @ self.raw @ sp.diags_array(h)).toarray()
            vals = np.linalg.eigvalsh((b + b.T) / 2)
        else:
            vals = np.linalg.eigvals(a)
            if np.all(np.abs(vals.imag) <= _IMAG_TOL * max(1.0, float(np.max(np.abs(vals))))):
                vals = vals.real
        return np.sort_complex(vals) if np.iscomplexobj(vals) else np.sort(vals)

    @cached_property
    def _extreme_real_eigenvalues(self) -> tuple[float, float]:
        if self.n < SPARSE_EXTREMES_MIN_N:
            return _real_extremes(self.eigenvalues)
        arpack = self._arpack_extremes()
        if arpack is not None:
            return arpack
        if self.n <= DENSE_EIG_MAX:  # ARPACK found no real eigenvalue at an end of the spectrum
            return _real_extremes(self.eigenvalues)
        from scipy.sparse.linalg import eigs
        m = sp.csr_matrix(self.sparse)
        lo = eigs(m, k=1, which="SR", return_eigenvectors=False)
        hi = eigs(m, k=1, which="LR", return_eigenvectors=False)
        return float(lo.real[0]), float(hi.real[0])

    def _arpack_extremes(self) -> tuple[float, float] | None:
        """Smallest and largest real eigenvalue by ARPACK (Lanczos on the symmetric W or on
        :math:`D^{-1/2} A D^{-1/2}`, similar to the row-standardised form of a symmetric A;
        Arnoldi otherwise, keeping the real ones among the 6 eigenvalues of smallest / largest
        real part). ``None`` if a non-symmetric W shows no real eigenvalue at an end."""
        from scipy.sparse.linalg import eigs, eigsh
        if self.is_symmetric or (self.transform == "row" and _symmetric(self.raw)):
            if self.is_symmetric:
                b = sp.csr_matrix(self.sparse)
            else:
                d = _row_sums(self.raw)
                h = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
                b = sp.csr_matrix(sp.diags_array(h) @ self.raw @ sp.diags_array(h))
            b = (b + b.T) / 2
            v0 = _arpack_start(self.n)
            lo = eigsh(b, k=1, which="SA", return_eigenvectors=False, v0=v0)
            hi = eigsh(b, k=1, which="LA", return_eigenvectors=False, v0=v0)
            return float(lo[0]), float(hi[0])
        m = sp.csr_matrix(self.sparse)
        k = min(6, self.n - 2)
        ends = []
        for which in ("SR", "LR"):
            vals = eigs(m, k=k, which=which, return_eigenvectors=False, v0=_arpack_start(self.n))
            real = _real_extremes(vals, allow_empty=True)
            if real is None:
                return None
            ends.append(real[0] if which == "SR" else real[1])
        return ends[0], ends[1]

    @property
    def rho_bounds(self) -> tuple[float, float]:
        r"""Admissible interval for rho, :math:`(1/\lambda_{min}, 1/\lambda_{max})`.

        :math:`\lambda_{min}` and :math:`\lambda_{max}` are the smallest and largest real
        eigenvalues of ``sparse`` (LeSage & Pace 2009, *Introduction to Spatial Econometrics*,
        sec. 4.3): for :math:`\rho` inside the interval :math:`I - \rho W` is non-singular. For a
        row-standardised W, :math:`\lambda_{max} = 1`. If W has no negative eigenvalue the lower
        bound is ``-inf``.
        """
        if self.nnz == 0:
            raise EmptyWeightsError(f"{self.name}: W has no links (all {self.n} rows are zero), so "
                                    f"no admissible interval for rho exists; rebuild W (e.g. a "
                                    f"larger cutoff_km or k)")
        lo, hi = self._extreme_real_eigenvalues
        if hi <= 0:
            raise WeightsError(f"{self.name}: the largest real eigenvalue is {hi:g} <= 0 (no "
                               f"links?); no admissible interval for rho can be derived")
        return (1.0 / lo if lo < 0 else -math.inf, 1.0 / hi)

    def summary(self) -> WeightsSummary:
        """Diagnostics: n, links, density, islands, components, neighbour counts, symmetry,
        eigenvalue range and the admissible rho interval (see :class:`WeightsSummary`)."""
        counts = self.neighbour_counts.to_numpy()
        lo, hi = self._extreme_real_eigenvalues
        try:
            rlo, rhi = self.rho_bounds
        except WeightsError:
            rlo, rhi = math.nan, math.nan
        return WeightsSummary(
            name=self.name, transform=self.transform, n=self.n, nnz=self.nnz, density=self.density,
            islands=self.islands, n_components=self.n_components,
            neighbours_min=int(counts.min()) if self.n else 0,
            neighbours_mean=float(counts.mean()) if self.n else 0.0,
            neighbours_max=int(counts.max()) if self.n else 0,
            symmetric=self.is_symmetric, pattern_symmetric=self.binary().is_symmetric,
            lambda_min=lo, lambda_max=hi, rho_lower=rlo,
            rho_upper=rhi, notes=self.notes)

    def __repr__(self) -> str:
        return (f"Weights(name={self.name!r}, transform={self.transform!r}, n={self.n}, "
                f"nnz={self.nnz}, islands={len(self.islands)})")

    def _repr_html_(self) -> str:
        """Jupyter display: the diagnostics of :meth:`summary`."""
        return self.summary()._repr_html_()

    def equals(self, other: Weights, *, atol: float = 0.0) -> bool:
        """Same codes in the same order, same transform and the same values (within ``atol``)."""
        if self.codes != other.codes or self.transform != other.transform:
            return False
        d = self.sparse - other.sparse
        return bool(d.nnz == 0 or np.max(np.abs(d.data)) <= atol)

    # ----------------------------------------------------------------- derived objects

    def _replace(self, **kw: Any) -> Weights:
        args = dict(codes=self.codes, sparse=self.sparse, name=self.name,
                    transform=self.transform, raw=self.raw, notes=self.notes)
        args.update(kw)
        return Weights(**args)

    def with_transform(self, kind: Transform) -> Weights:
        """A new object with ``kind`` applied to ``raw`` (``"row"``, ``"spectral"``, ``"none"``).

        Row standardisation divides each row by its sum; zero rows (islands) stay zero, so their
        row sums are 0, not 1. Each row sum is taken over the row's values in ascending order,
        so the result does not depend on the unit order (a permuted W gives bit-identical
        weights). Spectral normalisation divides by the largest absolute eigenvalue of ``raw``.
        ``w.transform(kind)`` is the same call.
        """
        return self._replace(sparse=_apply_transform(self.raw, kind), transform=kind)

    def binary(self) -> Weights:
        """The neighbour pattern: 1 where ``sparse`` is non-zero, untransformed."""
        b = self.sparse.copy()
        b.data[:] = 1.0
        return Weights(self.codes, b, name=f"binary({self.name})", transform="none", raw=b,
                       notes=self.notes)

    def align(self, units: Sequence[str]) -> Weights:
        """Reorder to ``units`` (e.g. a panel's unit order), matching by code.

        Raises
        ------
        WeightsError
            If ``units`` has duplicate codes, codes W lacks, or W has codes ``units`` lacks; the
            message names them all. A W is never silently subset or padded: subset explicitly
            with :meth:`subset`.
        """
        units = _as_codes(units, "units")
        problems = []
        counts = pd.Series(units).value_counts()
        dup = sorted(counts.index[counts > 1])
        if dup:
            problems.append(f"{len(dup)} duplicate code(s) in units: {_listing(dup)}")
        have = set(self.codes)
        missing = sorted(set(units) - have)
        if missing:
            problems.append(f"{len(missing)} unit(s) missing from W: {_listing(missing)}")
        extra = sorted(have - set(units))
        if extra:
            problems.append(f"{len(extra)} unit(s) of W missing from units: {_listing(extra)}")
        if problems:
            raise WeightsCodesError(
                f"cannot align W '{self.name}' (n={self.n}) to {len(units)} units: "
                + "; ".join(problems) + ". Build W on the panel's units (Weights.contiguity("
                "units=panel.units), also knn and distance), or subset both explicitly "
                "(Weights.subset)" + _code_format_hint(missing, self.codes))
        if tuple(units) == self.codes:
            return self
        pos = {c: i for i, c in enumerate(self.codes)}
        perm = np.fromiter((pos[u] for u in units), dtype=np.int64, count=len(units))
        return self._replace(codes=tuple(units), sparse=self.sparse[perm][:, perm],
                             raw=self.raw[perm][:, perm])

    def check_aligned(self, units: Sequence[str]) -> None:
        """Raise unless ``units`` equals ``codes`` exactly (same codes, same order).

        For code that must not reorder silently (e.g. a model handed pre-stacked arrays): the
        message names missing, extra and duplicate codes, or the first positions that differ.
        Use :meth:`align` to reorder instead.
        """
        units = _as_codes(units, "units")
        if tuple(units) == self.codes:
            return
        self.align(units)  # raises for missing / extra / duplicate codes
        diff = [k for k, (a, b) in enumerate(zip(units, self.codes, strict=True)) if a != b]
        shown = "; ".join(f"position {k}: units {units[k]} vs W {self.codes[k]}" for k in diff[:5])
        raise WeightsCodesError(f"W '{self.name}' has the same units but in a different order "
                           f"({len(diff)} positions differ; {shown}); call w.align(units)")

    def subset(self, units: Sequence[str], *, transform: Transform | None = None) -> Weights:
        """The sub-matrix of ``units`` (in that order), re-transformed from ``raw``.

        Dropping units can create islands; they are listed in ``islands`` (no warning).
        """
        units = _as_codes(units, "units")
        missing = sorted(set(units) - set(self.codes))
        if missing or len(set(units)) != len(units):
            raise WeightsCodesError(
                f"subset: units must be distinct codes of W; missing from W: "
                f"{_listing(missing) or 'none'}; duplicated: "
                f"{_listing(_duplicate_codes(units)) or 'none'}")
        pos = {c: i for i, c in enumerate(self.codes)}
        idx = np.array([pos[u] for u in units], dtype=np.int64)
        raw = self.raw[idx][:, idx]
        kind = self.transform if transform is None else transform
        return Weights(tuple(units), _apply_transform(_canonical(raw), kind), name=self.name,
                       transform=kind, raw=raw, notes=self.notes + (f"subset of {self.n} units",))

    def lag(self, values: pd.Series) -> pd.Series:
        """Spatial lag W y of a Series indexed by code (aligned by code, never by position)."""
        missing = sorted(set(self.codes) - set(values.index.astype(str)))
        if missing:
            raise WeightsError(f"lag: values lack {len(missing)} unit(s) of W: {_listing(missing)}")
        y = values.reindex(list(self.codes)).to_numpy(dtype=float)
        return pd.Series(self.sparse @ y, index=pd.Index(self.codes, name="code"),
                         name=f"W_{values.name}" if values.name else "lag")

    # ----------------------------------------------------------------- libpysal interop

    def to_libpysal(self) -> Any:
        """A :class:`libpysal.weights.W` with ``id_order == codes`` and our (transformed) values.

        Its ``transform`` attribute is libpysal's ``"O"`` (values as given); islands are kept.
        """
        from libpysal.weights import WSP
        return WSP(sp.csr_matrix(self.sparse), id_order=list(self.codes)).to_W(
            silence_warnings=True)

    def to_graph(self) -> Any:
        """A :class:`libpysal.graph.Graph` (ids = codes) with our values.

        Islands become libpysal's zero-weight self-loops; a row-standardised W is labelled
        ``transformation="R"`` (others ``"O"``).
        """
        from libpysal.graph import Graph
        g = Graph.from_sparse(sp.csr_matrix(self.sparse), ids=np.asarray(self.codes))
        if self.transform == "row":
            g = Graph(g.adjacency, transformation="R", is_sorted=True)
        return g

    def to_frame(self) -> pd.DataFrame:
        """Edge list: columns focal, neighbor, weight (``sparse``) and raw_weight, in CSR order.

        Islands do not appear (they have no edges); ``codes`` carries them.
        """
        coo = self.sparse.tocoo()
        order = np.lexsort((coo.col, coo.row))
        r, c = coo.row[order], coo.col[order]
        codes = np.asarray(self.codes, dtype=object)
        raw = np.asarray(self.raw[r, c]).ravel() if len(r) else np.array([], dtype=float)
        return pd.DataFrame({"focal": codes[r], "neighbor": codes[c],
                             "weight": coo.data[order], "raw_weight": raw})

    # ----------------------------------------------------------------- files

    def to_parquet(self, path: str | Path) -> None:
        """Write the edge list (:meth:`to_frame`) with the codes (incl. islands), name, transform
        and notes in the Parquet schema metadata (key ``spatialinno.weights``)."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = {"codes": list(self.codes), "name": self.name, "transform": self.transform,
                "notes": list(self.notes)}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               b"spatialinno.weights": json.dumps(meta).encode()})
        pq.write_table(table, str(path))

    @classmethod
    def read_parquet(cls, path: str | Path) -> Weights:
        """Read :meth:`to_parquet` output, or any edge list with columns focal, neighbor, weight.

        Without our metadata the codes are the sorted union of focal and neighbor (islands
        cannot be known) and the weights are taken as untransformed.
        """
        import pyarrow.parquet as pq
        table = pq.read_table(str(path))
        df = table.to_pandas()
        need = [c for c in ("focal", "neighbor", "weight") if c not in df.columns]
        if need:
            raise WeightsError(f"{path}: edge list lacks column(s) {need}; expected focal, "
                               f"neighbor, weight")
        meta_raw = (table.schema.metadata or {}).get(b"spatialinno.weights")
        if meta_raw is None:
            codes = sorted(set(df["focal"].astype(str)) | set(df["neighbor"].astype(str)))
            meta = {"codes": codes, "name": Path(path).stem, "transform": "none", "notes": []}
            values = df["weight"]
        else:
            meta = json.loads(meta_raw)
            values = df["raw_weight"] if "raw_weight" in df.columns else df["weight"]
        raw = _edges_to_sparse(meta["codes"], df["focal"], df["neighbor"], values, str(path))
        return cls.from_sparse(raw, meta["codes"], name=meta["name"],
                               transform=meta["transform"], notes=meta.get("notes", ()))

    def to_gal(self, path: str | Path) -> None:
        """Write the neighbour lists as GAL (via :mod:`libpysal.io`; islands kept as ``id 0``).

        GAL holds no weight values, so only a binary ``raw`` matrix (contiguity, kNN, blocks of
        them) may be written; for other weights use :meth:`to_gwt` or :meth:`to_parquet`, or
        write the pattern explicitly with ``w.binary().to_gal(path)``.
        """
        import libpysal
        if self.raw.nnz and not np.all(self.raw.data == 1.0):
            raise WeightsError(f"GAL stores neighbour lists only, but '{self.name}' has non-binary "
                               f"weights that would be lost; use to_gwt()/to_parquet(), or "
                               f"w.binary().to_gal(path) to write the pattern on purpose")
        w = self.binary().to_libpysal()
        f = libpysal.io.open(str(path), "w")
        try:
            f.write(w)
        finally:
            f.close()

    @classmethod
    def read_gal(cls, path: str | Path, *, name: str | None = None,
                 transform: Transform = "none") -> Weights:
        """Read a GAL file (binary weights, file order); ``transform`` is then applied.

        Format: a header line ``n`` (or GeoDa's ``0 n shapefile key``), then for each unit a line
        ``code k`` followed by a line with its ``k`` neighbour codes (empty for an island). Codes
        are kept as the strings written in the file. A malformed file raises
        :class:`~spatialinno.errors.WeightsFileError` naming the file and the line.
        """
        codes, rows, cols = _parse_gal(Path(path))
        n = len(codes)
        raw = sp.csr_array((np.ones(len(rows)), (np.asarray(rows, dtype=np.int64),
                                                 np.asarray(cols, dtype=np.int64))), shape=(n, n))
        return cls.from_sparse(raw, codes, name=name or Path(path).stem, transform=transform)

    def to_gwt(self, path: str | Path) -> None:
        """Write GeoDa's GWT text format: header ``0 n <name> adcode``, then ``i j w_ij`` lines.

        The values written are ``sparse`` (after the transform) with 17 significant digits. The
        format has no place for islands; :meth:`read_gwt` restores them from the header's n when
        given ``codes=``.
        """
        df = self.to_frame()
        safe = "".join(ch if ch.isalnum() or ch in "_-." else "_" for ch in self.name) or "w"
        lines = [f"0 {self.n} {safe} adcode"]
        lines += [f"{f} {t} {w!r}" for f, t, w in zip(df["focal"], df["neighbor"],
                                                        df["weight"].astype(float), strict=True)]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def read_gwt(cls, path: str | Path, *, codes: Sequence[str] | None = None,
                 name: str | None = None, transform: Transform = "none") -> Weights:
        """Read a GWT file. ``codes`` gives the order and the islands; without it the codes are
        the sorted codes in the file, and a header n larger than their number raises."""
        text = _read_text(Path(path), "GWT").splitlines()
        if not text:
            raise WeightsFileError(f"{path}: empty GWT file")
        head = text[0].split()
        n_head = int(head[1]) if len(head) >= 2 and head[1].isdigit() else (
            int(head[0]) if head and head[0].isdigit() else None)
        numbered = [(i + 2, ln.split()) for i, ln in enumerate(text[1:]) if ln.strip()]
        bad = [no for no, r in numbered if len(r) != 3]
        if bad:
            raise WeightsFileError(f"{path}: lines {_listing(bad)} do not have 3 fields (i j w)")
        nonnum = [f"{no} ({r[2]!r})" for no, r in numbered if not _parses_as_float(r[2])]
        if nonnum:
            raise WeightsFileError(f"{path}: the weight (third field) is not a number on line(s) "
                                   f"{_listing(nonnum)}")
        rows = [r for _, r in numbered]
        df = pd.DataFrame(rows, columns=["focal", "neighbor", "weight"])
        seen = sorted(set(df["focal"]) | set(df["neighbor"]))
        if codes is None:
            if n_head is not None and n_head != len(seen):
                raise WeightsFileError(f"{path}: header says n = {n_head} but {len(seen)} units "
                                       f"have links; the others are islands GWT cannot name. "
                                       f"Pass codes= (e.g. the layer's adcodes)")
            codes = seen
        codes = _as_codes(codes, "codes")
        raw = _edges_to_sparse(codes, df["focal"], df["neighbor"],
                               df["weight"].astype(float), str(path))
        return cls.from_sparse(raw, codes, name=name or Path(path).stem, transform=transform)

    # ----------------------------------------------------------------- builders

    @classmethod
    def contiguity(cls, layer: gpd.GeoDataFrame | None = None, *, rook: bool = False,
                   islands: IslandPolicy = "keep", k_islands: int = 1,
                   transform: Transform = "row", code: str = "adcode",
                   point: PointKind = "centroid", units: Sequence[str] | None = None) -> Weights:
        """Queen (shared vertex) or rook (shared edge) contiguity from a boundary layer.

        ``units`` (e.g. ``panel.units``) builds W on those units only, so that a panel covering
        part of the country gets its own W: contiguity among them, the island policy applied
        after the cut (units whose neighbours were all cut become islands), then the transform.

        Parameters
        ----------
        layer
            Boundary layer with a code column (``None``: shipped default layer, 337 units).
            Units are ordered by code.
        rook
            Rook (a shared boundary segment) instead of queen (a shared point).
        islands
            What to do with units without a contiguous neighbour (on the shipped layer: 海口
            460100, 三亚 460200, 三沙 460300, 儋州 460400):

            ``"keep"`` (default)
                keep them as zero rows and emit an :class:`IslandWarning` naming them. Their
                spatial lag is 0, a row-standardised W has row sum 0 there (not 1), and in a
                SAR model their outcome receives and sends no spillover while they still count
                in n (each adds an eigenvalue 0, a factor 1 in det(I - rho W)). Moran's I
                treats their lag as 0.
            ``"connect"``
                link each island to its ``k_islands`` nearest units by great-circle distance
                between unit points (``point=``), in both directions (the result stays
                symmetric), with weight 1 before the transform. The links are listed in
                ``notes``. Islands may be linked to one another: on the shipped layer with
                ``k_islands=1`` Hainan's four cities form their own component (see
                ``summary().n_components``); raise ``k_islands`` to reach the mainland.
            ``"raise"``
                raise :class:`WeightsError` naming them.
        k_islands
            Number of nearest units each island is linked to under ``"connect"``.
        transform
            Applied after the island policy (default row standardisation).
        code, point
            Code column of ``layer``; unit point used by ``"connect"`` (see :func:`unit_points`).

        Notes
        -----
        Built with :meth:`libpysal.graph.Graph.build_contiguity` (vertex/edge sharing on the
        layer's coordinates, ``strict=False``); checked in the tests against
        :class:`libpysal.weights.Queen` and :class:`~libpysal.weights.Rook`.
        """
        from libpysal.graph import Graph
        _check_choice(islands, ("keep", "connect", "raise"), "islands")
        gdf = _on_units(_load_layer(layer, code), units)
        codes = list(gdf["adcode"])
        g = Graph.build_contiguity(gdf.set_index("adcode").geometry, rook=rook, strict=False)
        raw = _reorder_graph(g, codes)
        name = "rook" if rook else "queen"
        raw, notes = _island_policy(raw, codes, islands, k_islands, name, gdf=gdf, point=point)
        raw = _canonical(raw)
        raw.data[:] = 1.0
        return cls.from_sparse(raw, codes, name=name, transform=transform, notes=notes)

    @classmethod
    def knn(cls, k: int = 5, *, layer: gpd.GeoDataFrame | None = None,
            seats: pd.DataFrame | None = None, point: PointKind = "centroid",
            code: str = "adcode", transform: Transform = "row",
            units: Sequence[str] | None = None) -> Weights:
        """k-nearest-neighbour weights on great-circle distance between unit points.

        ``units`` (e.g. ``panel.units``): the k nearest among those units only.

        Each unit gets exactly ``k`` neighbours (weight 1 before the transform). Ties at the
        k-th distance are broken by code order: among equidistant candidates the unit with the
        smaller code is taken. kNN weights are in general not symmetric.

        Parameters
        ----------
        k
            Number of neighbours, 1 <= k <= n - 1.
        layer, seats, point, code
            Source of the unit points: a boundary layer (``None``: shipped default layer) and
            ``point`` kind, or ``seats`` (DataFrame ``code, lon, lat`` in degrees).
        transform
            Default ``"row"`` (each row then sums to 1, weights 1/k).
        """
        pts = _points_on_units(_points(layer, seats, point, code), units)
        n = len(pts)
        if not (isinstance(k, (int, np.integer)) and 1 <= k <= n - 1):
            raise WeightsError(f"k must be an integer in [1, n - 1 = {n - 1}]; got {k!r}")
        idx, _ = _nearest(pts["lon"].to_numpy(), pts["lat"].to_numpy(), int(k))
        rows = np.repeat(np.arange(n), k)
        raw = sp.csr_array((np.ones(n * k), (rows, idx.ravel())), shape=(n, n))
        return cls.from_sparse(raw, list(pts["code"]), name=f"knn(k={k})", transform=transform)

    @classmethod
    def distance(cls, kind: Literal["inverse", "exponential"] = "inverse", *, alpha: float = 1.0,
                 bandwidth_km: float | None = None, cutoff_km: float | None = None,
                 layer: gpd.GeoDataFrame | None = None, seats: pd.DataFrame | None = None,
                 point: PointKind = "centroid", code: str = "adcode",
                 islands: Literal["keep", "raise"] = "keep",
                 transform: Transform = "row", units: Sequence[str] | None = None) -> Weights:
        r"""Distance-decay weights on great-circle distance :math:`d_{ij}` (km) between unit points.

        ``units`` (e.g. ``panel.units``): among those units only (transformed after the cut).

        .. math::

            w_{ij} = d_{ij}^{-\alpha} \quad (\text{kind="inverse"}), \qquad
            w_{ij} = \exp(-d_{ij}/h) \quad (\text{kind="exponential"}, h = \text{bandwidth\_km})

        for :math:`i \ne j` and, if ``cutoff_km`` is given, :math:`d_{ij} \le` ``cutoff_km``
        (zero beyond); :math:`w_{ii} = 0`. Without a cutoff the matrix is dense (n^2 entries).
        ``alpha=2`` gives the gravity-type inverse squared distance W common in the Chinese
        literature.

        Parameters
        ----------
        islands
            A cutoff can leave units without neighbours: ``"keep"`` (zero rows, with an
            :class:`IslandWarning` naming them) or ``"raise"``. Increase ``cutoff_km`` to
            connect them.

        Raises
        ------
        WeightsError
            For two distinct units at the same point (d = 0) under ``kind="inverse"``, naming
            them; for alpha <= 0, a missing or non-positive bandwidth, a non-positive cutoff.
        """
        _check_choice(kind, ("inverse", "exponential"), "kind")
        _check_choice(islands, ("keep", "raise"), "islands")
        if kind == "inverse" and not alpha > 0:
            raise WeightsError(f"alpha must be > 0; got {alpha!r}")
        if kind == "exponential" and not (bandwidth_km is not None and bandwidth_km > 0):
            raise WeightsError(f"kind='exponential' needs bandwidth_km > 0; got {bandwidth_km!r}")
        if cutoff_km is not None and not cutoff_km > 0:
            raise WeightsError(f"cutoff_km must be > 0 (km); got {cutoff_km!r}")
        pts = _points_on_units(_points(layer, seats, point, code), units)
        codes = list(pts["code"])
        lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
        n = len(codes)
        if kind == "inverse":
            name = f"inverse_distance(alpha={alpha:g}"
        else:
            name = f"exponential_decay(bandwidth_km={bandwidth_km:g}"
        name += f", cutoff_km={cutoff_km:g})" if cutoff_km is not None else ")"

        def decay(dij: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
            if kind == "exponential":
                return np.exp(-dij / float(bandwidth_km))  # type: ignore[arg-type]
            zero = (dij == 0) & (i != j)
            if np.any(zero):
                ia, ja = np.broadcast_arrays(i, j)
                pairs0 = sorted({tuple(sorted((codes[a], codes[b])))
                                 for a, b in zip(ia[zero], ja[zero], strict=True)})
                raise WeightsError(f"inverse distance is undefined for distinct units at the same "
                                   f"point: {_listing([f'{a}-{b}' for a, b in pairs0])}; fix the "
                                   f"seat coordinates")
            with np.errstate(divide="ignore"):
                return dij ** (-float(alpha))

        if cutoff_km is None:  # dense: every pair is a neighbour
            d = distance_matrix_km(lon, lat)
            ii, jj = np.indices(d.shape, sparse=True)
            vals = decay(d, ii, jj)
            np.fill_diagonal(vals, 0.0)
            raw = sp.csr_array(vals)
        else:
            from scipy.spatial import cKDTree
            chord = 2 * math.sin(min(cutoff_km / (2 * EARTH_RADIUS_KM), math.pi / 2))
            tree = cKDTree(_unit_vectors(lon, lat))
            pairs = tree.query_pairs(chord * (1 + 1e-9) + 1e-12, output_type="ndarray")
            i = np.concatenate([pairs[:, 0], pairs[:, 1]])
            j = np.concatenate([pairs[:, 1], pairs[:, 0]])
            dij = great_circle_km(lon[i], lat[i], lon[j], lat[j])
            keep = dij <= cutoff_km
            i, j, dij = i[keep], j[keep], dij[keep]
            raw = sp.csr_array((decay(dij, i, j), (i, j)), shape=(n, n))
        raw, notes = _island_policy(
            raw, codes, islands, 1, name, names=_names(pts),
            advice="Increase cutoff_km (or use Weights.knn) to give them neighbours, or pass "
                   "islands='raise'")
        return cls.from_sparse(raw, codes, name=name, transform=transform, notes=notes)

    @classmethod
    def economic(cls, panel_data: Any, variable: str, unit: str = "adcode", time: str = "year",
                 *, years: Sequence[int] | None = None, units: Sequence[str] | None = None,
                 missing: Literal["raise", "skip"] = "raise", min_diff: float | None = None,
                 transform: Transform = "row") -> Weights:
        r"""Economic-distance weights from a variable averaged over the panel's years.

        .. math::

            \bar Y_i = \frac{1}{T_i}\sum_t Y_{it}, \qquad
            w_{ij} = \frac{1}{|\bar Y_i - \bar Y_j|} \ (i \ne j), \qquad w_{ii} = 0,

        then the transform (row standardisation by default). This is the economic-distance W
        of the Chinese literature (e.g. 林光平、龙志和、吴梅 2005, 经济学(季刊) 4(S1);
        per-capita GDP is the usual :math:`Y`). The matrix is dense and symmetric before the
        transform.

        Parameters
        ----------
        panel_data
            Long DataFrame (or :class:`~spatialinno.panel.Panel`) with columns ``unit``,
            ``time`` and ``variable``.
        years
            Years to average over (default: all).
        units
            Units (order) of W; default: every unit of the panel, sorted. A listed unit absent
            from the panel raises.
        missing
            ``"raise"`` (default) lists missing cells; ``"skip"`` averages the available years
            (a unit without any value still raises).
        min_diff
            Guard for equal means: :math:`|\bar Y_i - \bar Y_j| = 0` makes the weight infinite,
            so by default any such pair raises, naming it. With ``min_diff`` the weight is
            :math:`1/\max(|\bar Y_i - \bar Y_j|, \text{min\_diff})`.
        """
        ybar = _unit_means(panel_data, variable, unit, time, years, units, missing)
        codes = list(ybar.index)
        y = ybar.to_numpy(dtype=float)
        diff = np.abs(y[:, None] - y[None, :])
        off = ~np.eye(len(y), dtype=bool)
        if min_diff is None:
            eq = np.argwhere((diff == 0) & off)
            if len(eq):
                pairs = sorted({(codes[a], codes[b]) for a, b in eq if a < b})
                raise WeightsError(
                    f"economic weights 1/|Ybar_i - Ybar_j| are infinite for units with equal mean "
                    f"{variable}: {_listing([f'{a}={b}' for a, b in pairs])}; pass min_diff= "
                    f"(weights become 1/max(|diff|, min_diff)) or drop the duplicates")
            vals = np.divide(1.0, diff, out=np.zeros_like(diff), where=off)
        else:
            if not min_diff > 0:
                raise WeightsError(f"min_diff must be > 0; got {min_diff!r}")
            vals = np.where(off, 1.0 / np.maximum(diff, float(min_diff)), 0.0)
        notes = (f"Ybar = mean of {variable} over "
                 + (f"years {min(years)}-{max(years)}" if years else "all panel years"),)
        if min_diff is not None:
            notes += (f"guard: |Ybar_i - Ybar_j| floored at {min_diff:g}",)
        return cls.from_sparse(vals, codes, name=f"economic({variable})", transform=transform,
                               notes=notes)

    @classmethod
    def nested(cls, geo: Weights, panel_data: Any, variable: str, unit: str = "adcode",
               time: str = "year", *, years: Sequence[int] | None = None,
               missing: Literal["raise", "skip"] = "raise",
               transform: Transform = "row") -> Weights:
        r"""Economic-geographic nested weights, :math:`W = W_d\,\mathrm{diag}(\bar Y_j/\bar Y)`.

        .. math::

            w_{ij} = w^d_{ij}\,\frac{\bar Y_j}{\bar Y}, \qquad
            \bar Y_j = \frac{1}{T}\sum_t Y_{jt}, \qquad \bar Y = \frac{1}{n}\sum_j \bar Y_j,

        followed by the transform (row standardisation by default, which cancels the scalar
        :math:`1/\bar Y` and any row scaling of :math:`W_d`). A neighbour with a larger
        economy (:math:`\bar Y_j > \bar Y`) weighs more. :math:`W_d` is ``geo.sparse`` (its
        stored values, e.g. a row-standardised contiguity or inverse-distance W), aligned to the
        panel by code.

        Reference: 林光平、龙志和、吴梅 (Lin, Long & Wu) 2005,
        《我国地区经济收敛的空间计量实证分析：1978—2002年》, 经济学(季刊) 4(S1).

        Raises
        ------
        WeightsError
            If panel units lack some of ``geo.codes`` (named), or some :math:`\bar Y_j \le 0`.
        """
        ybar = _unit_means(panel_data, variable, unit, time, years, geo.codes, missing)
        y = ybar.reindex(list(geo.codes)).to_numpy(dtype=float)
        nonpos = [c for c, v in zip(geo.codes, y, strict=True) if not v > 0]
        if nonpos:
            raise WeightsError(f"nested weights need Ybar_j > 0; {variable} has mean <= 0 for "
                               f"{_listing(nonpos)}")
        scale = y / y.mean()
        raw = _canonical(geo.sparse @ sp.diags_array(scale))
        return cls.from_sparse(raw, geo.codes, name=f"nested({geo.name}; {variable})",
                               transform=transform,
                               notes=(f"W_d = {geo.label}", f"W = W_d diag(Ybar_j / Ybar), "
                                      f"Y = {variable}"))

    @classmethod
    def mix(cls, w_d: Weights, w_e: Weights, phi: float, *,
            transform: Transform = "row") -> Weights:
        r"""Convex combination :math:`W = \varphi W_d + (1-\varphi) W_e`, :math:`\varphi \in [0, 1]`.

        Uses the stored values of both (``w_e`` is aligned to ``w_d.codes`` by code; different
        unit sets raise). With row-standardised inputs the result is already row-stochastic and
        the default ``transform="row"`` leaves it unchanged. The economic-geographic nested W
        of the Chinese literature (e.g. 邵帅等 2016, 经济研究 第9期); on convex combinations of
        interaction matrices see Debarsy & LeSage (2018), Regional Science and Urban Economics
        69: 48-68, https://doi.org/10.1016/j.regsciurbeco.2018.01.001.
        """
        if not (isinstance(phi, (int, float, np.floating)) and 0.0 <= float(phi) <= 1.0):
            raise WeightsError(f"phi must be in [0, 1]; got {phi!r}")
        we = w_e.align(w_d.codes)
        raw = _canonical(float(phi) * w_d.sparse + (1.0 - float(phi)) * we.sparse)
        return cls.from_sparse(raw, w_d.codes, name=f"mix(phi={phi:g}; {w_d.name}, {w_e.name})",
                               transform=transform,
                               notes=(f"W = {phi:g} * [{w_d.label}] + {1 - phi:g} * "
                                      f"[{w_e.label}]",))

    @classmethod
    def blocks(cls, w: Weights, groups: Mapping[str, str], *,
               unassigned: Literal["raise", "between"] = "raise") -> tuple[Weights, Weights]:
        r"""Split W into agglomeration blocks: ``(within, between)``.

        .. math::

            W^{within}_{ij} = w_{ij}\,1[g(i) = g(j)], \qquad
            W^{between}_{ij} = w_{ij}\,1[g(i) \ne g(j)], \qquad W = W^{within} + W^{between}

        The split is of ``w.sparse`` exactly as stored (split a binary W for raw blocks, or a
        row-standardised W to split the row-standardised matrix; the parts are not re-normalised
        so that the identity holds exactly, bit for bit). Both parts carry ``transform="none"``
        and record the parent in their name and notes; call ``.with_transform("row")`` on a
        part to row-standardise it on its own (zero rows become islands).

        Parameters
        ----------
        groups
            Unit code -> group label (e.g. urban agglomeration). Codes of ``groups`` not in W
            are ignored.
        unassigned
            Units of W without a group: ``"raise"`` (default, naming them) or ``"between"``
            (each is its own group, so all its links go to the between part).
        """
        _check_choice(unassigned, ("raise", "between"), "unassigned")
        lacking = [c for c in w.codes if c not in groups]
        if lacking and unassigned == "raise":
            raise WeightsError(f"{len(lacking)} unit(s) of W have no group: {_listing(lacking)}; "
                               f"add them to groups or pass unassigned='between'")
        labels = np.array([f"g:{groups[c]}" if c in groups else f"u:{c}" for c in w.codes],
                          dtype=object)
        coo = w.sparse.tocoo()
        same = labels[coo.row] == labels[coo.col]
        parts = []
        for kind, mask in (("within", same), ("between", ~same)):
            m = sp.csr_array((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=w.sparse.shape)
            parts.append(cls(w.codes, m, name=f"{kind}({w.name})", transform="none", raw=m,
                             notes=w.notes + (f"{kind}-group part of {w.label}",)))
        return parts[0], parts[1]

    def plot_histogram(self, path: str | Path | None = None) -> Any:
        """Histogram of neighbour counts (see :func:`neighbour_histogram`)."""
        return neighbour_histogram(self, path)

    def plot_links(self, layer: gpd.GeoDataFrame | None = None, path: str | Path | None = None,
                   **kw: Any) -> Any:
        """Map of links over the boundary layer (see :func:`link_map`)."""
        return link_map(self, layer, path, **kw)


# --------------------------------------------------------------------------- figures
# Built on matplotlib.figure.Figure (no pyplot, no global state); PNGs saved with
# metadata={"Software": None} so the same weights give the same bytes.


def _save(fig: Any, path: str | Path | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=120, metadata={"Software": None}, bbox_inches="tight")
    return fig


def neighbour_histogram(w: Weights, path: str | Path | None = None) -> Any:
    """Bar chart of the number of units with 0, 1, 2, ... neighbours (islands in red).

    Returns the :class:`matplotlib.figure.Figure`; writes a PNG to ``path`` if given.
    """
    from matplotlib.figure import Figure

    counts = w.neighbour_counts.to_numpy()
    values, freq = np.unique(counts, return_counts=True)
    fig = Figure(figsize=(6, 3.6))
    ax = fig.add_subplot()
    ax.bar(values, freq, width=0.8, color=["tab:red" if v == 0 else "tab:blue" for v in values])
    ax.set_xlabel("number of neighbours")
    ax.set_ylabel("units")
    ax.set_title(f"{w.label}\nn = {w.n}, mean {counts.mean():.2f}, islands {len(w.islands)}",
                 fontsize=9)
    return _save(fig, path)


def link_map(w: Weights, layer: gpd.GeoDataFrame | None = None, path: str | Path | None = None,
             *, seats: pd.DataFrame | None = None, point: PointKind = "centroid",
             max_links: int = 20000) -> Any:
    """Boundaries of ``layer`` (shipped layer by default) with a line for every linked pair.

    Lines join unit points (:func:`unit_points`, or ``seats``), in longitude/latitude; a pair
    linked in both directions is drawn once. Islands are marked in red. For dense matrices only
    the ``max_links`` strongest undirected links are drawn (stated in the title). Returns the
    :class:`matplotlib.figure.Figure`; writes a PNG to ``path`` if given.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    gdf = None if seats is not None and layer is None else _load_layer(layer, "adcode")
    pts = _points(None if seats is not None else gdf, seats, point, "adcode").set_index("code")
    lacking = sorted(set(w.codes) - set(pts.index))
    if lacking:
        raise WeightsError(f"link_map: no point for {len(lacking)} unit(s) of W: "
                           f"{_listing(lacking)}")
    xy = pts.reindex(list(w.codes))[["lon", "lat"]].to_numpy()
    both = (w.sparse + w.sparse.T).tocoo()
    upper = both.row < both.col
    r, c, v = both.row[upper], both.col[upper], both.data[upper]
    order = np.lexsort((c, r, -v))[:max_links]
    fig = Figure(figsize=(8, 6.5))
    ax = fig.add_subplot()
    if gdf is not None:
        gdf[gdf["adcode"].isin(set(w.codes))].plot(ax=ax, facecolor="whitesmoke",
                                                    edgecolor="grey", linewidth=0.2)
    ax.add_collection(LineCollection(np.stack([xy[r[order]], xy[c[order]]], axis=1),
                                     colors="tab:blue", linewidths=0.4, alpha=0.7))
    ax.scatter(xy[:, 0], xy[:, 1], s=2, color="black", zorder=3)
    if w.islands:
        isl = pts.reindex(list(w.islands))
        ax.scatter(isl["lon"], isl["lat"], s=18, color="tab:red", zorder=4, label="islands")
        ax.legend(loc="lower left", fontsize=8)
    total = int(upper.sum())
    ax.set_title(f"{w.label}: {total} undirected links"
                 + (f" ({len(order)} strongest shown)" if len(order) < total else ""), fontsize=9)
    ax.set_axis_off()
    ax.autoscale_view()
    return _save(fig, path)


# --------------------------------------------------------------------------- builder helpers


def _reorder_graph(g: Any, codes: list[str]) -> sp.csr_array:
    """Graph adjacency as a csr_array in ``codes`` order (isolate self-loops dropped)."""
    adj = g.adjacency.reset_index()
    pos = {c: i for i, c in enumerate(codes)}
    f = adj["focal"].astype(str).map(pos).to_numpy()
    t = adj["neighbor"].astype(str).map(pos).to_numpy()
    v = adj["weight"].to_numpy(dtype=float)
    keep = (f != t) & (v != 0)
    n = len(codes)
    return sp.csr_array((np.ones(int(keep.sum())), (f[keep], t[keep])), shape=(n, n))


def _edges_to_sparse(codes: Sequence[str], focal: pd.Series, neighbor: pd.Series,
                     values: pd.Series, where: str) -> sp.csr_array:
    pos = {c: i for i, c in enumerate(codes)}
    f = focal.astype(str).map(pos)
    t = neighbor.astype(str).map(pos)
    unknown = sorted(set(focal.astype(str)[f.isna()]) | set(neighbor.astype(str)[t.isna()]))
    if unknown:
        raise WeightsError(f"{where}: edges name codes not in the code list: {_listing(unknown)}")
    n = len(codes)
    dup = pd.DataFrame({"f": f, "t": t}).duplicated()
    if dup.any():
        raise WeightsError(f"{where}: {int(dup.sum())} duplicate edge(s)")
    return sp.csr_array((values.to_numpy(dtype=float), (f.to_numpy(dtype=np.int64),
                                                        t.to_numpy(dtype=np.int64))), shape=(n, n))


def _island_policy(raw: sp.csr_array, codes: list[str], policy: str, k: int, name: str, *,
                   gdf: gpd.GeoDataFrame | None = None, point: PointKind = "centroid",
                   names: Mapping[str, str] | None = None,
                   advice: str = "Pass islands='connect' to link each to its nearest unit(s), or "
                                 "islands='raise'") -> tuple[sp.csr_array, tuple[str, ...]]:
    raw = _canonical(raw)
    counts = np.diff(raw.indptr)
    isl = np.flatnonzero(counts == 0)
    if not len(isl):
        return raw, ()
    if names is None:
        names = dict(zip(gdf["adcode"], gdf["name"], strict=True)) if (
            gdf is not None and "name" in gdf.columns) else {}
    labelled = [f"{codes[i]} {names[codes[i]]}".strip() if codes[i] in names else codes[i]
                for i in isl]
    listing = _listing(labelled)
    if policy == "raise":
        other = advice.replace("islands='raise'", "islands='keep'")
        raise WeightsError(f"{name}: {len(isl)} island(s) without neighbours: {listing}. {other}")
    if policy == "keep":
        warnings.warn(
            f"{name}: {len(isl)} island(s) without neighbours kept as zero rows: {listing}. Their "
            f"spatial lag is 0 and their row sums stay 0 after row standardisation (no "
            f"spillover to or from them). {advice}.", IslandWarning, stacklevel=3)
        return raw, (f"islands kept as zero rows: {listing}",)
    if k < 1 or k > len(codes) - 1:
        raise WeightsError(f"k_islands must be in [1, n - 1 = {len(codes) - 1}]; got {k!r}")
    pts = unit_points(gdf, point=point)
    pts = pts.set_index("code").reindex(codes)
    idx, dist = _nearest(pts["lon"].to_numpy(), pts["lat"].to_numpy(), k, rows=isl)
    r = np.repeat(isl, k)
    c = idx.ravel()
    add = sp.csr_array((np.ones(len(r)), (r, c)), shape=raw.shape)
    out = _canonical(raw + add + add.T)
    out.data[:] = 1.0
    links = [f"{labelled[a]} -> {codes[c_]} {names.get(codes[c_], '')}".rstrip()
             + f" ({dist[a, b]:.0f} km)" for a in range(len(isl)) for b, c_ in enumerate(idx[a])]
    return out, (f"islands connected to their {k} nearest unit(s) by great-circle distance "
                 f"between {point} points (symmetric, weight 1 before the transform): "
                 + "; ".join(links),)


def _read_text(path: Path, kind: str) -> str:
    if not path.is_file():
        raise WeightsFileError(f"{path}: no such {kind} file" + (
            " (it is a folder)" if path.is_dir() else ""))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise WeightsFileError(f"{path}: not a UTF-8 text {kind} file ({exc.reason} at byte "
                               f"{exc.start})") from exc


def _parse_gal(path: Path) -> tuple[list[str], list[int], list[int]]:
    """``(codes, rows, cols)`` of a GAL file; every malformed line raises WeightsFileError."""
    lines = _read_text(path, "GAL").splitlines()
    if not "".join(lines).strip():
        raise WeightsFileError(f"{path}: empty GAL file; expected a header line with the number "
                               f"of units")

    def fail(no: int, what: str) -> WeightsFileError:
        return WeightsFileError(f"{path}, line {no}: {what}")

    head = lines[0].split()
    n_text = head[1] if len(head) >= 2 else (head[0] if head else "")
    if not n_text.isdigit():
        raise fail(1, f"header {lines[0].strip()!r} does not give the number of units; expected "
                      f"'n' or GeoDa's '0 n shapefile key'")
    n = int(n_text)
    want = 1 + 2 * n
    while len(lines) > want and not lines[-1].strip():
        lines.pop()
    if len(lines) == want - 1 and lines[-1].split()[1:] == ["0"]:
        lines.append("")  # the last unit is an island whose empty neighbour line was cut off
    if len(lines) > want:
        raise fail(want + 1, f"unexpected content {lines[want].strip()!r} after the {n} units the "
                             f"header announces")
    if len(lines) < want:
        raise fail(len(lines), f"the file ends here, but the header says n = {n} units, i.e. "
                               f"{2 * n} lines after it (a 'code k' line and a neighbour line per "
                               f"unit); found {len(lines) - 1}")
    codes: list[str] = []
    neighbours: list[tuple[int, list[str]]] = []
    for u in range(n):
        no = 2 + 2 * u
        parts = lines[no - 1].split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise fail(no, f"expected 'code k' (a unit code and its number of neighbours); got "
                           f"{lines[no - 1].strip()!r}")
        nbs = lines[no].split()
        if len(nbs) != int(parts[1]):
            raise fail(no + 1, f"unit {parts[0]} declares {parts[1]} neighbour(s) on line {no} "
                               f"but {len(nbs)} are listed")
        codes.append(parts[0])
        neighbours.append((no + 1, nbs))
    dup = _duplicate_codes(codes)
    if dup:
        lines_of = [str(2 + 2 * i) for i, c in enumerate(codes) if c in set(dup)]
        raise fail(int(lines_of[1]), f"duplicate unit code(s) {_listing(dup)} (lines "
                                     f"{_listing(lines_of)}); each unit appears once")
    pos = {c: i for i, c in enumerate(codes)}
    rows: list[int] = []
    cols: list[int] = []
    for i, (no, nbs) in enumerate(neighbours):
        unknown = [c for c in nbs if c not in pos]
        if unknown:
            raise fail(no, f"neighbour(s) {_listing(unknown)} of unit {codes[i]} are not units of "
                           f"the file")
        if codes[i] in nbs:
            raise fail(no, f"unit {codes[i]} lists itself as a neighbour")
        if len(set(nbs)) != len(nbs):
            raise fail(no, f"unit {codes[i]} lists neighbour(s) "
                           f"{_listing(_duplicate_codes(nbs))} more than once")
        rows += [i] * len(nbs)
        cols += [pos[c] for c in nbs]
    return codes, rows, cols


def _names(pts: pd.DataFrame) -> dict[str, str]:
    return dict(zip(pts["code"], pts["name"], strict=True)) if "name" in pts.columns else {}


def _unit_means(panel_data: Any, variable: str, unit: str, time: str,
                years: Sequence[int] | None, units: Sequence[str] | None,
                missing: str) -> pd.Series:
    _check_choice(missing, ("raise", "skip"), "missing")
    df = getattr(panel_data, "data", panel_data)
    if not isinstance(df, pd.DataFrame):
        raise WeightsError(f"panel_data must be a DataFrame or Panel; got {type(df).__name__}")
    need = [c for c in (unit, time, variable) if c not in df.columns]
    if need:
        raise WeightsError(f"panel_data lacks column(s) {need}; it has "
                           f"{_listing(list(df.columns))}")
    d = df[[unit, time, variable]].copy()
    d[unit] = d[unit].astype(str)
    if years is not None:
        d = d[d[time].isin(list(years))]
    dup = d[d.duplicated([unit, time], keep=False)]
    if len(dup):
        cells = sorted({f"{u}/{t}" for u, t in zip(dup[unit], dup[time], strict=True)})
        raise WeightsError(f"panel_data has duplicate (unit, time) rows: {_listing(cells)}")
    if units is not None:
        units = _as_codes(units, "units")
        absent = sorted(set(units) - set(d[unit]))
        if absent:
            raise WeightsError(f"{len(absent)} unit(s) have no {variable} rows in panel_data: "
                               f"{_listing(absent)}")
        d = d[d[unit].isin(set(units))]
    vals = pd.to_numeric(d[variable], errors="coerce")
    na = d[vals.isna()]
    if len(na) and missing == "raise":
        cells = [f"{u}/{t}" for u, t in zip(na[unit], na[time], strict=True)]
        raise WeightsError(f"{variable} is missing (or not numeric) in {len(cells)} unit-year(s): "
                           f"{_listing(sorted(cells))}; fill them or pass missing='skip'")
    means = vals.groupby(d[unit]).mean()
    empty = sorted(means.index[means.isna()])
    if empty:
        raise WeightsError(f"{variable} has no value at all for {_listing(empty)}")
    order = list(units) if units is not None else sorted(means.index)
    return means.reindex(order)


# ------------------------------------------------------------------------- weights by period

def _period_key(period: object) -> object:
    """A period as a dictionary key: whole numbers (numpy ints, 2015.0) as ``int``, else as is,
    so that a panel's ``year`` column of any integer dtype finds its W_t."""
    if isinstance(period, (bool, np.bool_)):
        return period
    if isinstance(period, (int, np.integer)):
        return int(period)
    if isinstance(period, (float, np.floating)) and float(period).is_integer():
        return int(period)
    return period


@dataclass(frozen=True, eq=False)
class WeightsSequence:
    r"""Spatial weights that change over time: one :class:`Weights` :math:`W_t` per period.

    For economic weights recomputed every year (:meth:`economic`), a W that changes when units
    merge or split (build each year's W on that year's units), or a fixed W cut to the units
    present in each period of an unbalanced panel (:meth:`cut`). Each :math:`W_t` is keyed by
    its codes; models and ESDA use :meth:`for_period`, which requires :math:`W_t`'s codes to be
    exactly the units observed in period ``t`` (missing and extra codes are named, the period
    too): a W_t is never silently cut, padded or reordered.

    Parameters
    ----------
    weights
        Mapping period -> :class:`Weights` (whole-number periods are keyed as ``int``).
    name
        What the sequence is, e.g. ``"economic(pgdp) by year"``.

    Examples
    --------
    >>> ws = WeightsSequence.economic(panel.data, "pgdp")            # doctest: +SKIP
    >>> ws = WeightsSequence({2015: w_2015, 2016: w_2016})           # doctest: +SKIP
    >>> res = spatialinno.fit("y ~ x", panel.data, ws, bias_correction=None)  # doctest: +SKIP
    """

    weights: Mapping[object, Weights]
    name: str = "W_t"

    def __post_init__(self) -> None:
        if not isinstance(self.weights, Mapping) or not len(self.weights):
            raise WeightsError("WeightsSequence needs a non-empty mapping period -> Weights; "
                               f"received {type(self.weights).__name__}")
        items: dict[object, Weights] = {}
        for period, w in self.weights.items():
            if not isinstance(w, Weights):
                raise WeightsError(f"WeightsSequence: the weights of period {period!r} are a "
                                   f"{type(w).__name__}, not a spatialinno Weights; convert "
                                   "with Weights.from_sparse(matrix, codes) or "
                                   "Weights.from_libpysal(w)")
            items[_period_key(period)] = w  # equal periods hash equally: one key per period
        try:
            order = sorted(items)
        except TypeError:
            order = list(items)
        object.__setattr__(self, "weights", {k: items[k] for k in order})

    # ----------------------------------------------------------------- access
    @property
    def periods(self) -> tuple[object, ...]:
        """The periods, sorted."""
        return tuple(self.weights)

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code of every period's W, sorted."""
        return tuple(sorted({c for w in self.weights.values() for c in w.codes}))

    def __len__(self) -> int:
        return len(self.weights)

    def __iter__(self):
        return iter(self.weights)

    def items(self):
        """The ``(period, Weights)`` pairs in period order."""
        return self.weights.items()

    def __getitem__(self, period: object) -> Weights:
        key = _period_key(period)
        if key not in self.weights:
            raise WeightsError(
                f"WeightsSequence {self.name!r} has no W for period {key}; it has periods "
                f"{_listing([str(p) for p in self.periods])}. Add W_{key} (or fit only the "
                "periods it covers)")
        return self.weights[key]

    def for_period(self, period: object, units: Sequence[str]) -> Weights:
        """``W_t`` aligned to ``units`` (the units observed in ``period``, in the model's order).

        Raises
        ------
        WeightsError
            No W for ``period``; or (:class:`WeightsCodesError`) W_t's codes are not exactly
            ``units``: the period and the missing and extra codes are named.
        """
        w = self[period]
        period = _period_key(period)
        units = _as_codes(units, "units")
        missing = sorted(set(units) - set(w.codes))
        extra = sorted(set(w.codes) - set(units))
        if missing or extra:
            raise WeightsCodesError(
                f"W for period {period} ({w.name!r}, n={w.n}) does not match the "
                f"{len(units)} units observed in {period}: units without a row in W_{period}: "
                f"{_listing(missing) or 'none'}; codes in W_{period} not observed in "
                f"{period}: {_listing(extra) or 'none'}. Build W_{period} on that period's "
                "units, or cut a fixed W with WeightsSequence.cut(w, units_by_period)"
                + _code_format_hint(missing, w.codes))
        return w.align(units)

    # ----------------------------------------------------------------- builders
    @classmethod
    def constant(cls, w: Weights, periods: Sequence[object]) -> WeightsSequence:
        """The same ``w`` in every period of ``periods``."""
        return cls({p: w for p in periods}, name=f"{w.name} (constant)")

    @classmethod
    def cut(cls, w: Weights, units_by_period: Mapping[object, Sequence[str]], *,
            transform: Transform | None = None) -> WeightsSequence:
        r"""A fixed ``w`` cut to the units of each period, re-transformed after the cut.

        :math:`W_t` = the rows and columns of ``w.raw`` of the units observed in ``t``, then
        ``transform`` (default: ``w``'s own, so a row-standardised W is row-standardised again
        over the neighbours present in ``t``; see :meth:`Weights.subset`). A unit whose
        neighbours are all absent in ``t`` becomes an island of :math:`W_t` (a zero row).
        """
        return cls({p: w.subset(list(u), transform=transform)
                    for p, u in units_by_period.items()}, name=f"{w.name} (cut by period)")

    @classmethod
    def economic(cls, panel_data: Any, variable: str, unit: str = "adcode", time: str = "year",
                 *, min_diff: float | None = None, transform: Transform = "row"
                 ) -> WeightsSequence:
        r"""Economic-distance weights recomputed every period: for each period ``t``,
        :meth:`Weights.economic` on that period's values only,
        :math:`w_{ij,t} = 1/|Y_{it} - Y_{jt}|`, on the units observed in ``t``."""
        df = panel_data.data if hasattr(panel_data, "data") and not isinstance(
            panel_data, pd.DataFrame) else panel_data
        out = {}
        for t, g in df.groupby(time, sort=True):
            units = sorted(str(u) for u in g[unit].unique())
            out[t] = Weights.economic(df, variable, unit, time, years=[t], units=units,
                                      min_diff=min_diff, transform=transform)
        return cls(out, name=f"economic({variable}) by {time}")

    # ----------------------------------------------------------------- diagnostics
    def summary(self) -> pd.DataFrame:
        """One row per period: ``period, name, n, links, islands, transform``."""
        return pd.DataFrame([(p, w.name, w.n, w.nnz, len(w.islands), str(w.transform))
                             for p, w in self.weights.items()],
                            columns=["period", "name", "n", "links", "islands", "transform"])

    def __repr__(self) -> str:
        return (f"WeightsSequence({self.name!r}, {len(self)} periods "
                f"{self.periods[0]}..{self.periods[-1]})")
