"""Compare the census source's own polygons with the shipped layer (build time only).

    python shapefiles/compare_census_polygons.py --source ../shared/reference/census

The census table of Lei Dong et al. (leiii/census, MIT) carries a WKT polygon per unit (``coord``).
For every unit that is in both the census table and the shipped default layer, this writes
``census_polygon_comparison.csv`` beside this script: the area of each (km², on an equal-area
projection), their relative difference, the distance between the centroids (km), and the share of
the union covered by both (intersection over union); and it counts the queen-contiguity pairs of
the two layers that differ. ``shapefiles/README.md`` reports the summary. Codes are matched after
mapping the municipalities' 市辖区 codes (110100 -> 110000, ...), as the shipped build does.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).parent
OUT = HERE / "census_polygon_comparison.csv"
MUNICIPALITIES = {"110100": "110000", "120100": "120000", "310100": "310000", "500100": "500000"}
EQUAL_AREA = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m"


def _census_layer(source: Path) -> gpd.GeoDataFrame:
    csv.field_size_limit(sys.maxsize)
    frame = pd.read_csv(source / "census_city_2010-2020_v1.csv", dtype={"city_code": str},
                        encoding="utf-8-sig", usecols=["city", "city_code", "coord"])
    frame["adcode"] = frame["city_code"].replace(MUNICIPALITIES)
    geometry = shapely.make_valid(shapely.from_wkt(frame["coord"].to_numpy()))
    return gpd.GeoDataFrame(frame[["adcode", "city"]], geometry=geometry, crs="EPSG:4326")


def _queen_pairs(layer: gpd.GeoDataFrame) -> set[tuple[str, str]]:
    from libpysal.graph import Graph

    g = Graph.build_contiguity(layer.set_index("adcode").geometry, rook=False, strict=False)
    adj = g.adjacency.reset_index()
    return {(a, b) for a, b in zip(adj["focal"], adj["neighbor"], strict=True) if a < b and a != b}


def compare(source: Path) -> pd.DataFrame:
    from spatialinno.boundaries import load_boundaries

    ours = load_boundaries()[["adcode", "name", "geometry"]]
    theirs = _census_layer(source)
    common = sorted(set(ours["adcode"]) & set(theirs["adcode"]))
    a = ours.set_index("adcode").loc[common].to_crs(EQUAL_AREA)
    b = theirs.set_index("adcode").loc[common].to_crs(EQUAL_AREA)
    inter = shapely.intersection(a.geometry.values, b.geometry.values)
    union = shapely.union(a.geometry.values, b.geometry.values)
    table = pd.DataFrame({
        "adcode": common, "name": a["name"].to_numpy(),
        "area_km2_shipped": a.geometry.area.to_numpy() / 1e6,
        "area_km2_census": b.geometry.area.to_numpy() / 1e6,
        "centroid_distance_km": a.geometry.centroid.distance(b.geometry.centroid).to_numpy() / 1e3,
        "overlap_iou": shapely.area(inter) / shapely.area(union),
    })
    table["area_difference_pct"] = 100 * (table["area_km2_census"] / table["area_km2_shipped"] - 1)
    return table.round(4), common, ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    source = parser.parse_args().source
    table, common, ours, theirs = compare(source)
    table.to_csv(OUT, index=False, lineterminator="\n")
    pa = _queen_pairs(ours[ours["adcode"].isin(common)])
    pb = _queen_pairs(theirs[theirs["adcode"].isin(common)].reset_index(drop=True))
    d = table["area_difference_pct"].abs()
    print(f"units compared: {len(common)} (census only: "
          f"{sorted(set(theirs['adcode']) - set(common))[:5]}..., shipped only: "
          f"{sorted(set(ours['adcode']) - set(common))})")
    print(f"|area difference| %: median {d.median():.2f}, p90 {d.quantile(0.9):.2f}, max {d.max():.2f} "
          f"({table.loc[d.idxmax(), 'name']})")
    print(f"centroid distance km: median {table['centroid_distance_km'].median():.2f}, p90 "
          f"{table['centroid_distance_km'].quantile(0.9):.2f}, max {table['centroid_distance_km'].max():.2f} "
          f"({table.loc[table['centroid_distance_km'].idxmax(), 'name']})")
    print(f"intersection over union: median {table['overlap_iou'].median():.4f}, min "
          f"{table['overlap_iou'].min():.4f} ({table.loc[table['overlap_iou'].idxmin(), 'name']})")
    print(f"queen pairs: shipped {len(pa)}, census {len(pb)}, only shipped {len(pa - pb)}, only census "
          f"{len(pb - pa)}")
    names = dict(zip(ours["adcode"], ours["name"], strict=True))
    for label, pairs in (("only in the shipped layer", pa - pb), ("only in the census polygons", pb - pa)):
        print(f"  {label}: " + "; ".join(f"{names[x]}-{names[y]}" for x, y in sorted(pairs)))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
