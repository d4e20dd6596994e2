"""Reading yearbook panels and joining them to registry units without losing a row."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno import cities
from spatialinno.errors import DataFileError, JoinError, MergePolicyError, UnbalancedPanelWarning
from spatialinno.panel import PROBLEM_STATUSES, load_panel

# Units with several name forms each, for the name-form property test. Taken from the registry
# (not from the join), by their codes.
FORM_UNITS = ["110000", "130600", "222400", "370100", "420600", "520500", "530800", "610100"]


def small_panel(units=("110000", "120000", "130100"), years=(2015, 2016, 2017)) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(u, y) for u in units for y in years]
    return pd.DataFrame({"city": [u for u, _ in rows], "year": [y for _, y in rows],
                         "gdp": rng.uniform(1, 10, len(rows)), "pop": rng.uniform(1, 5, len(rows))})


def test_acceptance_one_error_names_misspelt_duplicate_and_unknown_with_file_and_row(tmp_path):
    df = small_panel()
    df.loc[1, "city"] = "Shijazhuang"  # misspelt
    df = pd.concat([df, df.iloc[[4]]], ignore_index=True)  # duplicate of row 5
    df.loc[len(df)] = ["999999", 2016, 1.0, 1.0]  # unknown code
    path = tmp_path / "yearbook.csv"
    df.to_csv(path, index=False)
    with pytest.raises(JoinError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert str(path) in msg
    assert "line 3: 'Shijazhuang'" in msg and "unmatched" in msg and "石家庄市" in msg
    assert "line 6:" in msg and "line 11:" in msg and "duplicate" in msg  # rows 5 and 10
    assert "line 12: '999999'" in msg
    assert set(err.value.report.problems["row"]) == {2, 5, 10, 11}


def test_strict_false_loses_nothing(tmp_path):
    df = small_panel()
    df.loc[1, "city"] = "Shijazhuang"
    df = pd.concat([df, df.iloc[[4]]], ignore_index=True)
    df.loc[len(df)] = ["莱芜市", 2016, 1.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnbalancedPanelWarning)
        p = load_panel(df, unit="city", strict=False)
    rep = p.report
    used = rep.rows["status"].isin(["matched", "matched_history", "merged_aggregated"]).sum()
    assert used + len(rep.rejected) == len(df) == rep.n_input == sum(rep.counts.values())
    assert len(p.data) == used  # no aggregation here: one data row per used input row
    # the rejected rows carry their original values
    assert set(rep.rejected["city"]) == {"Shijazhuang", df.loc[4, "city"], "莱芜市"}
    assert rep.counts["merged_unresolved"] == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_file_formats_keep_codes_and_values(tmp_path, suffix):
    df = small_panel()
    path = tmp_path / f"panel{suffix}"
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".xlsx":
        df.to_excel(path, index=False)
    else:
        df.assign(city=df["city"].astype(int)).to_parquet(path)  # integer codes
    p = load_panel(path, unit="city")
    assert p.is_balanced and p.units == ["110000", "120000", "130100"] and p.years == [2015, 2016, 2017]
    expected = df.assign(adcode=df["city"]).sort_values(["adcode", "year"]).reset_index(drop=True)
    # CSV (float repr) and Parquet (binary) round-trip exactly; openpyxl writes numbers to the
    # sheet XML with 16 significant digits, which can move the last bit: 1e-15 relative.
    rtol = 1e-15 if suffix == ".xlsx" else 0.0
    np.testing.assert_allclose(p.data["gdp"], expected["gdp"], rtol=rtol, atol=0)
    if suffix != ".csv":
        assert (p.report.rows["line"] == p.report.rows["row"] + 1).all()


def test_bad_files_and_columns(tmp_path):
    with pytest.raises(DataFileError, match="not found"):
        load_panel(tmp_path / "nope.csv", unit="city")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(DataFileError, match="unsupported file type"):
        load_panel(tmp_path / "x.json", unit="city")
    with pytest.raises(DataFileError, match=r"no column 'town'.*\['city', 'year', 'gdp', 'pop'\]"):
        load_panel(small_panel(), unit="town")


def test_invalid_year_is_reported():
    df = small_panel()
    df["year"] = df["year"].astype(object)
    df.loc[0, "year"] = "2015a"
    df.loc[1, "year"] = 2016.5
    with pytest.raises(JoinError, match="invalid_year"):
        load_panel(df, unit="city")


def laiwu_panel() -> pd.DataFrame:
    rows = [("济南市", y, 100.0 + y - 2015, 7.0) for y in range(2015, 2020)]
    rows += [("莱芜市", y, 10.0, 1.5) for y in range(2015, 2019)]  # 莱芜 until 2018
    return pd.DataFrame(rows, columns=["city", "year", "gdp", "pop"])


def test_merged_rows_need_an_explicit_policy():
    with pytest.raises(JoinError, match="merged_unresolved.*choose merged="):
        load_panel(laiwu_panel(), unit="city")
    with pytest.raises(MergePolicyError, match=r"needs aggregate="):
        load_panel(laiwu_panel(), unit="city", merged="aggregate")
    with pytest.raises(MergePolicyError, match=r"no aggregation rule for value column\(s\) \['pop'\]"):
        load_panel(laiwu_panel(), unit="city", merged="aggregate", aggregate={"gdp": "sum"})


def test_merged_aggregate_sums_into_the_successor():
    p = load_panel(laiwu_panel(), unit="city", merged="aggregate",
                   aggregate={"gdp": "sum", "pop": "successor"})
    d = p.data.set_index("year")
    assert list(d["adcode"].unique()) == ["370100"]
    for y in range(2015, 2019):
        assert d.loc[y, "gdp"] == pytest.approx(100.0 + y - 2015 + 10.0)
        assert d.loc[y, "pop"] == 7.0
    assert d.loc[2019, "gdp"] == 104.0 and d.loc[2019, "source_rows"] == "5"
    assert d.loc[2015, "source_rows"] == "1+6"
    assert p.report.counts["merged_aggregated"] == 4


def test_merged_drop_reports_every_dropped_row():
    p = load_panel(laiwu_panel(), unit="city", merged="drop")
    assert len(p.data) == 5 and p.report.counts["merged_dropped"] == 4
    dropped = p.report.rejected
    assert list(dropped["city"].unique()) == ["莱芜市"] and list(dropped["row"]) == [6, 7, 8, 9]


def test_merged_row_without_successor_row_is_a_problem():
    df = laiwu_panel()
    df = df[~((df["city"] == "济南市") & (df["year"] == 2016))]
    with pytest.raises(JoinError, match="merged_unpaired"):
        load_panel(df, unit="city", merged="aggregate", aggregate="sum")


def test_laiwu_after_abolition_is_not_matched():
    df = laiwu_panel()
    df.loc[len(df)] = ["莱芜市", 2020, 1.0, 1.0]
    with pytest.raises(JoinError, match=r"'莱芜市' \(2020\) ambiguous"):
        load_panel(df, unit="city", merged="aggregate", aggregate="sum")


def test_missing_unit_years_reported_and_warned():
    df = small_panel().drop(index=[1, 5]).reset_index(drop=True)
    with pytest.warns(UnbalancedPanelWarning, match="2 unit-year"):
        p = load_panel(df, unit="city")
    assert not p.is_balanced
    assert set(map(tuple, p.report.missing[["adcode", "year"]].to_numpy().tolist())) == {
        ("110000", 2016), ("120000", 2017)}
    assert len(p.report.absent_units) == 337 - 3


def test_opt_in_units_are_unmatched_unless_included():
    df = pd.DataFrame({"city": ["济源市", "郑州市"], "year": [2015, 2015], "x": [1.0, 2.0]})
    with pytest.raises(JoinError, match="not in the default prefecture layer"):
        load_panel(df, unit="city")
    p = load_panel(df, unit="city", include="province_county")
    assert p.units == ["410100", "419001"]


def test_to_geodataframe_attaches_geometry():
    pytest.importorskip("spatialinno.boundaries")
    p = load_panel(small_panel(), unit="city")
    gdf = p.to_geodataframe()
    assert len(gdf) == len(p.data) and gdf.geometry.notna().all()
    assert gdf.crs.to_epsg() == 4326


# ------------------------------------------------------------------ property tests (hypothesis)

def name_forms(code: str, year: int) -> list[str]:
    """Names that denote `code` in `year`, from the registry's alias table."""
    al = cities.aliases()
    forms = []
    for r in al[al["unit"] == code].itertuples():
        if r.relation in ("merge", "split"):
            continue
        lo = int(r.valid_from) if r.valid_from else -10**9
        hi = int(r.valid_to) if r.valid_to else 10**9
        if r.relation == "current" or lo <= year <= hi:
            forms += [r.code, r.name, r.short_name]
            if r.relation == "current":
                forms.append(r.pinyin)
    return sorted(set(forms))


BASE = pd.DataFrame([(u, y) for u in FORM_UNITS for y in (2005, 2009, 2016)], columns=["city", "year"])
BASE["v"] = np.arange(len(BASE), dtype=float)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perm=st.permutations(range(len(BASE))), data=st.data())
def test_shuffling_rows_or_changing_name_forms_never_changes_the_result(perm, data):
    reference = load_panel(BASE, unit="city").data
    df = BASE.iloc[list(perm)].reset_index(drop=True)
    df["city"] = [data.draw(st.sampled_from(name_forms(c, y))) for c, y in zip(df["city"], df["year"])]
    got = load_panel(df, unit="city").data
    cols = ["adcode", "year", "unit_name", "unit_name_en", "unit_province", "v"]
    pd.testing.assert_frame_equal(got[cols], reference[cols])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["北京", "天津", "Shijazhuang", "999999", "莱芜市", "保定"]),
                min_size=1, max_size=12),
       st.lists(st.integers(2014, 2020), min_size=12, max_size=12))
def test_every_input_row_is_accounted_for_exactly_once(names, years):
    df = pd.DataFrame({"city": names, "year": years[: len(names)], "x": 1.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = load_panel(df, unit="city", strict=False, merged="drop")
    rep = p.report
    assert list(rep.rows["row"]) == list(range(1, len(df) + 1))
    used = rep.rows["status"].isin(["matched", "matched_history"]).sum()
    assert used == len(p.data) and used + len(rep.rejected) == len(df)
    assert rep.problems["status"].isin(PROBLEM_STATUSES).all()


def test_aggregating_a_split_unit_warns():
    df = pd.DataFrame({"city": ["合肥市", "巢湖市"], "year": [2011, 2011], "gdp": [3000.0, 600.0]})
    from spatialinno.errors import BoundaryChangeWarning
    with pytest.warns(BoundaryChangeWarning, match="split.*巢湖市"):
        p = load_panel(df, unit="city", merged="aggregate", aggregate="sum")
    assert p.data["gdp"].tolist() == [3600.0] and p.data["adcode"].tolist() == ["340100"]


def test_join_applies_every_history_rule():
    """Each history case of the registry tests, as a row of a yearbook file, lands on the same
    unit through load_panel, with the same rule (merged units under merged='drop' are reported)."""
    from test_cities import HISTORY_CASES

    df = pd.DataFrame({"city": [q for q, *_ in HISTORY_CASES], "year": [y for _, y, *_ in HISTORY_CASES],
                       "x": 1.0})
    with pytest.warns(UnbalancedPanelWarning):  # one row per unit: unbalanced by construction
        p = load_panel(df, unit="city", merged="drop", strict=False)
    rows = p.report.rows
    for (query, year, unit, status, rule), got in zip(HISTORY_CASES, rows.itertuples(), strict=True):
        expected_status = "merged_dropped" if status == "merged" else status
        assert (got.value, got.year, got.adcode, got.status, got.rule) == (
            query, year, unit, expected_status, rule)


def test_input_columns_named_like_registry_columns_are_kept():
    """A yearbook's own province and name columns are value columns: kept, never overwritten."""
    df = pd.DataFrame({"city": ["北京", "Tianjin"], "province": ["京", "津"], "name": ["a", "b"],
                       "year": [2015, 2015], "gdp": [1.0, 2.0]})
    p = load_panel(df, unit="city")
    assert p.data["province"].tolist() == ["京", "津"] and p.data["name"].tolist() == ["a", "b"]
    assert p.data["unit_province"].tolist() == ["北京市", "天津市"]
    with pytest.raises(DataFileError, match=r"\['unit_name'\] clash with the columns the join adds"):
        load_panel(df.rename(columns={"name": "unit_name"}), unit="city")


def test_missing_values_are_never_aggregated_away():
    df = pd.DataFrame({"city": ["济南市", "莱芜市"], "year": [2015, 2015], "gdp": [100.0, np.nan]})
    p = load_panel(df, unit="city", merged="aggregate", aggregate="sum")
    assert np.isnan(p.data["gdp"].iloc[0]) and p.data["source_rows"].iloc[0] == "1+2"


def test_two_rows_of_the_same_abolished_unit_are_duplicates():
    df = pd.DataFrame({"city": ["济南市", "莱芜市", "371200"], "year": [2015] * 3, "gdp": [100.0, 10.0, 10.0]})
    with pytest.raises(JoinError, match=r"abolished unit 371200 in 2015 appears in rows 2, 3"):
        load_panel(df, unit="city", merged="aggregate", aggregate="sum")


def test_csv_lines_are_physical_lines(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text('city,year,x\n北京,2010,1\n\n\n"上海",2010,"2"\nNowhere,2010,3\n', encoding="utf-8")
    with pytest.raises(JoinError, match=r"blank.csv, line 6: 'Nowhere'"):
        load_panel(path, unit="city")
