"""Generate the shipped SYNTHETIC county demo panel (2,846 county units x 2010-2024).

THE DATA ARE SYNTHETIC: no value is an observation. They look like a county yearbook panel so
that the county level of spatialinno (join, weights, ESDA, models, aggregation to prefectures)
can be exercised end to end and timed at county size.

Run from the repository root (build time; reads the areacodes year-end tables for step 4)::

    python spatialinno/data/make_county_demo.py --areacodes ../shared/reference/areacodes

Data-generating process (t = 2010..2024, i = the 2,846 units of the default county layer,
W = row-standardised queen contiguity of that layer, islands joined to their 2 nearest units):

1. Controls ``x_k,it = a_k,i + g_k (t - 2010) + v_k,it`` (k = 1..3), unit effects a_k,i
   correlated with the outcome's unit effect.
2. Outcome, a spatial Durbin model with two-way effects::

       y_t = (I - rho W)^{-1} (X_t beta + W X_t theta + mu + lambda_t + e_t)

   with ``PARAMS``. y is a log of innovation output per head.
3. Additive amounts for aggregation: population (10k), GDP (100 million yuan) and patents, each
   a positive function of y and the controls, rounded to 2 decimals, so that the prefecture
   totals of step 4 are exact sums.
4. Yearbook keys: each row names its county by the code printed in that year's code table
   (密云县 110228 until 2015, 沙县 350427 until 2021 ...: the unit's one-to-one predecessor record
   in use at the end of the year, from the shipped county registry), every tenth unit by its
   Chinese name with the province and the prefecture of that year (from the year-end table)
   beside it. A unit formed by a merger or split after the year is keyed by today's code. Units
   whose key would mean another unit in some year (a code or name reused after a merger: 襄都区
   130502 was 桥东区's code until 2020; 崇川区 320613 has the name of the 崇川区 320602 it
   absorbed) are left out of the demo, since a yearbook of that year could not name them; the
   generator checks every key with ``spatialinno.counties.resolve`` and lists the units left out.
5. A companion prefecture table (``tests/data/county_demo_prefecture_SYNTHETIC.csv``): the
   totals of step 3 added up by the prefecture record that the areacodes table of each year puts
   above the printed county code (its first four digits + 00; the municipality; or the county
   itself when no such record exists; today's prefecture for a unit keyed by today's code before
   it existed), keyed by that prefecture's code as printed that year.
   It is computed here from the year-end tables, not from the registry, so the test that the
   county panel aggregated by ``spatialinno.counties.to_prefecture`` equals it checks the
   registry's year-by-year membership against the code tables.

Outputs: ``county_demo_SYNTHETIC.csv`` (this folder) and the companion table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

SEED = 20261130
YEARS = tuple(range(2010, 2025))
PARAMS = {"rho": 0.45, "beta": (0.6, -0.3, 0.25), "theta": (0.3, 0.15, -0.2), "sigma": 0.3}
PANEL_FILE = "county_demo_SYNTHETIC.csv"
PREFECTURE_FILE = REPO / "tests" / "data" / "county_demo_prefecture_SYNTHETIC.csv"
MUNICIPALITIES = {"11", "12", "31", "50"}


def county_weights(layer):
    """Row-standardised queen W of the county layer, islands joined to their 2 nearest units."""
    from spatialinno import Weights

    return Weights.contiguity(layer, islands="connect", k_islands=2)


def simulate(codes: list[str], w, rng: np.random.Generator) -> pd.DataFrame:
    n, t = len(codes), len(YEARS)
    from scipy.sparse import identity
    from scipy.sparse.linalg import splu

    wm = w.sparse.tocsc()
    solve = splu((identity(n, format="csc") - PARAMS["rho"] * wm)).solve
    mu = rng.normal(0, 0.5, n)
    a = 0.5 * mu[:, None] + rng.normal(0, 0.5, (n, 3))
    g = np.array([0.04, 0.02, -0.01])
    lam = np.cumsum(rng.normal(0.03, 0.02, t))
    beta, theta = np.array(PARAMS["beta"]), np.array(PARAMS["theta"])
    rows = []
    for s, year in enumerate(YEARS):
        x = a + g * s + rng.normal(0, 0.4, (n, 3))
        e = rng.normal(0, PARAMS["sigma"], n)
        y = solve(x @ beta + (wm @ x) @ theta + mu + lam[s] + e)
        pop = np.round(np.exp(3.6 + 0.4 * a[:, 0] + rng.normal(0, 0.3, n)), 2)
        gdp = np.round(pop * np.exp(1.2 + 0.3 * x[:, 0] + 0.2 * y), 2)
        patents = np.round(pop * np.exp(0.5 + 0.8 * y + rng.normal(0, 0.2, n)), 0)
        rows.append(pd.DataFrame({"adcode": codes, "year": year, "ln_innov": np.round(y, 6),
                                  "x1": np.round(x[:, 0], 6), "x2": np.round(x[:, 1], 6),
                                  "x3": np.round(x[:, 2], 6), "population": pop, "gdp": gdp,
                                  "patents": patents}))
    return pd.concat(rows, ignore_index=True)


def printed_keys(codes: list[str]) -> dict[tuple[str, int], tuple[str, str]]:
    """(unit, year) -> (code, name) printed that year: the unit's one-to-one predecessor record
    in use at the end of the year, else today's code and name."""
    from spatialinno import counties

    al = counties.aliases()
    one_to_one = al["relation"].isin(["renamed", "code_changed", "moved"])
    al = al[one_to_one & ~al["unit"].str.contains(";")]
    reg = counties.registry().set_index("adcode")
    out = {(c, y): (c, reg.loc[c, "name"]) for c in codes for y in YEARS}
    for r in al.itertuples(index=False):
        lo = int(r.valid_from) if r.valid_from else 0
        hi = int(r.valid_to) - 1  # the last year-end table listing it
        for y in YEARS:
            if lo <= y <= hi and (r.unit, y) in out:
                out[(r.unit, y)] = (r.code, r.name)
    return out


def read_table(areacodes: Path, year: int) -> dict[str, str]:
    table = {}
    for line in (areacodes / "data" / f"{year}.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip().lstrip("\ufeff")
        if line:
            code, name = line.split(maxsplit=1)
            table[code] = name
    return table


def printed_prefecture(code: str, table: dict[str, str]) -> str:
    """Today's prefecture ``code`` as a year-end table prints it: the code itself when listed,
    else the one earlier code of the same unit in the prefecture registry (铜仁市 520600 is
    铜仁地区 522200 in 2010), else today's code."""
    if code in table or code.endswith("0000"):
        return code
    from spatialinno import cities

    al = cities.aliases()
    earlier = al.loc[(al["unit"] == code) & al["code"].isin(list(table)), "code"].unique()
    # 三沙 460300 before 2012 was three county-level island records: keep today's code
    return str(earlier[0]) if len(earlier) == 1 else code


def prefecture_in_table(code: str, table: dict[str, str], today: str) -> str:
    """The prefecture record above a printed county code in one year-end table; for a code the
    table does not list (a unit keyed by today's code before it existed), today's prefecture."""
    if code[:2] in MUNICIPALITIES:
        return code[:2] + "0000"
    if code not in table:
        return today
    parent = code[:4] + "00"
    return parent if parent in table and parent != code else code


def unresolvable(sim: pd.DataFrame, printed: list, by_name: set, pref_names: list) -> list[str]:
    """Units some of whose printed keys do not resolve to themselves in their year."""
    from spatialinno import counties

    bad = set()
    for c, y, (code, name), pn, prov in zip(sim["adcode"], sim["year"], printed, pref_names,
                                           sim["province"], strict=True):
        res = (counties.resolve(name, int(y), province=prov, prefecture=pn) if c in by_name
               else counties.resolve(code, int(y)))
        if res.status not in ("matched", "matched_history") or res.unit != c:
            bad.add(c)
    return sorted(bad)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areacodes", type=Path,
                        default=REPO.parent / "shared/reference/areacodes")
    args = parser.parse_args()
    from spatialinno import load_boundaries

    layer = load_boundaries(level="county")
    codes = layer["adcode"].tolist()
    rng = np.random.default_rng(SEED)
    sim = simulate(codes, county_weights(layer), rng)
    keys = printed_keys(codes)
    prov = dict(zip(layer["adcode"], layer["province"], strict=True))
    by_name = set(codes[::10])
    tables = {y: read_table(args.areacodes, y) for y in YEARS}
    printed = [keys[(c, int(y))] for c, y in zip(sim["adcode"], sim["year"], strict=True)]
    sim["printed"] = [code for code, _ in printed]
    today = dict(zip(layer["adcode"], layer["prefecture"], strict=True))
    sim["prefecture"] = [prefecture_in_table(code, tables[int(y)], printed_prefecture(
                             today[c], tables[int(y)])) for code, y, c in
                         zip(sim["printed"], sim["year"], sim["adcode"], strict=True)]
    sim["province"] = [prov[c] for c in sim["adcode"]]
    pref_names = [tables[int(y)].get(p, "") for p, y in zip(sim["prefecture"], sim["year"],
                                                            strict=True)]
    left_out = unresolvable(sim, printed, by_name, pref_names)
    print(f"left out ({len(left_out)} units whose key means another unit in some year): "
          + ", ".join(left_out))
    keep = ~sim["adcode"].isin(left_out).to_numpy()
    name_rows = sim["adcode"].isin(by_name).to_numpy()
    panel = sim[["year", "ln_innov", "x1", "x2", "x3", "population", "gdp", "patents"]].copy()
    panel.insert(0, "county", [name if n else code
                               for (code, name), n in zip(printed, name_rows, strict=True)])
    panel.insert(1, "province", np.where(name_rows, sim["province"], ""))
    panel.insert(2, "prefecture", np.where(name_rows, pref_names, ""))
    panel[keep].to_csv(HERE / PANEL_FILE, index=False, lineterminator="\n")
    sim = sim[keep]
    totals = (sim.groupby(["prefecture", "year"], sort=True)[["population", "gdp", "patents"]]
              .sum().round(2).reset_index())
    PREFECTURE_FILE.parent.mkdir(exist_ok=True)
    totals.to_csv(PREFECTURE_FILE, index=False, lineterminator="\n")
    print(f"{PANEL_FILE}: {int(keep.sum())} rows; {PREFECTURE_FILE.name}: {len(totals)} rows")


if __name__ == "__main__":
    main()
