"""Properties of reading yearbook files, on generated CSV text.

(a) whatever the text, load_panel returns a Panel or raises a SpatialinnoError subclass;
(b) numbers written with thousands separators or full-width digits read as the same float;
(c) every placeholder cell is in report.placeholders exactly once, with its line and column;
(d) nothing is lost: every data line is one input row, used or rejected (strict=False).
"""

from __future__ import annotations

import csv
import io
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialinno.errors import SpatialinnoError
from spatialinno.panel import Panel, load_panel
from spatialinno.yearbook import PLACEHOLDERS, parse_number, read_yearbook

# Each example writes and reads a file (~50 ms when it joins); these budgets keep each property
# test under ~10 s. Checked once with 1500 examples each.
FILE_SETTINGS = settings(max_examples=60, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow,
                                                HealthCheck.function_scoped_fixture])
JUNK_SETTINGS = settings(FILE_SETTINGS, max_examples=200)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030"]
SEPS = [",", "\t", ";"]
CITIES = ["北京", "天津市", "Shijiazhuang", "保定", "莱芜市", "巢湖市", "Nowhere", "999999", "110000",
          "襄樊市", "", "—"]
GOOD_CITIES = ["北京", "天津市", "石家庄", "保定", "太原", "大同", "沈阳", "大连", "长春", "哈尔滨",
               "南京", "苏州"]
YEARS = ["2015", "2016", "2011年", "２０１５", "2015.0", "2015.5", "0", "20115", "—", "", "1995",
         "abc"]
PLACEHOLDER_CELLS = sorted(PLACEHOLDERS) + ["", "  ", "\u3000"]
JUNK = ["abc", "12亿", "1,5", "12.5%", '"', "a\nb", "#DIV/0!", "\x00", "\r", "；", "city"]
FULL_WIDTH = str.maketrans("0123456789.,-+", "０１２３４５６７８９．，－＋")


def number_text(x: float | int, thousands: bool, full_width: bool) -> str:
    """x as a yearbook might print it: optional thousands commas, optional full-width forms."""
    text = repr(x)
    if thousands and "e" not in text and "inf" not in text:
        sign, rest = ("-", text[1:]) if text.startswith("-") else ("", text)
        whole, _, frac = rest.partition(".")
        text = sign + f"{int(whole):,}" + ("." + frac if frac else "")
    return text.translate(FULL_WIDTH) if full_width else text


def write_csv(path, rows, sep, encoding, title_lines=0, blank_after=()):
    """Write a CSV, one record per line; return the physical line of every data row."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\n")
    lines, line = [], 0
    for _ in range(title_lines):
        buf.write("2015年 城市统计年鉴 表1\n")
        line += 1
    for i, row in enumerate(rows):
        writer.writerow(row)
        line += 1
        if i > 0:
            lines.append(line)
        if i in blank_after:
            buf.write("\n")
            line += 1
    path.write_bytes(buf.getvalue().encode(encoding))
    return lines


cells = st.one_of(st.sampled_from(PLACEHOLDER_CELLS), st.sampled_from(JUNK),
                  st.floats(allow_nan=False, allow_infinity=False).map(repr),
                  st.integers(-10**6, 10**6).map(lambda i: f"{i:,}"),
                  st.text(max_size=6))


@JUNK_SETTINGS
@given(data=st.data(), sep=st.sampled_from(SEPS), encoding=st.sampled_from(ENCODINGS),
       n=st.integers(1, 8), strict=st.booleans())
def test_any_csv_gives_a_panel_or_a_spatialinno_error(tmp_path, data, sep, encoding, n, strict):
    header = data.draw(st.sampled_from([["city", "year", "gdp", "pop"],
                                        ["city", "year", "gdp", "gdp"],
                                        ["city", "yr", "gdp"], ["city", "year", "", "pop"]]))
    rows = [header] + [[data.draw(st.sampled_from(CITIES)), data.draw(st.sampled_from(YEARS))]
                       + [data.draw(cells) for _ in header[2:]]
                       + data.draw(st.lists(cells, max_size=1)) for _ in range(n)]
    path = tmp_path / "generated.csv"
    write_csv(path, rows, sep, encoding)
    if data.draw(st.booleans()):  # raw junk appended: unbalanced quotes, odd bytes
        path.write_bytes(path.read_bytes() + data.draw(st.sampled_from(
            [b'"unclosed,2015,1\n', b"\xff\xfe\x00", b"\n\n\n", b"x" * 3 + b"\t;\n"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = load_panel(path, unit="city", strict=strict, merged="drop")
        except SpatialinnoError:
            return
    assert isinstance(result, Panel)


@settings(max_examples=300, deadline=None)
@given(x=st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**15, 10**15)),
       thousands=st.booleans(), full_width=st.booleans(),
       pad=st.sampled_from(["", " ", "\xa0", "\u3000"]))
def test_numbers_round_trip_through_separators_and_full_width(x, thousands, full_width, pad):
    text = pad + number_text(x, thousands, full_width) + pad
    got = parse_number(text)
    assert got == x and type(got) is type(x)


@FILE_SETTINGS
@given(values=st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=2, max_size=8),
       thousands=st.booleans(), full_width=st.booleans(), sep=st.sampled_from(SEPS),
       encoding=st.sampled_from(ENCODINGS))
def test_numbers_round_trip_through_a_file(tmp_path, values, thousands, full_width, sep, encoding):
    rows = [["city", "year", "gdp"]] + [[c, "2015", number_text(v, thousands, full_width)]
                                        for c, v in zip(GOOD_CITIES, values)]
    path = tmp_path / "numbers.csv"
    write_csv(path, rows, sep, encoding)
    table = read_yearbook(path, text=["city"])
    assert table.data["gdp"].tolist() == values[: len(table.data)]
    assert table.report.sep == sep


@FILE_SETTINGS
@given(data=st.data(), n=st.integers(1, 10), sep=st.sampled_from(SEPS),
       encoding=st.sampled_from(ENCODINGS), titles=st.integers(0, 3))
def test_every_placeholder_is_reported_once_with_its_line_and_column(tmp_path, data, n, sep,
                                                                     encoding, titles):
    value_cols = ["gdp", "pop", "rd"]
    body = []
    for city in GOOD_CITIES[:n]:
        body.append([city, "2015"] + [data.draw(st.one_of(
            st.sampled_from(PLACEHOLDER_CELLS),
            st.floats(0, 1e9, allow_nan=False).map(repr))) for _ in value_cols])
    blank_after = set(data.draw(st.lists(st.integers(0, n), max_size=3)))
    lines = write_csv(tmp_path / "holes.csv", [["city", "year"] + value_cols] + body, sep,
                      encoding, title_lines=titles, blank_after=blank_after)
    expected = sorted((line, col, row[2 + j]) for line, row in zip(lines, body)
                      for j, col in enumerate(value_cols) if row[2 + j] in PLACEHOLDER_CELLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = load_panel(tmp_path / "holes.csv", unit="city", skiprows=titles)
    got = panel.report.placeholders
    assert sorted(zip(got["line"], got["column"], got["value"])) == expected
    assert panel.report.rows["line"].tolist() == lines
    assert panel.report.encoding in (encoding, "utf-8") and panel.report.sep == sep


@FILE_SETTINGS
@given(data=st.data(), n=st.integers(1, 12), sep=st.sampled_from(SEPS),
       encoding=st.sampled_from(ENCODINGS))
def test_nothing_is_lost_every_data_line_is_used_or_rejected(tmp_path, data, n, sep, encoding):
    body = [[data.draw(st.sampled_from(CITIES[:-2] + ["石家庄"])), data.draw(st.sampled_from(YEARS)),
             data.draw(st.one_of(st.sampled_from(PLACEHOLDER_CELLS),
                                 st.floats(0, 1e6, allow_nan=False).map(repr)))]
            for _ in range(n)]
    blank_after = set(data.draw(st.lists(st.integers(0, n), max_size=2)))
    lines = write_csv(tmp_path / "lost.csv", [["city", "year", "gdp"]] + body, sep, encoding,
                      blank_after=blank_after)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = load_panel(tmp_path / "lost.csv", unit="city", strict=False, merged="drop")
    rep = panel.report
    assert rep.n_input == n == sum(rep.counts.values())
    assert rep.rows["line"].tolist() == lines and rep.rows["row"].tolist() == list(range(1, n + 1))
    used = rep.rows["status"].isin(["matched", "matched_history"]).sum()
    assert used == len(panel.data) and used + len(rep.rejected) == n
    assert sorted(rep.rejected["row"].tolist() + [int(r) for s in panel.data["source_rows"]
                                                  for r in s.split("+")]) == list(range(1, n + 1))


@pytest.mark.parametrize("x", [0.1, -1234567.125, 1e-7, 123456789012345678])
def test_number_text_helper_examples(x):
    assert parse_number(number_text(x, True, True)) == x
