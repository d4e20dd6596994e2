"""Bad yearbook files: every cell that is not plainly a number is read by the documented policy,
and every error or warning names its culprit (file, line, column, cell value).

Fixture files are written into ``tmp_path`` by each test; physical line numbers below are the
ones an editor shows (header = line 1 unless the file has title rows).
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spatialinno.errors import (ColumnNotFoundError, DataFileError, DuplicateHeaderError,
                                FileEncodingError, FileFormatError, JoinError, NumericCellError,
                                OptionError, PlaceholderWarning, SpatialinnoError,
                                YearCoverageWarning)
from spatialinno.panel import load_panel, read_table
from spatialinno.yearbook import PLACEHOLDERS, parse_number, read_yearbook

HEADER = ["city", "year", "gdp", "pop"]
ROWS = [["北京", "2015", "1.5", "10"], ["天津", "2015", "2.5", "20"], ["上海", "2015", "3.5", "30"]]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, sep: str = ",") -> str:
    """A CSV as a spreadsheet program writes it (quotes where needed), header on line 1."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def with_cell(row: int, col: str, value: str) -> list[list[str]]:
    """ROWS with one cell replaced (row 0-based among data rows; its line is row + 2)."""
    rows = [list(r) for r in ROWS]
    rows[row][HEADER.index(col)] = value
    return rows


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def quiet_load(path, **kw):
    """load_panel with the placeholder and coverage warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlaceholderWarning)
        warnings.simplefilter("ignore", YearCoverageWarning)
        return load_panel(path, unit="city", **kw)


# ------------------------------------------------------------------------------ placeholders

PLACEHOLDER_CELLS = ["—", "——", "–", "-", "--", "…", "……", "...", "/", "／", "NA", "N/A",
                     "n.a.", "null", "", "   ", "\u3000", "na", "NULL"]


@pytest.mark.parametrize("value", PLACEHOLDER_CELLS)
def test_placeholder_becomes_missing_with_a_record_and_a_warning(tmp_path, value):
    path = write(tmp_path, "placeholders.csv", csv_text(with_cell(1, "gdp", value)))
    with pytest.warns(PlaceholderWarning) as rec:
        panel = load_panel(path, unit="city")
    msg = str(rec[0].message)
    assert "placeholders.csv" in msg and "line 3" in msg and "column 'gdp'" in msg
    assert repr(value) in msg and "1 placeholder cell" in msg
    cells = panel.report.placeholders
    assert cells[["line", "row", "column", "value"]].values.tolist() == [[3, 2, "gdp", value]]
    gdp = panel.data.set_index("unit_name")["gdp"]
    assert math.isnan(gdp["天津市"]) and gdp["北京市"] == 1.5 and gdp["上海市"] == 3.5


def test_placeholder_constant_lists_the_documented_markers():
    for marker in ["—", "–", "-", "--", "…", "...", "/", "／", "NA", "N/A", "n.a.", "null"]:
        assert marker in PLACEHOLDERS


def test_placeholder_warning_counts_and_shows_the_first_cells(tmp_path):
    rows = [[f"{c}", "2015", "—", "…"] for c in ["北京", "天津", "上海", "重庆"]]
    path = write(tmp_path, "many.csv", csv_text(rows))
    with pytest.warns(PlaceholderWarning, match=r"many.csv: 8 placeholder cell\(s\).*line 2, "
                                                r"column 'gdp': '—'.*and 3 more"):
        panel = load_panel(path, unit="city")
    assert len(panel.report.placeholders) == 8
    assert panel.data["gdp"].isna().all() and panel.data["gdp"].dtype == float


def test_extra_placeholder_marker_is_opt_in(tmp_path):
    path = write(tmp_path, "star.csv", csv_text(with_cell(0, "pop", "*")))
    with pytest.raises(NumericCellError, match=r"star.csv, line 2, column 'pop': '\*'"):
        load_panel(path, unit="city")
    with pytest.warns(PlaceholderWarning, match=r"line 2, column 'pop': '\*'"):
        panel = load_panel(path, unit="city", placeholders=PLACEHOLDERS | {"*"})
    assert panel.report.placeholders["value"].tolist() == ["*"]


# ------------------------------------------------------------------------------ numbers

@pytest.mark.parametrize("text", ["1,234.5", "１２３４．５", "１，２３４．５", " 1234.5 ",
                                  "\xa01234.5\xa0", "\u30001234.5", "+1234.5", "1.2345e3",
                                  "1234.50", "1\uff0c234.5", "\u200b1234.5"])
def test_numbers_with_separators_full_width_and_spaces_are_read(tmp_path, text):
    path = write(tmp_path, "numbers.csv", csv_text(with_cell(1, "gdp", text)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlaceholderWarning)
        panel = load_panel(path, unit="city")
    assert panel.data.set_index("unit_name").loc["天津市", "gdp"] == 1234.5
    assert panel.report.reading.numeric_columns == ("gdp", "pop")


def test_negative_numbers_in_any_minus_sign(tmp_path):
    rows = [["北京", "2015", "-1.5", "10"], ["天津", "2015", "\u22122.5", "20"],
            ["上海", "2015", "－3.5", "30"]]
    panel = load_panel(write(tmp_path, "minus.csv", csv_text(rows)), unit="city")
    assert sorted(panel.data["gdp"]) == [-3.5, -2.5, -1.5]


def test_integer_columns_stay_integers(tmp_path):
    rows = [["北京", "2015", "1,234", "10"], ["天津", "2015", "２０", "20"],
            ["上海", "2015", "3", "30"]]
    panel = load_panel(write(tmp_path, "ints.csv", csv_text(rows)), unit="city")
    assert panel.data["gdp"].dtype == np.int64 and sorted(panel.data["gdp"]) == [3, 20, 1234]


BAD_CELLS = {
    "abc": "not a number",
    "12亿": "not a number",
    "1,5": "a comma not grouping three digits",
    "1 234": "not a number",
    "#DIV/0!": "not a number",
    "(123)": "not a number",
    "1.2.3": "not a number",
    "１２a": "not a number",
    "inf": "not a number",
    "12,34.5": "a comma not grouping three digits",
    "1e999": "too large for a float",
}


@pytest.mark.parametrize("value", list(BAD_CELLS))
def test_text_in_a_numeric_column_is_an_error_naming_the_cell(tmp_path, value):
    path = write(tmp_path, "bad_cell.csv", csv_text(with_cell(2, "gdp", value)))
    with pytest.raises(NumericCellError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert f"bad_cell.csv, line 4, column 'gdp': {value!r}" in msg
    assert BAD_CELLS[value] in msg and "text=['gdp']" in msg  # what to do
    assert err.value.cells[["line", "column", "value"]].values.tolist() == [[4, "gdp", value]]


def test_every_bad_cell_is_named_across_columns(tmp_path):
    rows = [["北京", "2015", "x", "10"], ["天津", "2015", "2.5", "y"], ["上海", "2015", "3.5", "30"],
            ["重庆", "2015", "4.5", "40"], ["广州市", "2015", "5.5", "z"]]
    with pytest.raises(NumericCellError) as err:
        load_panel(write(tmp_path, "bad.csv", csv_text(rows)), unit="city")
    msg = str(err.value)
    for where in ["line 2, column 'gdp': 'x'", "line 3, column 'pop': 'y'",
                  "line 6, column 'pop': 'z'"]:
        assert where in msg
    assert len(err.value.cells) == 3


def test_a_mostly_text_column_stays_text(tmp_path):
    rows = [r + [n] for r, n in zip(ROWS, ["revised", "2", "see note 3"], strict=True)]
    path = write(tmp_path, "notes.csv", csv_text(rows, header=HEADER + ["notes"]))
    panel = load_panel(path, unit="city")
    assert panel.report.reading.text_columns == ("city", "year", "notes")
    assert set(panel.data["notes"]) == {"revised", "2", "see note 3"}


def test_text_override_keeps_a_numeric_looking_column_as_written(tmp_path):
    rows = [r + [c] for r, c in zip(ROWS, ["0010", "0020", "x"], strict=True)]
    path = write(tmp_path, "codes.csv", csv_text(rows, header=HEADER + ["code"]))
    with pytest.raises(NumericCellError, match=r"codes.csv, line 4, column 'code': 'x'"):
        load_panel(path, unit="city")
    panel = load_panel(path, unit="city", text=["code"])
    assert sorted(panel.data["code"]) == ["0010", "0020", "x"]


def test_numeric_override_makes_a_text_column_an_error(tmp_path):
    rows = [r + [n] for r, n in zip(ROWS, ["revised", "2", "see note"], strict=True)]
    path = write(tmp_path, "forced.csv", csv_text(rows, header=HEADER + ["notes"]))
    with pytest.raises(NumericCellError, match=r"forced.csv, line 2, column 'notes': 'revised'"):
        load_panel(path, unit="city", numeric=["notes"])


def test_override_of_an_absent_column_names_it(tmp_path):
    path = write(tmp_path, "ok.csv", csv_text(ROWS))
    with pytest.raises(ColumnNotFoundError, match=r"ok.csv: no column 'GDP' \(the numeric= "
                                                  r"column\); columns are \['city'"):
        load_panel(path, unit="city", numeric=["GDP"])


@pytest.mark.parametrize("kw, match", [
    (dict(numeric=["gdp"], text=["gdp"]), r"\['gdp'\] are in both numeric= and text="),
    (dict(numeric=["city"]), r"numeric= names the key column\(s\) \['city'\]"),
    (dict(percent="percent"), r"percent='percent'; expected one of \['raise', 'points'"),
    (dict(header=0), r"header=0; expected the 1-based line number"),
    (dict(header=2, skiprows=1), r"skiprows=1 and header=2: give one of them"),
    (dict(sep=", "), r"sep=', '; expected one character"),
    (dict(encoding="no-such-codec"), r"encoding='no-such-codec' is not a known codec"),
])
def test_bad_reading_options_are_named(tmp_path, kw, match):
    path = write(tmp_path, "ok.csv", csv_text(ROWS))
    with pytest.raises(OptionError, match=match):
        load_panel(path, unit="city", **kw)


# ------------------------------------------------------------------------------ percent

def test_percent_sign_is_an_error_by_default(tmp_path):
    rows = [["北京", "2015", "12.5%", "10"], ["天津", "2015", "13%", "20"], ["上海", "2015", "１４％", "30"]]
    path = write(tmp_path, "pct.csv", csv_text(rows))
    with pytest.raises(NumericCellError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "pct.csv, line 2, column 'gdp': '12.5%'" in msg and "line 4, column 'gdp': '１４％'" in msg
    assert "percent='points'" in msg and "percent='fraction'" in msg
    points = load_panel(path, unit="city", percent="points").data.set_index("unit_name")["gdp"]
    fraction = load_panel(path, unit="city", percent="fraction").data.set_index("unit_name")["gdp"]
    assert points.to_dict() == {"北京市": 12.5, "天津市": 13.0, "上海市": 14.0}
    assert fraction.to_dict() == pytest.approx({"北京市": 0.125, "天津市": 0.13, "上海市": 0.14})


def test_percent_mixed_with_plain_numbers_is_an_error_under_every_policy(tmp_path):
    rows = [["北京", "2015", "12.5%", "10"], ["天津", "2015", "13", "20"], ["上海", "2015", "14", "30"]]
    path = write(tmp_path, "mixed.csv", csv_text(rows))
    for policy in ("points", "fraction"):
        with pytest.raises(NumericCellError, match=r"mixed.csv, line 2, column 'gdp': '12.5%' "
                                                   r"\(a percent sign in a column whose other"):
            load_panel(path, unit="city", percent=policy)


# ------------------------------------------------------------------------------ years

@pytest.mark.parametrize("year, reason", [
    ("0", "'0' is not a possible calendar year"),
    ("-5", "'-5' is not a possible calendar year"),
    ("20115", "'20115' is not a possible calendar year (expected 1900-2100)"),
    ("2011.5", "'2011.5' is not a whole year"),
    ("2015a", "'2015a' is not a year"),
    ("—", "the placeholder '—'"),
    ("", "'year' cell: empty"),
    ("2011-2012", "'2011-2012' is not a year"),
])
def test_impossible_years_are_problems_naming_the_line(tmp_path, year, reason):
    path = write(tmp_path, "years.csv", csv_text(with_cell(1, "year", year)))
    with pytest.raises(JoinError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "years.csv, line 3: '天津'" in msg and "invalid_year" in msg and reason in msg
    panel = quiet_load(path, strict=False)  # nothing lost: the row is in report.rejected
    rejected_year = panel.report.rejected["year"].tolist()[0]
    assert rejected_year == year if year else pd.isna(rejected_year)
    assert panel.report.rejected["status"].tolist() == ["invalid_year"]


@pytest.mark.filterwarnings("ignore::spatialinno.errors.UnbalancedPanelWarning")
@pytest.mark.parametrize("year", ["2011年", "２０１１", "2011.0", " 2011 ", "2011 年"])
def test_year_forms_read_as_the_year(tmp_path, year):
    path = write(tmp_path, "yearforms.csv", csv_text(with_cell(0, "year", year)))
    rows = load_panel(path, unit="city", strict=False).report.rows
    assert rows["year"].tolist()[0] == 2011 and rows["status"].tolist()[0] == "matched"


@pytest.mark.filterwarnings("ignore::spatialinno.errors.UnbalancedPanelWarning")
@pytest.mark.parametrize("year", ["1995", "2030"])
def test_years_outside_the_registry_coverage_warn_naming_the_rows(tmp_path, year):
    path = write(tmp_path, "coverage.csv", csv_text(with_cell(2, "year", year)))
    with pytest.warns(YearCoverageWarning) as rec:
        panel = load_panel(path, unit="city", strict=False)
    msg = str([w.message for w in rec if w.category is YearCoverageWarning][0])
    assert "coverage.csv" in msg and f"{year}: line 4" in msg and "2000-2024" in msg
    assert panel.report.outside_coverage["line"].tolist() == [4]


# ------------------------------------------------------------------------------ duplicate headers

@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_duplicate_csv_header_names_the_column_and_positions(tmp_path, sep):
    text = csv_text([["北京", "2015", "1", "2"]], header=["city", "year", "gdp", "gdp"], sep=sep)
    path = write(tmp_path, "dup.csv", text)
    with pytest.raises(DuplicateHeaderError, match=r"dup.csv: the header \(line 1\) names several "
                                                   r"columns alike: 'gdp' in columns 3, 4") as err:
        load_panel(path, unit="city")
    assert err.value.duplicates == {"gdp": [3, 4]}


def test_duplicate_header_after_stripping_spaces(tmp_path):
    path = write(tmp_path, "dup_space.csv", "city,year,gdp, gdp \n北京,2015,1,2\n")
    with pytest.raises(DuplicateHeaderError, match=r"'gdp' in columns 3, 4"):
        load_panel(path, unit="city")


def test_header_names_are_kept_as_written_apart_from_surrounding_spaces(tmp_path):
    text = "\u3000城市（全市）\u3000,year,ＧＤＰ\n北京,2015,1\n"
    panel = load_panel(write(tmp_path, "names.csv", text), unit="城市（全市）")
    assert "ＧＤＰ" in panel.data.columns
    with pytest.raises(ColumnNotFoundError, match=r"no column '城市\(全市\)' \(the unit column\)"):
        load_panel(write(tmp_path, "names.csv", text), unit="城市(全市)")


def test_duplicate_excel_header_names_the_column_letters(tmp_path):
    path = write_xlsx(tmp_path / "dup.xlsx", [["city", "gdp", "year", "pop", "gdp"],
                                              ["北京", 1.0, 2015, 3.0, 4.0]])
    with pytest.raises(DuplicateHeaderError,
                       match=r"dup.xlsx: .*'gdp' in columns 2 \(B\), 5 \(E\)"):
        load_panel(path, unit="city")


def test_duplicate_dataframe_columns_are_named():
    df = pd.DataFrame([["北京", 2015, 1.0, 2.0]], columns=["city", "year", "gdp", "gdp"])
    with pytest.raises(DuplicateHeaderError, match=r"<DataFrame>: .*'gdp' in columns \[3, 4\]"):
        load_panel(df, unit="city")


# ------------------------------------------------------------------------------ encodings

def test_gbk_file_is_read_and_its_encoding_recorded(tmp_path):
    path = write(tmp_path, "gbk.csv", csv_text(with_cell(0, "gdp", "—")), encoding="gbk")
    with pytest.warns(PlaceholderWarning, match=r"gbk.csv: .*line 2, column 'gdp': '—'"):
        panel = load_panel(path, unit="city")
    assert panel.report.encoding == "gb18030" and panel.units == ["110000", "120000", "310000"]


def test_utf8_bom_file_keeps_its_header_and_lines(tmp_path):
    text = "\ufeff" + csv_text(with_cell(2, "city", "Nowhere"))
    path = write(tmp_path, "bom.csv", text)
    with pytest.raises(JoinError, match=r"bom.csv, line 4: 'Nowhere'"):
        load_panel(path, unit="city")
    assert quiet_load(path, strict=False).report.encoding == "utf-8-sig"


def test_utf16_file_from_excel_unicode_text_is_read(tmp_path):
    path = write(tmp_path, "unicode.txt", csv_text(ROWS, sep="\t"), encoding="utf-16")
    panel = load_panel(path, unit="city")
    assert panel.report.encoding == "utf-16" and panel.report.sep == "\t" and len(panel.data) == 3


def test_undecodable_file_names_the_byte_offset(tmp_path):
    data = csv_text(ROWS).encode("utf-8") + b"\xff\xff,2015,1,2\n"
    path = write(tmp_path, "binary.csv", data)
    offset = len(csv_text(ROWS).encode("utf-8"))
    with pytest.raises(FileEncodingError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "binary.csv" in msg and f"byte {offset} (0xff, line 5)" in msg
    assert "utf-8" in msg and "gb18030" in msg and "encoding=" in msg
    assert err.value.offset == offset


def test_wrong_explicit_encoding_names_the_byte(tmp_path):
    path = write(tmp_path, "gbk2.csv", csv_text(ROWS), encoding="gbk")
    offset = len("city,year,gdp,pop\n")  # the first byte of 北京 in GBK
    with pytest.raises(FileEncodingError, match=rf"gbk2.csv: cannot be decoded as utf-8: byte "
                                                rf"{offset} \(0xb1, line 2\) is invalid"):
        load_panel(path, unit="city", encoding="utf-8")
    assert load_panel(path, unit="city", encoding="gbk").report.encoding == "gbk"


# ------------------------------------------------------------------------------ layout

TITLE = "2015年中国城市统计年鉴\n表1-1 主要指标\n"


def test_single_cell_title_lines_are_skipped_and_recorded(tmp_path):
    """Yearbook titles (one filled cell per line above a multi-column header) are skipped; the
    report lists them and every line number stays physical."""
    rows = with_cell(1, "gdp", "—")
    path = write(tmp_path, "title.csv", TITLE + csv_text(rows))
    with pytest.warns(PlaceholderWarning, match=r"title\.csv: 1 placeholder cell\(s\).*line 5"):
        panel = load_panel(path, unit="city")
    assert panel.report.reading.skipped_lines == (1, 2)
    assert panel.report.reading.header_line == 3
    assert list(panel.report.placeholders["line"]) == [5]


def test_title_lines_of_a_one_column_file_are_not_skipped(tmp_path):
    path = write(tmp_path, "one.csv", "title\ncity\n北京\n")
    with pytest.raises(ColumnNotFoundError, match=r"one\.csv: no column 'city'.*columns are \['title'\]"):
        load_panel(path, unit="city")


def test_title_row_with_full_width_cells_gives_column_not_found(tmp_path):
    text = "a,b,c,d\n" + csv_text(ROWS)
    with pytest.raises(ColumnNotFoundError) as err:
        load_panel(write(tmp_path, "wide_title.csv", text), unit="city")
    msg = str(err.value)
    assert "wide_title.csv: no column 'city' (the unit column); no column 'year'" in msg
    assert "pass header=2" in msg and "line 1: a | b | c | d" in msg


@pytest.mark.parametrize("kw", [dict(header=3), dict(skiprows=2)])
def test_title_rows_skipped_keep_physical_lines(tmp_path, kw):
    rows = with_cell(1, "gdp", "—")
    rows[2][0] = "Nowhere"
    path = write(tmp_path, "title.csv", TITLE + csv_text(rows))
    with pytest.warns(PlaceholderWarning, match=r"line 5, column 'gdp'"):
        with pytest.raises(JoinError, match=r"title.csv, line 6: 'Nowhere'"):
            load_panel(path, unit="city", **kw)


def test_units_row_below_the_header_is_skipped_by_line(tmp_path):
    text = "city,year,gdp,pop\n,,亿元,万人\n" + csv_text(ROWS).split("\n", 1)[1]
    path = write(tmp_path, "units_row.csv", text)
    with pytest.raises(NumericCellError, match=r"units_row.csv, line 2, column 'gdp': '亿元'"):
        load_panel(path, unit="city")
    panel = load_panel(path, unit="city", skiprows=[2])
    assert panel.report.reading.skipped_lines == (2,)
    assert panel.report.rows["line"].tolist() == [3, 4, 5]


def test_header_on_a_blank_line_is_an_error(tmp_path):
    path = write(tmp_path, "blank_header.csv", "title\n\n" + csv_text(ROWS))
    with pytest.raises(FileFormatError, match=r"blank_header.csv: header=2, but line 2 is blank"):
        load_panel(path, unit="city", header=2)


@pytest.mark.parametrize("sep, name", [("\t", "tab.tsv"), (";", "semicolon.csv"),
                                       ("\t", "tab.csv")])
def test_tab_and_semicolon_files_are_detected_and_recorded(tmp_path, sep, name):
    rows = with_cell(0, "gdp", "1,234.5")
    path = write(tmp_path, name, csv_text(rows, sep=sep))
    panel = load_panel(path, unit="city")
    assert panel.report.sep == sep and panel.data["gdp"].max() == 1234.5


def test_explicit_separator_wrong_for_the_file(tmp_path):
    path = write(tmp_path, "semi.csv", csv_text(ROWS, sep=";"))
    with pytest.raises(ColumnNotFoundError, match=r"semi.csv: no column 'city'.*columns are "
                                                  r"\['city;year;gdp;pop'\]"):
        load_panel(path, unit="city", sep=",")


def test_unquoted_thousands_separator_misaligns_a_row(tmp_path):
    path = write(tmp_path, "unquoted.csv", "city,year,gdp,pop\n北京,2015,1,234.5,10\n天津,2015,2,3\n")
    with pytest.raises(FileFormatError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "unquoted.csv: 1 row(s) have more cells than the header (line 1) has names (4)" in msg
    assert "line 2: 5 cells: 北京 | 2015 | 1 | 234.5 | 10" in msg and '"1,234.5"' in msg


def test_column_without_a_name_but_with_values_is_an_error(tmp_path):
    path = write(tmp_path, "noname.csv", "city,year,,pop\n北京,2015,1,10\n天津,2015,,20\n")
    with pytest.raises(FileFormatError, match=r"noname.csv: column\(s\) without a name in the "
                                              r"header \(line 1\) hold values: column 3 "
                                              r"\(e.g. line 2: '1'\)"):
        load_panel(path, unit="city")


def test_empty_unnamed_columns_and_blank_lines_are_dropped_and_recorded(tmp_path):
    path = write(tmp_path, "trailing.csv", "city,year,gdp,\n北京,2015,1,\n,,,\n天津,2015,2,\n")
    panel = load_panel(path, unit="city")
    assert panel.report.reading.dropped_columns == (4,)
    assert panel.report.reading.blank_lines == (3,)
    assert panel.report.rows["line"].tolist() == [2, 4]


def test_multiline_quoted_cells_keep_physical_lines(tmp_path):
    text = ('city,year,gdp,note\r\n北京,2015,1,"two\r\nlines"\r\n\r\n'
            '天津,2015,"2,000",x\r\nNowhere,2015,3,"a\nb\nc"\r\n上海,2015,—,y\r\n')
    path = write(tmp_path, "multiline.csv", "\ufeff" + text)
    with pytest.warns(PlaceholderWarning, match=r"multiline.csv: .*line 9, column 'gdp': '—'"):
        with pytest.raises(JoinError, match=r"multiline.csv, line 6: 'Nowhere'"):
            load_panel(path, unit="city")


# ------------------------------------------------------------------------------ formats and files

def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataFileError, match=r"nope.csv: file not found"):
        load_panel(tmp_path / "nope.csv", unit="city")


def test_directory_given_as_a_file(tmp_path):
    folder = tmp_path / "panel.csv"
    folder.mkdir()
    with pytest.raises(FileFormatError, match=r"panel.csv: is a directory"):
        load_panel(folder, unit="city")


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_named(tmp_path, content):
    with pytest.raises(FileFormatError, match=r"empty.csv: the file is empty"):
        load_panel(write(tmp_path, "empty.csv", content), unit="city")


def test_header_only_file_is_named(tmp_path):
    with pytest.raises(FileFormatError, match=r"header.csv: has a header \(line 1: city \| year "
                                              r"\| gdp \| pop\) but no data rows"):
        load_panel(write(tmp_path, "header.csv", "city,year,gdp,pop\n"), unit="city")


def test_old_binary_xls_asks_to_save_as_xlsx(tmp_path):
    pytest.importorskip("openpyxl")
    try:
        import xlrd  # noqa: F401
        pytest.skip("xlrd is installed: .xls files are read")
    except ImportError:
        pass
    path = write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    with pytest.raises(FileFormatError, match=r"old.xls: is an old binary Excel workbook.*save it "
                                              r"as .xlsx or as CSV"):
        load_panel(path, unit="city")


def test_xlsx_that_is_really_csv_is_read_as_csv(tmp_path):
    path = write(tmp_path, "fake.xlsx", csv_text(with_cell(0, "gdp", "—")))
    with pytest.warns(PlaceholderWarning, match=r"fake.xlsx: .*line 2, column 'gdp'"):
        panel = load_panel(path, unit="city")
    assert panel.report.reading.format == "csv"


def test_csv_that_is_really_an_xlsx_is_read_as_a_workbook(tmp_path):
    rows = [HEADER] + [[c, 2015, "—", 1.0] for c in ["北京", "天津"]]
    path = write_xlsx(tmp_path / "real.xlsx", rows)
    fake = tmp_path / "fake.csv"
    fake.write_bytes(path.read_bytes())
    with pytest.warns(PlaceholderWarning, match=r"fake.csv: 2 placeholder .*line 2, column 'gdp'"):
        panel = load_panel(fake, unit="city")
    assert panel.report.reading.format == "xlsx" and panel.report.reading.sheet == "data"


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("panel.csv", csv_text(ROWS))
    with pytest.raises(FileFormatError, match=r"archive.xlsx: is a zip archive but not an Excel"):
        load_panel(path, unit="city")


def test_html_page_saved_as_xls(tmp_path):
    path = write(tmp_path, "export.xls", "<html><body><table><tr><td>city</td></tr></table>")
    with pytest.raises(FileFormatError, match=r"export.xls: is a web page .* save it as .xlsx"):
        load_panel(path, unit="city")


def test_unknown_sheet_lists_the_sheets(tmp_path):
    path = write_xlsx(tmp_path / "book.xlsx", [HEADER, ["北京", 2015, 1.0, 2.0]])
    with pytest.raises(DataFileError, match=r"book.xlsx: no sheet 'Sheet9'; the workbook's sheets "
                                            r"are \['data'\]"):
        load_panel(path, unit="city", sheet="Sheet9")


# ------------------------------------------------------------------------------ Excel cells

def test_excel_placeholder_names_the_sheet_row(tmp_path):
    rows = [HEADER, ["北京", 2015, 1.5, 10], ["天津", 2015, "—", 20], ["上海", 2015, None, 30]]
    path = write_xlsx(tmp_path / "book.xlsx", rows)
    with pytest.warns(PlaceholderWarning, match=r"book.xlsx: 2 placeholder .*line 3, column 'gdp': "
                                                r"'—'; line 4, column 'gdp': ''"):
        panel = load_panel(path, unit="city")
    assert panel.report.placeholders["line"].tolist() == [3, 4]


def test_excel_text_and_date_cells_in_a_numeric_column(tmp_path):
    from datetime import datetime
    rows = [HEADER, ["北京", 2015, 1.5, 10], ["天津", 2015, "1,234.5", datetime(2015, 3, 1)],
            ["上海", 2015, "12 亿", 30], ["重庆", 2015, 4.0, 40]]
    path = write_xlsx(tmp_path / "cells.xlsx", rows)
    with pytest.raises(NumericCellError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "cells.xlsx, line 3, column 'pop': '2015-03-01 00:00:00' (a date or time" in msg
    assert "cells.xlsx, line 4, column 'gdp': '12 亿'" in msg and "'1,234.5'" not in msg


def test_excel_formula_without_a_stored_result_is_not_read_as_missing(tmp_path):
    rows = [HEADER, ["北京", 2015, 1.5, 10], ["天津", 2015, "=C2*2", 20], ["上海", 2015, None, 30]]
    path = write_xlsx(tmp_path / "formulas.xlsx", rows)  # openpyxl stores no computed value
    with pytest.raises(NumericCellError) as err:
        load_panel(path, unit="city")
    msg = str(err.value)
    assert "formulas.xlsx, line 3, column 'gdp': '=C2*2' (a formula without a stored result" in msg
    assert "line 4" not in msg  # the truly empty cell is a placeholder, not an error


def test_excel_title_rows_keep_sheet_row_numbers(tmp_path):
    rows = [["2015年城市统计"], [], HEADER, ["北京", 2015, 1.5, 10], ["Nowhere", 2015, 2.5, 20]]
    path = write_xlsx(tmp_path / "titled.xlsx", rows)
    for kw in ({}, {"header": 3}):  # the one-cell title line is skipped without header= too
        with pytest.raises(JoinError, match=r"titled.xlsx, line 5: 'Nowhere'"):
            load_panel(path, unit="city", **kw)


def test_excel_codes_as_numbers_keep_their_digits(tmp_path):
    rows = [["code", "year", "gdp"], [110000, 2015, 1.0], [120000.0, "2015年", 2.0]]
    panel = load_panel(write_xlsx(tmp_path / "codes.xlsx", rows), unit="code")
    assert panel.units == ["110000", "120000"] and panel.years == [2015]


# ------------------------------------------------------------------------- DataFrames, read_table

def test_dataframe_text_cells_follow_the_same_policy():
    df = pd.DataFrame({"city": ["北京", "天津"], "year": [2015, 2015], "gdp": ["1,234.5", "—"]})
    with pytest.warns(PlaceholderWarning,
                      match=r"<DataFrame>: 1 placeholder .*row 2, column 'gdp'"):
        panel = load_panel(df, unit="city")
    assert panel.data["gdp"].tolist()[0] == 1234.5


def test_read_table_warns_and_types(tmp_path):
    path = write(tmp_path, "plain.csv", csv_text(with_cell(0, "pop", "…")))
    with pytest.warns(PlaceholderWarning, match=r"plain.csv: 1 placeholder .*line 2, column 'pop'"):
        df = read_table(path, text_columns=("city",))
    assert df["gdp"].dtype == float and df["year"].dtype == np.int64


def test_read_yearbook_report_says_how_the_file_was_read(tmp_path):
    path = write(tmp_path, "gbk.csv", TITLE + csv_text(ROWS, sep=";"), encoding="gbk")
    table = read_yearbook(path, skiprows=2)
    rep = table.report
    assert (rep.format, rep.encoding, rep.sep, rep.header_line) == ("csv", "gb18030", ";", 3)
    assert rep.skipped_lines == (1, 2) and rep.lines == (4, 5, 6)
    assert "gb18030" in rep.summary() and "header on line 3" in rep.summary()


def test_parse_number_names_the_value():
    assert parse_number("１，２３４．５") == 1234.5 and parse_number("—") is None
    with pytest.raises(NumericCellError, match=r"'12.5%' is not a number \(a percent sign"):
        parse_number("12.5%")


def test_every_reading_error_is_a_spatialinno_error():
    for cls in (FileFormatError, FileEncodingError, DuplicateHeaderError, ColumnNotFoundError,
                NumericCellError):
        assert issubclass(cls, DataFileError) and issubclass(cls, SpatialinnoError)
