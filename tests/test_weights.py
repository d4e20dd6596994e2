"""Tests of spatialinno.weights against independent numbers (closed forms, libpysal) and properties.

Tolerances (named, with the reason):
- DIST_ATOL_KM: haversine vs the spherical law of cosines; both are exact on the sphere, the
  law of cosines loses ~1e-8 relative precision in arccos near 1 at short range.
- FLOAT_ATOL: row sums, eigenvalues of small closed-form graphs (double-precision round-off).
"""

from __future__ import annotations

import math
import pickle
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno.errors import SpatialinnoError, SpatialinnoWarning
from spatialinno.weights import (
    EARTH_RADIUS_KM,
    IslandWarning,
    Weights,
    WeightsError,
    distance_matrix_km,
    great_circle_km,
    unit_points,
)

from peers import peer

DIST_ATOL_KM = 1e-6
FLOAT_ATOL = 1e-10

HAINAN = {"460100": "海口", "460200": "三亚", "460300": "三沙", "460400": "儋州"}
BEIJING, SHANGHAI, ZHOUSHAN = "110000", "310000", "330900"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def layer():
    from spatialinno.boundaries import load_boundaries
    return load_boundaries()


@pytest.fixture(scope="module")
def queen(layer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        return Weights.contiguity(layer)


@pytest.fixture(scope="module")
def queen_connected(layer):
    return Weights.contiguity(layer, islands="connect")


def law_of_cosines_km(lon1, lat1, lon2, lat2):
    p1, p2, dl = map(math.radians, (lat1, lat2, lon2 - lon1))
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, c)))


def ring(n: int, transform: str = "none") -> Weights:
    i = np.arange(n)
    a = sp.csr_array((np.ones(2 * n), (np.r_[i, i], np.r_[(i + 1) % n, (i - 1) % n])),
                     shape=(n, n))
    return Weights.from_sparse(a, [f"{k:06d}" for k in range(n)], name=f"ring{n}",
                               transform=transform)


def grid_layer(cells: list[tuple[int, int]], codes: list[str]) -> gpd.GeoDataFrame:
    geoms = [shapely.box(x, y, x + 1, y + 1) for x, y in cells]
    return gpd.GeoDataFrame({"adcode": codes}, geometry=geoms, crs="EPSG:4326")


def toy_panel(means: dict[str, float], years=(2020, 2021)) -> pd.DataFrame:
    rows = []
    for code, m in means.items():
        for k, y in enumerate(years):  # deviations sum to zero so the mean is exactly m
            rows.append({"adcode": code, "year": y, "pgdp": m + (1.0 if k == 0 else -1.0)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- great-circle


KNOWN = [  # (lon1, lat1, lon2, lat2): Beijing-Shanghai, Guangzhou-Urumqi, Harbin-Haikou
    (116.4074, 39.9042, 121.4737, 31.2304),
    (113.2644, 23.1291, 87.6168, 43.8256),
    (126.5349, 45.8038, 110.1999, 20.0440),
]


@pytest.mark.parametrize("pair", KNOWN)
def test_great_circle_matches_law_of_cosines(pair):
    assert great_circle_km(*pair) == pytest.approx(law_of_cosines_km(*pair), abs=DIST_ATOL_KM)


def test_great_circle_closed_forms():
    quarter = math.pi * EARTH_RADIUS_KM / 2
    assert great_circle_km(0, 0, 90, 0) == pytest.approx(quarter, rel=1e-15)
    assert great_circle_km(0, 0, 0, 90) == pytest.approx(quarter, rel=1e-15)
    assert great_circle_km(0, 0, 180, 0) == pytest.approx(2 * quarter, rel=1e-15)
    assert 1060 < great_circle_km(*KNOWN[0]) < 1075  # Beijing-Shanghai ~1068 km
    d = distance_matrix_km([0, 90, 180], [0, 0, 0])
    np.testing.assert_allclose(d, quarter * np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]]))


def test_unit_points_centroid_and_representative(layer):
    c = unit_points(layer)
    r = unit_points(layer, point="representative")
    assert list(c["code"]) == list(layer["adcode"]) == list(r["code"])
    bj = c.set_index("code").loc[BEIJING]
    assert 116.0 < bj["lon"] < 116.8 and 39.9 < bj["lat"] < 40.5  # equal-area centroid
    inside = [layer.geometry[i].contains(shapely.Point(x, y))
              for i, (x, y) in enumerate(zip(r["lon"], r["lat"], strict=True))]
    assert all(inside)


# --------------------------------------------------------------------------- contiguity


@pytest.mark.parametrize("rook", [False, True])
def test_contiguity_equals_libpysal(layer, rook):
    peer("libpysal")
    from libpysal.weights import Queen, Rook
    cls = Rook if rook else Queen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = cls.from_dataframe(layer, ids=list(layer["adcode"]), use_index=False)
        ours = Weights.contiguity(layer, rook=rook, transform="none")
    ref_m = ref.sparse.toarray()[np.ix_(*[[ref.id_order.index(c) for c in ours.codes]] * 2)]
    np.testing.assert_array_equal(ours.sparse.toarray(), (ref_m > 0).astype(float))
    assert ours.name == ("rook" if rook else "queen")


def test_contiguity_islands_warning_names_hainan(layer):
    with pytest.warns(IslandWarning, match="海口.*三亚.*三沙.*儋州"):
        w = Weights.contiguity(layer)
    assert set(w.islands) == set(HAINAN)
    assert issubclass(IslandWarning, SpatialinnoWarning)


def test_contiguity_keep_zero_rows_and_row_sums(queen):
    sums = pd.Series(np.asarray(queen.sparse.sum(axis=1)).ravel(), index=queen.codes)
    assert (sums[list(HAINAN)] == 0).all()
    np.testing.assert_allclose(sums.drop(list(HAINAN)), 1.0, atol=FLOAT_ATOL)
    zhoushan = queen.binary().sparse[[queen.codes.index(ZHOUSHAN)]].indices
    assert [queen.codes[j] for j in zhoushan] == [SHANGHAI]
    assert queen.transform == "row" and "row-standardised" in str(queen.summary())


def test_contiguity_raise_policy(layer):
    with pytest.raises(WeightsError, match="4 island.*460100 海口"):
        Weights.contiguity(layer, islands="raise")
    with pytest.raises(WeightsError, match="islands must be one of"):
        Weights.contiguity(layer, islands="drop")


def test_contiguity_connect(queen, queen_connected):
    w = queen_connected
    assert w.islands == ()
    assert w.binary().is_symmetric
    added = w.binary().sparse - queen.binary().sparse
    assert added.nnz >= len(HAINAN) and np.all(added.data == 1)
    for code in HAINAN:  # every island got at least one link, in both directions
        i = w.codes.index(code)
        assert w.sparse[[i]].nnz >= 1 and w.sparse.T.tocsr()[[i]].nnz >= 1
    assert any("connected" in n for n in w.notes)
    k2 = Weights.contiguity(islands="connect", k_islands=2)
    assert min(k2.neighbour_counts[list(HAINAN)]) >= 2
    assert w.n_components == 2 and k2.n_components == 1  # k=1 links Hainan only to itself


def test_contiguity_user_layer_and_binary_symmetry():
    gdf = grid_layer([(0, 0), (1, 0), (0, 1), (1, 1), (5, 5)],
                     ["000005", "000001", "000003", "000002", "000004"])
    with pytest.warns(IslandWarning, match="000004"):
        w = Weights.contiguity(gdf, transform="none")
    assert w.codes == ("000001", "000002", "000003", "000004", "000005")  # sorted by code
    assert w.is_symmetric and w.nnz == 12  # 2x2 block: every pair queen-adjacent
    with pytest.warns(IslandWarning):
        r = Weights.contiguity(gdf, rook=True, transform="none")
    assert r.nnz == 8  # rook drops the two diagonal pairs


# --------------------------------------------------------------------------- kNN


def test_knn_exactly_k(layer):
    for k in (1, 4, 8):
        w = Weights.knn(k, layer=layer)
        assert (w.neighbour_counts == k).all()
        np.testing.assert_allclose(w.sparse.data, 1 / k)
        assert w.name == f"knn(k={k})"


def test_knn_is_nearest_by_great_circle(layer):
    w = Weights.knn(3, layer=layer, transform="none")
    pts = unit_points(layer)
    d = distance_matrix_km(pts["lon"], pts["lat"])
    np.fill_diagonal(d, np.inf)
    for i in range(0, w.n, 17):
        np.testing.assert_array_equal(np.sort(w.sparse[[i]].indices), np.sort(np.argsort(d[i])[:3]))


def test_knn_ties_broken_by_code_order():
    seats = pd.DataFrame({"code": ["000001", "000002", "000003"], "lon": [0.0, -1.0, 1.0],
                          "lat": [0.0, 0.0, 0.0]})
    w = Weights.knn(1, seats=seats, transform="none")
    assert w.sparse[[0]].indices.tolist() == [1]  # 000002 and 000003 tie; smaller code wins
    seats2 = seats.assign(code=["000001", "000003", "000002"])
    w2 = Weights.knn(1, seats=seats2, transform="none")
    assert w2.codes[w2.sparse[[0]].indices[0]] == "000002"


def test_knn_synthetic_3000_points():
    rng = np.random.default_rng(42)
    seats = pd.DataFrame({"code": [f"{i:06d}" for i in range(3000)],
                          "lon": rng.uniform(98, 122, 3000), "lat": rng.uniform(22, 42, 3000)})
    w = Weights.knn(6, seats=seats)
    assert (w.neighbour_counts == 6).all()


def test_knn_errors():
    seats = pd.DataFrame({"code": ["000001", "000002"], "lon": [0.0, 1.0], "lat": [0.0, 0.0]})
    with pytest.raises(WeightsError, match=r"k must be an integer in \[1, n - 1 = 1\]"):
        Weights.knn(2, seats=seats)
    with pytest.raises(WeightsError, match="duplicate codes: 000001"):
        Weights.knn(1, seats=pd.concat([seats, seats.iloc[:1]]))
    with pytest.raises(WeightsError, match="columns code"):
        Weights.knn(1, seats=seats.rename(columns={"lon": "x"}))


# --------------------------------------------------------------------------- distance


SEATS = pd.DataFrame({"code": ["000001", "000002", "000003", "000004"],
                      "lon": [116.4074, 121.4737, 113.2644, 87.6168],
                      "lat": [39.9042, 31.2304, 23.1291, 43.8256]})


def test_inverse_distance_values():
    pts = SEATS
    d = np.array([[law_of_cosines_km(pts.lon[i], pts.lat[i], pts.lon[j], pts.lat[j])
                   for j in range(4)] for i in range(4)])
    for alpha in (1, 2):
        w = Weights.distance(alpha=alpha, seats=pts, transform="none")
        expected = np.where(np.eye(4, dtype=bool), 0.0, np.where(d > 0, d, 1.0) ** -alpha)
        np.testing.assert_allclose(w.sparse.toarray(), expected, rtol=1e-9)
        assert w.name == f"inverse_distance(alpha={alpha})"
        assert w.is_symmetric


def test_distance_cutoff_and_exponential():
    with pytest.warns(IslandWarning, match="000004"):  # Urumqi is > 1500 km from the others
        w = Weights.distance(alpha=1, cutoff_km=1500, seats=SEATS, transform="none")
    a = w.sparse.toarray()
    assert a[0, 1] > 0 and a[0, 3] == 0  # Beijing-Shanghai ~1068 km in; Beijing-Urumqi out
    d01 = great_circle_km(*SEATS.loc[0, ["lon", "lat"]], *SEATS.loc[1, ["lon", "lat"]])
    assert a[0, 1] == pytest.approx(1 / d01, rel=1e-12)
    e = Weights.distance("exponential", bandwidth_km=500, seats=SEATS, transform="none")
    assert e.sparse.toarray()[0, 1] == pytest.approx(math.exp(-d01 / 500), rel=1e-12)
    assert e.name == "exponential_decay(bandwidth_km=500)"


def test_distance_cutoff_islands_and_errors():
    with pytest.warns(IslandWarning, match="000004"):
        w = Weights.distance(cutoff_km=2000, seats=SEATS)
    assert w.islands == ("000004",)
    with pytest.raises(WeightsError, match="island.*000004"):
        Weights.distance(cutoff_km=2000, seats=SEATS, islands="raise")
    with pytest.raises(WeightsError, match="same point: 000001-000002"):
        Weights.distance(seats=SEATS.assign(lon=[1.0, 1.0, 2.0, 3.0], lat=0.0))
    with pytest.raises(WeightsError, match="bandwidth_km > 0"):
        Weights.distance("exponential", seats=SEATS)
    with pytest.raises(WeightsError, match="alpha must be > 0"):
        Weights.distance(alpha=0, seats=SEATS)


def test_distance_cutoff_matches_dense_on_layer(layer):
    full = Weights.distance(alpha=2, layer=layer, transform="none").sparse.toarray()
    pts = unit_points(layer)
    d = distance_matrix_km(pts["lon"], pts["lat"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        cut = Weights.distance(alpha=2, cutoff_km=400, layer=layer, transform="none")
    np.testing.assert_allclose(cut.sparse.toarray(), np.where(d <= 400, full, 0.0), rtol=1e-12)


# ----------------------------------------------------------------------- economic, nested, mix


def test_economic_formula_and_guard():
    panel = toy_panel({"000001": 10.0, "000002": 12.0, "000003": 16.0})
    w = Weights.economic(panel, "pgdp", transform="none")
    expected = np.array([[0, 1 / 2, 1 / 6], [1 / 2, 0, 1 / 4], [1 / 6, 1 / 4, 0]])
    np.testing.assert_allclose(w.sparse.toarray(), expected, rtol=1e-14)
    np.testing.assert_allclose(w.with_transform("row").sparse.sum(axis=1), 1.0, atol=FLOAT_ATOL)
    tie = toy_panel({"000001": 10.0, "000002": 10.0, "000003": 16.0})
    with pytest.raises(WeightsError, match="equal mean pgdp: 000001=000002"):
        Weights.economic(tie, "pgdp")
    g = Weights.economic(tie, "pgdp", min_diff=0.5, transform="none")
    assert g.sparse.toarray()[0, 1] == pytest.approx(2.0)


def test_economic_missing_and_units():
    panel = toy_panel({"000001": 10.0, "000002": 12.0, "000003": 16.0})
    panel.loc[0, "pgdp"] = np.nan
    with pytest.raises(WeightsError, match="missing.*000001/2020"):
        Weights.economic(panel, "pgdp")
    w = Weights.economic(panel, "pgdp", missing="skip", transform="none")
    assert w.sparse.toarray()[0, 1] == pytest.approx(1 / abs(9.0 - 12.0))
    with pytest.raises(WeightsError, match="no pgdp rows.*000009"):
        Weights.economic(panel, "pgdp", units=["000001", "000009"], missing="skip")
    with pytest.raises(WeightsError, match="duplicate \\(unit, time\\) rows: 000002/2020"):
        Weights.economic(pd.concat([panel, panel.iloc[[2]]]), "pgdp", missing="skip")


def test_nested_formula():
    codes = ["000001", "000002", "000003"]
    wd = Weights.from_sparse(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]]), codes, name="toy")
    panel = toy_panel({"000001": 10.0, "000002": 20.0, "000003": 30.0})
    w = Weights.nested(wd, panel, "pgdp", transform="none")
    ybar = np.array([10.0, 20.0, 30.0])
    expected = wd.sparse.toarray() @ np.diag(ybar / ybar.mean())
    np.testing.assert_allclose(w.sparse.toarray(), expected, rtol=1e-14)
    r = Weights.nested(wd, panel, "pgdp")
    np.testing.assert_allclose(r.sparse.toarray()[0], [0, 0.4, 0.6], rtol=1e-14)
    with pytest.raises(WeightsError, match="no pgdp rows.*000003"):
        Weights.nested(wd, panel[panel.adcode != "000003"], "pgdp")


def test_mix_is_convex_combination():
    codes = ["000001", "000002", "000003"]
    wd = Weights.from_sparse(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]), codes, transform="row")
    we = Weights.economic(toy_panel({"000001": 10.0, "000002": 12.0, "000003": 16.0}), "pgdp")
    m = Weights.mix(wd, we.align(codes[::-1]), 0.3)
    np.testing.assert_allclose(m.sparse.toarray(),
                               0.3 * wd.sparse.toarray() + 0.7 * we.sparse.toarray(), rtol=1e-14)
    with pytest.raises(WeightsError, match=r"phi must be in \[0, 1\]"):
        Weights.mix(wd, we, 1.5)


def test_demo_panel_builders():
    from spatialinno.runner import demo_panel
    data = demo_panel().data
    e = Weights.economic(data, "pgdp")
    assert e.n == 337 and e.islands == () and e.density == 1.0
    geo = Weights.distance(alpha=1)
    n = Weights.nested(geo, data, "pgdp")
    np.testing.assert_allclose(n.sparse.sum(axis=1), 1.0, atol=FLOAT_ATOL)


# --------------------------------------------------------------------------- blocks


def test_blocks_split_exact(queen_connected):
    w = queen_connected
    groups = {c: c[:2] for c in w.codes}  # group = province
    for base in (w.binary(), w):  # raw binary W, and the row-standardised W
        within, between = Weights.blocks(base, groups)
        assert (within.sparse + between.sparse != base.sparse).nnz == 0  # exact, bit for bit
        coo = within.sparse.tocoo()
        assert all(w.codes[i][:2] == w.codes[j][:2] for i, j in zip(coo.row, coo.col, strict=True))
        coo = between.sparse.tocoo()
        assert all(w.codes[i][:2] != w.codes[j][:2] for i, j in zip(coo.row, coo.col, strict=True))
        assert within.transform == "none" and base.label in within.notes[-1]


def test_blocks_unassigned():
    w = ring(4)
    with pytest.raises(WeightsError, match="2 unit\\(s\\) of W have no group: 000002, 000003"):
        Weights.blocks(w, {"000000": "A", "000001": "A"})
    within, between = Weights.blocks(w, {"000000": "A", "000001": "A"}, unassigned="between")
    assert within.nnz == 2 and between.nnz == 6


# --------------------------------------------------------------------------- align


def test_align_reorders_and_errors(queen):
    order = list(queen.codes[::-1])
    a = queen.align(order)
    assert a.codes == tuple(order)
    i, j = queen.codes.index(ZHOUSHAN), queen.codes.index(SHANGHAI)
    assert a.sparse[order.index(ZHOUSHAN), order.index(SHANGHAI)] == queen.sparse[i, j]
    with pytest.raises(WeightsError, match="1 unit\\(s\\) of W missing from units: 110000"):
        queen.align(list(queen.codes[1:]))
    with pytest.raises(WeightsError, match="duplicate code\\(s\\) in units: 110000"):
        queen.align(list(queen.codes) + [BEIJING])
    with pytest.raises(WeightsError, match="missing from W: 999999"):
        queen.align(list(queen.codes) + ["999999"])
    with pytest.raises(WeightsError, match="must be strings"):
        queen.align([int(c) for c in queen.codes])


def test_check_aligned_refuses_other_order(queen):
    queen.check_aligned(queen.codes)
    first = re.escape(f"position 0: units {queen.codes[-1]} vs W {queen.codes[0]}")
    with pytest.raises(WeightsError, match=f"different order.*{first}"):
        queen.check_aligned(list(queen.codes[::-1]))
    with pytest.raises(WeightsError, match="missing from units: 110000"):
        queen.check_aligned(list(queen.codes[1:]))


def test_link_map_with_seats_and_errors(tmp_path):
    w = Weights.knn(1, seats=SEATS)
    fig = w.plot_links(seats=SEATS)
    assert "3 undirected links" in fig.axes[0].get_title()  # BJ-SH, SH-GZ, BJ-Urumqi
    with pytest.raises(WeightsError, match="no point for 1 unit.*000004"):
        w.plot_links(seats=SEATS.iloc[:3])


def test_align_with_panel_order(queen):
    from spatialinno.runner import demo_panel
    data = demo_panel().data
    units = list(dict.fromkeys(data.sort_values(["year", "unit_name"])["adcode"]))  # another order
    a = queen.align(units)
    y = data[data.year == 2020].set_index("adcode")["gdp"]
    np.testing.assert_allclose(a.lag(y).reindex(list(queen.codes)), queen.lag(y), rtol=1e-14)


@st.composite
def random_weights(draw):
    n = draw(st.integers(2, 12))
    dense = np.array(draw(st.lists(st.lists(st.floats(0, 5).map(lambda x: round(x, 3)),
                                            min_size=n, max_size=n), min_size=n, max_size=n)))
    np.fill_diagonal(dense, 0)
    codes = [f"{k:06d}" for k in draw(st.permutations(range(100000, 100000 + n)))]
    return dense, codes


@settings(max_examples=60, deadline=None)
@given(random_weights(), st.randoms(use_true_random=False))
def test_property_permute_then_align(data, rnd):
    dense, codes = data
    w = Weights.from_sparse(dense, codes, transform="row")
    perm = list(range(len(codes)))
    rnd.shuffle(perm)
    shuffled = Weights.from_sparse(dense[np.ix_(perm, perm)], [codes[p] for p in perm],
                                   transform="row")
    back = shuffled.align(codes)
    assert back.codes == w.codes
    np.testing.assert_array_equal(back.sparse.toarray(), w.sparse.toarray())


@settings(max_examples=60, deadline=None)
@given(random_weights())
def test_property_row_sums(data):
    dense, codes = data
    w = Weights.from_sparse(dense, codes, transform="row")
    sums = pd.Series(np.asarray(w.sparse.sum(axis=1)).ravel(), index=w.codes)
    np.testing.assert_allclose(sums.drop(list(w.islands)), 1.0, atol=FLOAT_ATOL)
    assert (sums[list(w.islands)] == 0).all()
    assert set(w.islands) == {c for c, r in zip(codes, dense, strict=True) if not r.any()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=14),
       st.booleans())
def test_property_binary_contiguity_symmetric(cells, rook):
    cells = sorted(cells)
    gdf = grid_layer(cells, [f"{100000 + 7 * k:06d}" for k in range(len(cells))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        w = Weights.contiguity(gdf, rook=rook, transform="none")
    assert w.is_symmetric
    assert np.all(w.sparse.data == 1.0)


# --------------------------------------------------------------------------- eigenvalues


@pytest.mark.parametrize("n", [4, 5, 6, 9])
def test_rho_bounds_ring_closed_form(n):
    lam = 2 * np.cos(2 * np.pi * np.arange(n) / n)  # binary cycle graph
    w = ring(n)
    np.testing.assert_allclose(w.eigenvalues, np.sort(lam), atol=FLOAT_ATOL)
    lo, hi = w.rho_bounds
    assert lo == pytest.approx(1 / lam.min(), abs=FLOAT_ATOL)  # -1/2 (n even), -1/(2cos(pi/n)) odd
    assert hi == pytest.approx(0.5, abs=FLOAT_ATOL)
    r = ring(n, "row")
    assert r.rho_bounds == pytest.approx((2 / lam.min(), 1.0), abs=FLOAT_ATOL)


def test_rho_bounds_complete_graph_and_spectral():
    n = 5
    codes = [f"{k:06d}" for k in range(n)]
    k5 = Weights.from_sparse(np.ones((n, n)) - np.eye(n), codes)
    assert k5.rho_bounds == pytest.approx((-1.0, 1 / (n - 1)), abs=FLOAT_ATOL)
    assert k5.with_transform("row").rho_bounds == pytest.approx((-(n - 1), 1.0), abs=FLOAT_ATOL)
    s = k5.with_transform("spectral")
    assert np.max(np.abs(s.eigenvalues)) == pytest.approx(1.0, abs=FLOAT_ATOL)
    assert s.transform == "spectral"


def test_eigenvalues_similarity_path_equals_general_solver(queen_connected):
    w = queen_connected  # row-standardised from a symmetric raw: eigvalsh of D^-1/2 A D^-1/2
    general = np.sort(np.linalg.eigvals(w.sparse.toarray()).real)
    np.testing.assert_allclose(w.eigenvalues, general, atol=1e-9)
    knn = Weights.knn(4)  # not symmetric: general solver, may be complex
    lo, hi = knn.rho_bounds
    assert hi == pytest.approx(1.0, abs=1e-9) and lo < -1


def _random_knn(n: int, k: int, seed: int) -> sp.csr_array:
    from scipy.spatial import cKDTree
    pts = np.random.default_rng(seed).random((n, 2))
    _, idx = cKDTree(pts).query(pts, k + 1)
    rows = np.repeat(np.arange(n), k)
    return sp.csr_array((np.ones(n * k), (rows, idx[:, 1:].ravel())), shape=(n, n))


@pytest.mark.parametrize("kind", ["knn_row", "sym_row", "sym_none", "knn_none"])
def test_arpack_extremes_equal_the_dense_spectrum(kind):
    """From SPARSE_EXTREMES_MIN_N units on, summary() and rho_bounds take the extreme real
    eigenvalues from ARPACK: they equal the ends of the dense spectrum (``eigenvalues``, computed
    by LAPACK) to 1e-9 (ARPACK's default tolerance is machine precision on the Ritz values;
    the slack covers the conditioning of a non-symmetric W)."""
    from spatialinno.weights import SPARSE_EXTREMES_MIN_N
    n = SPARSE_EXTREMES_MIN_N + 37
    a = _random_knn(n, 5, seed=len(kind))
    if kind.startswith("sym"):
        a = ((a + a.T) > 0).astype(float)
    w = Weights.from_sparse(a, [f"{i:06d}" for i in range(n)], name=kind,
                            transform="row" if kind.endswith("row") else "none")
    dense = w.eigenvalues
    if np.iscomplexobj(dense):
        dense = dense[np.abs(dense.imag) <= 1e-9 * np.abs(dense).max()].real
    assert w._arpack_extremes() is not None  # the sparse path, not the dense fallback
    lo, hi = w.summary().lambda_min, w.summary().lambda_max
    assert lo == pytest.approx(dense.min(), abs=1e-9)
    assert hi == pytest.approx(dense.max(), abs=1e-9)
    assert w.rho_bounds == pytest.approx((1 / dense.min(), 1 / dense.max()), abs=1e-9)
    again = Weights.from_sparse(a, w.codes, name=kind, transform=w.transform)
    assert again.rho_bounds == w.rho_bounds  # a fixed ARPACK start: the same bits every call


def test_economic_years_and_panel_object():
    from spatialinno.runner import demo_panel
    panel = demo_panel()
    with pytest.raises(WeightsError, match="equal mean pgdp: 360800=610300"):  # rounded data tie
        Weights.economic(panel, "pgdp", years=[2015, 2016])
    w = Weights.economic(panel, "pgdp", years=[2015, 2016], min_diff=1.0, transform="none")
    m = panel.data[panel.data.year.isin([2015, 2016])].groupby("adcode")["pgdp"].mean()
    i, j = w.codes.index(BEIJING), w.codes.index(SHANGHAI)
    assert w.sparse[i, j] == pytest.approx(1 / abs(m[BEIJING] - m[SHANGHAI]), rel=1e-12)
    assert "2015-2016" in w.notes[0] and "floored at 1" in w.notes[1]
    k, l = w.codes.index("360800"), w.codes.index("610300")
    assert w.sparse[k, l] == 1.0


def test_summary_diagnostics(queen):
    s = queen.summary()
    assert (s.n, s.nnz, s.n_components, s.neighbours_min) == (337, 1790, 5, 0)
    assert set(s.islands) == set(HAINAN) and s.pattern_symmetric and not s.symmetric
    assert s.lambda_max == pytest.approx(1.0, abs=1e-9)
    assert s.rho_upper == pytest.approx(1.0, abs=1e-9) and s.rho_lower < -1
    text = str(s)
    assert "admissible rho interval" in text and "row-standardised" in text
    assert "| islands |" in s.to_markdown() and "tabular" in s.to_latex()


# --------------------------------------------------------------------------- object semantics


def test_immutable_and_transform_returns_new(queen):
    from dataclasses import FrozenInstanceError
    with pytest.raises(FrozenInstanceError):
        queen.name = "x"  # type: ignore[misc]
    raw = queen.transform("none")
    assert raw is not queen and raw.transform == "none" and queen.transform == "row"
    assert raw.transform("row").equals(queen)  # transforms start from raw: no compounding
    assert queen.with_transform("row").with_transform("row").equals(queen)
    assert pickle.loads(pickle.dumps(queen)).transform == "row"
    assert isinstance(queen.sparse, sp.csr_array) and queen.sparse.has_canonical_format
    assert queen.sparse.dtype == np.float64


def test_validation_errors():
    codes = ["000001", "000002"]
    with pytest.raises(WeightsError, match="shape \\(3, 3\\) but 2 codes"):
        Weights.from_sparse(np.zeros((3, 3)), codes)
    with pytest.raises(WeightsError, match="unique; duplicated: 000001"):
        Weights.from_sparse(np.zeros((2, 2)), ["000001", "000001"])
    with pytest.raises(WeightsError, match="non-zero diagonal.*000002"):
        Weights.from_sparse(np.diag([0.0, 1.0]), codes)
    with pytest.raises(WeightsError, match="negative"):
        Weights.from_sparse(np.array([[0, -1.0], [1, 0]]), codes)
    with pytest.raises(WeightsError, match="transform must be one of"):
        Weights.from_sparse(np.array([[0, 1.0], [1, 0]]), codes, transform="r")
    with pytest.raises(WeightsError, match="spectral.*0"):
        Weights.from_sparse(np.zeros((2, 2)), codes, transform="spectral")
    assert issubclass(WeightsError, SpatialinnoError) and issubclass(WeightsError, ValueError)


def test_libpysal_round_trip(queen):
    lw = queen.to_libpysal()
    assert list(lw.id_order) == list(queen.codes)
    assert set(lw.islands) == set(HAINAN)
    back = Weights.from_libpysal(lw, name="queen", transform="row")
    assert back.equals(queen, atol=1e-15)
    g = queen.to_graph()
    assert g.transformation == "R" and set(g.isolates) == set(HAINAN)
    again = Weights.from_libpysal(g)
    assert again.transform == "row"
    np.testing.assert_array_equal(again.align(queen.codes).sparse.toarray(),
                                  queen.sparse.toarray())
    lw.transform = "r"
    assert Weights.from_libpysal(lw).transform == "row"


# --------------------------------------------------------------------------- files


def test_parquet_round_trip(tmp_path, queen):
    p = tmp_path / "w.parquet"
    queen.to_parquet(p)
    back = Weights.read_parquet(p)
    assert back.equals(queen) and back.name == "queen" and back.islands == queen.islands
    assert back.raw is not None and (back.raw != queen.raw).nnz == 0
    pd.DataFrame({"focal": ["a", "b"], "neighbor": ["b", "a"], "weight": [2.0, 3.0]}).to_parquet(
        tmp_path / "plain.parquet")
    plain = Weights.read_parquet(tmp_path / "plain.parquet")
    assert plain.codes == ("a", "b") and plain.sparse.toarray()[1, 0] == 3.0


def test_gal_round_trip(tmp_path, queen):
    p = tmp_path / "w.gal"
    queen.to_gal(p)
    back = Weights.read_gal(p, transform="row")
    assert back.codes == queen.codes and set(back.islands) == set(HAINAN)
    np.testing.assert_allclose(back.sparse.toarray(), queen.sparse.toarray(), atol=1e-15)
    idw = Weights.distance(seats=SEATS)
    with pytest.raises(WeightsError, match="GAL stores neighbour lists only"):
        idw.to_gal(tmp_path / "idw.gal")


def test_gwt_round_trip(tmp_path, queen):
    idw = Weights.distance(alpha=2, seats=SEATS)
    p = tmp_path / "w.gwt"
    idw.to_gwt(p)
    back = Weights.read_gwt(p)
    assert back.codes == idw.codes
    np.testing.assert_array_equal(back.sparse.toarray(), idw.sparse.toarray())  # repr: exact
    queen.to_gwt(tmp_path / "q.gwt")
    with pytest.raises(WeightsError, match="header says n = 337 but 333"):
        Weights.read_gwt(tmp_path / "q.gwt")
    q = Weights.read_gwt(tmp_path / "q.gwt", codes=queen.codes)
    assert set(q.islands) == set(HAINAN)
    np.testing.assert_array_equal(q.sparse.toarray(), queen.sparse.toarray())


# --------------------------------------------------------------------------- figures


def test_figures_deterministic(tmp_path, queen, layer):
    for name, fn in (("hist", lambda p: queen.plot_histogram(p)),
                     ("links", lambda p: queen.plot_links(layer, p))):
        a, b = tmp_path / f"{name}_a.png", tmp_path / f"{name}_b.png"
        fn(a)
        fn(b)
        assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert a.read_bytes() == b.read_bytes()
