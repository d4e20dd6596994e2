"""Reading yearbook files (CSV, Excel, Parquet) into typed tables, with nothing coerced silently.

Yearbook files hold ``—``, ``…``, ``1,234.5``, full-width digits, GBK text and title rows. The
reader turns each cell into a number, a missing value or text by the explicit policy below, and
records what it did on a :class:`ReadReport`; a cell it cannot place is an error that names it.

Numbers
    After Unicode NFKC normalisation (full-width ``１２３４．５``, ``，``, ``－`` and ``％``
    become ASCII; the minus sign U+2212 becomes ``-``) and removal of surrounding spaces
    (including non-breaking, full-width and zero-width spaces), a cell is a number when it reads
    ``[+-]digits[.digits][e[+-]digits]``, where the integer part may group thousands with commas
    (``1,234,567.5``; the comma is never a decimal mark). Integers stay exact (``int64`` columns
    when every cell is an integer and none is missing, else ``float64``).
Placeholders (:data:`PLACEHOLDERS`)
    ``—``, ``——``, ``–``, ``-``, ``--``, ``---``, ``…``, ``……``, ``...``, ``/``, ``／``,
    ``NA``, ``N/A``, ``n.a.``, ``n.a``, ``null``, ``NaN`` (compared after normalisation and
    case-folding), an empty or whitespace-only cell: in a numeric column they become missing
    values, each recorded in ``report.placeholders`` (file, line, row, column, original value)
    and counted in one :class:`~spatialinno.errors.PlaceholderWarning`. Some yearbooks print
    ``—`` for zero: read the yearbook's 符号说明 and edit such cells in the file if so.
Percent signs
    ``12.5%`` is an error by default (``percent="raise"``): whether 12.5% is 12.5 or 0.125 in a
    model is the user's decision. ``percent="points"`` reads it as 12.5, ``percent="fraction"``
    as 0.125; a column that mixes cells with and without ``%`` is an error under every policy.
Column types
    A column whose cells are all numbers or placeholders is numeric. A column in which numbers
    are at least as many as other text cells is numeric with bad cells: a
    :class:`~spatialinno.errors.NumericCellError` names every bad cell (file, line, column,
    value). A column of mostly text (names, provinces, notes) stays text, cell by cell as in the
    file (only empty cells become missing). ``numeric=[...]`` and ``text=[...]`` override the
    rule. Excel cells that already hold numbers are kept as they are; a date, time or boolean in
    a numeric column is a bad cell.
Encodings (:data:`ENCODINGS`)
    Text files are decoded with ``encoding=`` when given; otherwise as UTF-8 (``utf-8-sig`` when
    the file starts with a byte-order mark, which is removed), then GB18030 (a superset of GBK
    and GB2312); a file starting with a UTF-16 byte-order mark (Excel's "Unicode text") is
    UTF-16. The encoding used is ``report.encoding``. A file that decodes under none is a
    :class:`~spatialinno.errors.FileEncodingError` naming the byte offset and its line.
Layout
    ``sep=`` for the CSV separator, detected among :data:`SEPARATORS` (``,``, tab, ``;``) when
    not given (``report.sep``). ``skiprows=k`` skips the first ``k`` lines (title rows);
    ``header=n`` says the header is on line ``n``; ``skiprows=[...]`` skips the listed lines
    anywhere (e.g. a units row under the header). Line numbers are 1-based physical lines as an
    editor shows them (sheet row numbers in Excel), the numbers every message uses. Blank rows
    are skipped and listed in ``report.blank_lines``; a column with neither a name nor a value is
    dropped (``report.dropped_columns``). The file's content, not its extension, decides how it
    is read: an ``.xlsx`` that is really CSV is read as CSV and the other way round; an old binary
    ``.xls`` needs xlrd (else an error says to save it as ``.xlsx`` or CSV).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from itertools import islice, zip_longest
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .errors import (ColumnNotFoundError, DataFileError, DuplicateHeaderError, FileEncodingError,
                     FileFormatError, NumericCellError, OptionError, PlaceholderWarning)

__all__ = ["read_table", "read_yearbook", "YearbookTable", "ReadReport", "parse_number",
           "parse_year", "sniff_format", "warn_placeholders", "PLACEHOLDERS", "ENCODINGS",
           "SEPARATORS", "YEAR_RANGE", "PercentPolicy"]

#: Cells read as missing values in numeric columns (compared after NFKC normalisation, stripping
#: and case-folding). Empty and whitespace-only cells are placeholders too.
PLACEHOLDERS: frozenset[str] = frozenset({
    "—", "——", "–", "-", "--", "---", "…", "……", "...", "/", "／",
    "NA", "N/A", "n.a.", "n.a", "null", "NaN"})
#: Encodings tried, in order, when ``encoding=`` is not given ("utf-8-sig" only for a file that
#: starts with the UTF-8 byte-order mark; a UTF-16 byte-order mark selects "utf-16").
ENCODINGS: tuple[str, ...] = ("utf-8", "utf-8-sig", "gb18030")
#: CSV separators detected when ``sep=`` is not given (the first one wins a tie).
SEPARATORS: tuple[str, ...] = (",", "\t", ";")
#: Calendar years accepted in a time column; others are impossible years.
YEAR_RANGE: tuple[int, int] = (1900, 2100)

PercentPolicy = Literal["raise", "points", "fraction"]
_PERCENT_POLICIES = ("raise", "points", "fraction")
_TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
_EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SUFFIXES = _TEXT_SUFFIXES + _EXCEL_SUFFIXES + (".parquet",)
_NUMBER_RE = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PLAIN_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_STRAY_COMMA_RE = re.compile(r"[+-]?[\d,]*\d,[\d,]*(?:\.\d*)?")
_YEAR_RE = re.compile(r"([+-]?\d+)(\.0*)?\s*年?")
_ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
_EXTRA_CHARS = {0x2212: "-", **{ord(c): None for c in _ZERO_WIDTH}}
_NOT_NUMBERS = ("text", "date", "bool", "stray_comma", "formula", "overflow")
_PREVIEW_LINES = 12
_MESSAGE_LIMIT = 100
_INT64_MAX = 2**63 - 1


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReadReport:
    """How a file was read.

    Attributes
    ----------
    source
        The file path, or ``"<DataFrame>"``.
    format
        What the content turned out to be: ``"csv"``, ``"xlsx"``, ``"xls"``, ``"parquet"`` or
        ``"dataframe"`` (the extension is not trusted).
    encoding, sep
        Encoding and separator of a text file (``None`` otherwise).
    sheet
        Name of the sheet read from a workbook.
    header_line
        Line (sheet row) of the header.
    placeholders
        One row per placeholder cell read as missing in a numeric column: ``source``, ``line``,
        ``row`` (1-based data row, as in the join report), ``column``, ``value`` (as in the file).
    numeric_columns, text_columns
        The type each column was given.
    blank_lines, skipped_lines
        Lines skipped because they are blank, or by ``skiprows``/``header`` (title rows).
    dropped_columns
        1-based positions of columns with neither a name nor a value.
    lines
        Physical line of each data row (``None`` for a DataFrame).
    """

    source: str
    format: str
    encoding: str | None = None
    sep: str | None = None
    sheet: str | None = None
    header_line: int | None = None
    placeholders: pd.DataFrame = field(default_factory=lambda: _placeholder_frame([]))
    numeric_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()
    blank_lines: tuple[int, ...] = ()
    skipped_lines: tuple[int, ...] = ()
    dropped_columns: tuple[int, ...] = ()
    lines: tuple[int, ...] | None = field(default=None, repr=False)
    preview: tuple[tuple[int, tuple[str, ...]], ...] = field(default=(), repr=False)

    def summary(self) -> str:
        """A few lines saying how the file was read."""
        how = [self.format]
        if self.encoding:
            how.append(f"encoding {self.encoding}")
        if self.sep is not None:
            how.append(f"separator {self.sep!r}")
        if self.sheet is not None:
            how.append(f"sheet {self.sheet!r}")
        if self.header_line is not None:
            how.append(f"header on line {self.header_line}")
        lines = [f"Read {self.source}: " + ", ".join(how)]
        lines.append(f"  numeric columns {len(self.numeric_columns)}, text columns "
                     f"{list(self.text_columns)}")
        if len(self.placeholders):
            lines.append(f"  placeholder cells read as missing: {len(self.placeholders)}")
        if self.skipped_lines or self.blank_lines:
            lines.append(f"  lines skipped: {len(self.skipped_lines)} skipped (title lines, skiprows, header), "
                         f"{len(self.blank_lines)} blank")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class YearbookTable:
    """A file read by :func:`read_yearbook`: the typed ``data`` and the :class:`ReadReport`."""

    data: pd.DataFrame
    report: ReadReport


@dataclass
class _Grid:
    """Cells of a text file or sheet under its header, before typing."""

    names: list[str]
    rows: list[list[object]]
    lines: list[int]
    header_line: int
    blank_lines: list[int]
    skipped_lines: list[int]
    dropped_columns: list[int]
    preview: list[tuple[int, tuple[str, ...]]]


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------

def read_table(path: str | Path, *, sheet: str | int | None = None,
               text_columns: Sequence[str] = (), header: int | None = None,
               skiprows: int | Sequence[int] = 0, sep: str | None = None,
               encoding: str | None = None, numeric: Sequence[str] = (),
               text: Sequence[str] = (), percent: PercentPolicy = "raise",
               placeholders: Iterable[str] = PLACEHOLDERS) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a DataFrame by the module's reading policy.

    The same as ``read_yearbook(...).data``, with a
    :class:`~spatialinno.errors.PlaceholderWarning` when placeholder cells were read as missing.
    ``text_columns`` is the earlier name of ``text`` (both are honoured). The file's row order is
    kept; codes in text columns keep their digits (no ``110000.0``, no lost leading zeros).
    See :func:`read_yearbook` for the parameters.
    """
    table = read_yearbook(path, sheet=sheet, header=header, skiprows=skiprows, sep=sep,
                          encoding=encoding, numeric=numeric,
                          text=tuple(_names(text)) + tuple(_names(text_columns)),
                          percent=percent, placeholders=placeholders)
    warn_placeholders(table.report, stacklevel=3)
    return table.data


def read_yearbook(source: str | Path | pd.DataFrame, *, sheet: str | int | None = None,
                  header: int | None = None, skiprows: int | Sequence[int] = 0,
                  sep: str | None = None, encoding: str | None = None,
                  numeric: Sequence[str] = (), text: Sequence[str] = (),
                  percent: PercentPolicy = "raise",
                  placeholders: Iterable[str] = PLACEHOLDERS,
                  required: Mapping[str, str] | None = None) -> YearbookTable:
    """Read a yearbook file (or type the text columns of a DataFrame) without silent coercion.

    Parameters
    ----------
    source
        A ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xlsm``/``.xls`` or ``.parquet`` file (its
        content decides how it is read), or a DataFrame, whose text columns are typed by the same
        rules (its numeric columns and missing values are kept as they are).
    sheet
        Sheet name or 0-based index of a workbook (default: the first sheet).
    header
        1-based line (sheet row) of the header; default: the first non-blank line after
        ``skiprows``.
    skiprows
        Number of lines at the top to skip (title rows), or the 1-based line numbers to skip
        anywhere (e.g. a units row below the header).
    sep
        CSV separator; detected among :data:`SEPARATORS` when not given.
    encoding
        Encoding of a text file; detected by :data:`ENCODINGS` when not given.
    numeric, text
        Columns to read as numbers (every other cell is an error) or as text (kept as written),
        overriding the detection described in the module docstring.
    percent
        ``"raise"`` (default), ``"points"`` (12.5% -> 12.5) or ``"fraction"`` (12.5% -> 0.125).
    placeholders
        Cells read as missing in numeric columns (default :data:`PLACEHOLDERS`; empty cells always).
    required
        Columns that must be in the header, each with its role for the error message (e.g.
        ``{"city": "unit column"}``); a missing one is a
        :class:`~spatialinno.errors.ColumnNotFoundError` showing the first lines as read.

    Returns
    -------
    YearbookTable
        ``.data`` (one row per data line, in file order) and ``.report`` (:class:`ReadReport`).

    Raises
    ------
    DataFileError
        Or one of its subclasses (FileFormatError, FileEncodingError, DuplicateHeaderError,
        ColumnNotFoundError, NumericCellError), each naming the file and the line or cell.
    """
    numeric, text = tuple(_names(numeric)), tuple(_names(text))
    _check_options(numeric, text, percent, header, skiprows, sep)
    marks = _placeholder_keys(placeholders)
    roles = {**{c: "numeric= column" for c in numeric}, **{c: "text= column" for c in text},
             **dict(required or {})}
    if isinstance(source, pd.DataFrame):
        return _type_frame(source.copy(), "<DataFrame>", "dataframe", None, numeric, text,
                           percent, marks, roles)
    path = Path(source)
    fmt = sniff_format(path)
    if fmt == "parquet":
        frame = _read_parquet(path)
        return _type_frame(frame, str(path), fmt, tuple(range(2, len(frame) + 2)), numeric,
                           text, percent, marks, roles)
    if fmt == "csv":
        records, enc, used_sep = _csv_records(path, encoding, sep)
        sheet_name = None
    else:
        records, sheet_name = _excel_records(path, sheet, fmt)
        enc = used_sep = None
    grid = _grid(records, str(path), header, skiprows, excel=fmt != "csv",
                 wanted=list(required or {}))
    return _type_grid(grid, str(path), fmt, enc, used_sep, sheet_name, numeric, text, percent,
                      marks, roles)


def warn_placeholders(report: ReadReport, stacklevel: int = 2, limit: int = 5) -> None:
    """Issue one :class:`~spatialinno.errors.PlaceholderWarning` for the report's placeholders."""
    cells = report.placeholders
    if not len(cells):
        return
    shown = "; ".join(f"{_where(r.line, r.row)}, column {r.column!r}: {r.value!r}"
                      for r in cells.head(limit).itertuples())
    more = f" and {len(cells) - limit} more" if len(cells) > limit else ""
    warnings.warn(f"{report.source}: {len(cells)} placeholder cell(s) of numeric columns read as "
                  f"missing values: {shown}{more} (every one in report.placeholders). If a cell "
                  "should hold a number (some yearbooks print — for zero), fix it in the file",
                  PlaceholderWarning, stacklevel=stacklevel)


def parse_number(cell: object, placeholders: Iterable[str] = PLACEHOLDERS) -> int | float | None:
    """Read one cell by the number policy: a number, or ``None`` for a placeholder.

    Raises :class:`~spatialinno.errors.NumericCellError` for anything else (percent included).

    Examples
    --------
    >>> parse_number("1,234.5"), parse_number("１２３４．５"), parse_number("—")
    (1234.5, 1234.5, None)
    """
    kind, value = _classify(cell, _placeholder_keys(placeholders), blank_is_placeholder=True)
    if kind == "number":
        return value
    if kind in ("placeholder", "missing"):
        return None
    raise NumericCellError(f"{cell!r} is not a number ({_reason(kind)}); expected e.g. "
                           "1234.5, 1,234.5, １２３４．５ or a placeholder such as —")


def parse_year(cell: object) -> tuple[int | None, str]:
    """Read one year cell: ``(year, "")`` or ``(None, reason)``.

    Accepted: whole numbers in :data:`YEAR_RANGE` written as ``2011``, ``2011.0``, ``２０１１``
    or ``2011年`` (a yearbook's year column). Everything else, including ``2011.5``, ``0``,
    ``-5``, ``20115`` and ``2011-2012``, is an impossible year with the reason given.
    """
    if _is_missing(cell):
        return None, "empty"
    if isinstance(cell, bool | np.bool_):
        return None, f"{cell!r} is not a year"
    if isinstance(cell, int | np.integer):
        return _year_in_range(int(cell), cell)
    if isinstance(cell, float | np.floating):
        if not float(cell).is_integer():
            return None, f"{cell!r} is not a whole year"
        return _year_in_range(int(cell), cell)
    text = _normalise(str(cell))
    if text.casefold() in _DEFAULT_KEYS:
        return None, f"the placeholder {cell!r} (a missing year)"
    m = _YEAR_RE.fullmatch(text)
    if m is None:
        if _NUMBER_RE.fullmatch(text):
            return None, f"{cell!r} is not a whole year"
        return None, f"{cell!r} is not a year (expected e.g. 2015, 2015.0 or 2015年)"
    return _year_in_range(int(m.group(1)), cell)


def sniff_format(path: Path) -> str:
    """What a file is by its first bytes: ``"csv"``, ``"xlsx"``, ``"xls"`` or ``"parquet"``.

    Raises :class:`~spatialinno.errors.DataFileError` (or :class:`FileFormatError`) naming the
    file when it is missing, a directory, empty, of an unsupported type, or not a table.
    """
    if not path.exists():
        raise DataFileError(f"{path}: file not found (expected a CSV, Excel or Parquet file; "
                            "check the path and the working directory)")
    if path.is_dir():
        raise FileFormatError(f"{path}: is a directory, expected a CSV, Excel or Parquet file; "
                              "give the path of the file inside it")
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise DataFileError(f"{path}: unsupported file type {suffix!r}; expected .csv, .txt, "
                            ".tsv, .xlsx, .xlsm, .xls or .parquet (or pass a DataFrame)")
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise FileFormatError(f"{path}: the file is empty (expected a header line and data rows)")
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"PAR1"):
        return "parquet"
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        raise FileFormatError(f"{path}: is a web page or XML document saved with a {suffix} "
                              "extension, not a table file; open it in Excel or LibreOffice "
                              "and save it as .xlsx or as CSV (UTF-8)")
    return "csv"


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------

def _names(columns: Sequence[str] | str | None) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _check_options(numeric: tuple[str, ...], text: tuple[str, ...], percent: str,
                   header: int | None, skiprows: int | Sequence[int], sep: str | None) -> None:
    both = sorted(set(numeric) & set(text))
    if both:
        raise OptionError(f"column(s) {both} are in both numeric= and text=; give each once")
    if percent not in _PERCENT_POLICIES:
        raise OptionError(f"percent={percent!r}; expected one of {list(_PERCENT_POLICIES)}")
    if header is not None and (isinstance(header, bool) or not isinstance(header, int)
                               or header < 1):
        raise OptionError(f"header={header!r}; expected the 1-based line number of the header "
                          "row as an editor shows it (1 = first line)")
    if isinstance(skiprows, bool) or not isinstance(skiprows, int | Sequence) \
            or isinstance(skiprows, str):
        raise OptionError(f"skiprows={skiprows!r}; expected a number of lines or a list of "
                          "1-based line numbers")
    if isinstance(skiprows, int):
        if skiprows < 0:
            raise OptionError(f"skiprows={skiprows}; expected 0 or more lines")
        if skiprows and header is not None:
            raise OptionError(f"skiprows={skiprows} and header={header}: give one of them "
                              "(header= already skips the lines above it)")
    elif not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in skiprows):
        raise OptionError(f"skiprows={list(skiprows)!r}; expected 1-based line numbers")
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise OptionError(f"sep={sep!r}; expected one character such as ',', '\\t' or ';'")


def _placeholder_keys(placeholders: Iterable[str]) -> frozenset[str]:
    if isinstance(placeholders, str):
        placeholders = (placeholders,)
    return frozenset(_normalise(str(p)).casefold() for p in placeholders) | {""}


# --------------------------------------------------------------------------------------------
# Step 1: bytes -> records (line, cells)
# --------------------------------------------------------------------------------------------

def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise FileFormatError(f"{path}: starts like a zip/xlsx file but is damaged ({exc}); "
                              "re-save it from Excel as .xlsx or as CSV") from exc
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "content.xml" in names:
        raise FileFormatError(f"{path}: is an OpenDocument spreadsheet (.ods), not .xlsx; save "
                              "it as .xlsx or as CSV (UTF-8)")
    raise FileFormatError(f"{path}: is a zip archive but not an Excel workbook (no "
                          "xl/workbook.xml inside); unpack it and read the table file")


def _decode(data: bytes, label: str, encoding: str | None) -> tuple[str, str]:
    """Decode by ``encoding`` or by the fallback order; return (text, encoding used)."""
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise OptionError(f"encoding={encoding!r} is not a known codec; expected e.g. "
                              "'utf-8', 'gb18030', 'gbk'") from exc
        except UnicodeDecodeError as exc:
            raise FileEncodingError(
                f"{label}: cannot be decoded as {encoding}: {_bad_byte(data, exc)}; pass the "
                f"file's real encoding, or leave encoding= out to try {', '.join(ENCODINGS)}",
                exc.start) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    elif data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    else:
        candidates = tuple(e for e in ENCODINGS if e != "utf-8-sig")
    failures = []
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as exc:
            failures.append((enc, exc))
    detail = "; ".join(f"as {enc}: {_bad_byte(data, exc)}" for enc, exc in failures)
    raise FileEncodingError(
        f"{label}: is not text in any of the encodings tried ({detail}). Expected a UTF-8 or "
        "GB18030/GBK text file; pass encoding='...' if you know the file's encoding, or re-save "
        "it as CSV (UTF-8)", failures[0][1].start)


def _bad_byte(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data[: exc.start].count(b"\n") + 1
    return f"byte {exc.start} (0x{data[exc.start]:02x}, line {line}) is invalid"


def _csv_records(path: Path, encoding: str | None,
                 sep: str | None) -> tuple[list[tuple[int, list[object]]], str, str]:
    """Decode a text file and split it into records, each with the line it starts on."""
    text, enc = _decode(path.read_bytes(), str(path), encoding)
    sep = sep or _detect_sep(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[tuple[int, list[object]]] = []
    end = 0
    try:
        for cells in reader:
            records.append((end + 1, list(cells)))
            end = reader.line_num
    except csv.Error as exc:
        raise FileFormatError(f"{path}, line {end + 1}: cannot be split into cells ({exc}); "
                              "check the file's encoding (encoding=) and separator (sep=)") from exc
    return records, enc, sep


def _detect_sep(text: str) -> str:
    """The candidate separator that splits the most records into the same number (>1) of cells.

    Records it leaves whole (title lines) do not count.
    """
    sample = text[:65536]
    best, best_score = SEPARATORS[0], (0, 0)
    for cand in SEPARATORS:
        try:
            counts = [len(r) for r in csv.reader(io.StringIO(sample, newline=""), delimiter=cand)
                      if len(r) > 1][:50]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=lambda k: (counts.count(k), k))
        score = (counts.count(mode), mode)
        if score > best_score:
            best, best_score = cand, score
    return best


class _Formula(str):
    """A workbook cell holding a formula but no stored result (shown as its formula text)."""


def _excel_records(path: Path, sheet: str | int | None,
                   fmt: str) -> tuple[list[tuple[int, list[object]]], str]:
    """Rows of one sheet, each with its sheet row number.

    Empty cells are checked for formulas without a stored result (a workbook written by a
    program and never recalculated), which are :class:`_Formula` cells, never missing values.
    """
    if fmt == "xls":
        return _xls_records(path, sheet)
    records, name = _sheet_rows(path, sheet, data_only=True)
    if any(c is None for _, row in records for c in row):
        formulas, _ = _sheet_rows(path, name, data_only=False)
        records = [(line, [_Formula(_formula_text(f)) if v is None and _formula_text(f) else v
                           for v, f in zip_longest(row, frow)])
                   for (line, row), (_, frow) in zip(records, formulas, strict=False)]
    return records, name


def _formula_text(cell: object) -> str:
    text = getattr(cell, "text", cell)  # ArrayFormula keeps its text in .text
    return text if isinstance(text, str) and text.startswith("=") else ""


def _sheet_rows(path: Path, sheet: str | int | None,
                data_only: bool) -> tuple[list[tuple[int, list[object]]], str]:
    import openpyxl

    with path.open("rb") as fh:  # a file object: openpyxl would refuse a .csv name
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=data_only)
        except Exception as exc:  # openpyxl raises several types for damaged workbooks
            raise FileFormatError(f"{path}: the workbook cannot be opened ({type(exc).__name__}: "
                                  f"{exc}); re-save it from Excel as .xlsx or CSV") from exc
        try:
            name = _pick_sheet(wb.sheetnames, sheet, str(path))
            ws = wb[name]
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()  # do not trust the file's stored dimension
            rows = [(i, list(row)) for i, row in
                    enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), 1)]
        finally:
            wb.close()
    return rows, name


def _xls_records(path: Path, sheet: str | int | None) -> tuple[list[tuple[int, list[object]]], str]:
    try:
        import xlrd  # noqa: F401
    except ImportError:
        raise FileFormatError(
            f"{path}: is an old binary Excel workbook (.xls, or a password-protected workbook), "
            "which needs the optional package xlrd; open it in Excel or LibreOffice and save it "
            "as .xlsx or as CSV (UTF-8), or pip install xlrd") from None
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="xlrd")
    except Exception as exc:  # xlrd raises its own types
        raise FileFormatError(f"{path}: the .xls workbook cannot be read ({type(exc).__name__}: "
                              f"{exc}); save it as .xlsx or CSV") from exc
    name = _pick_sheet(list(book), sheet, str(path))
    frame = book[name]
    rows = [[None if _is_missing(v) else v for v in row] for row in frame.itertuples(index=False)]
    return list(enumerate(rows, 1)), name


def _pick_sheet(names: list[str], sheet: str | int | None, label: str) -> str:
    if sheet is None:
        sheet = 0
    if isinstance(sheet, int) and not isinstance(sheet, bool) and 0 <= sheet < len(names):
        return names[sheet]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    raise DataFileError(f"{label}: no sheet {sheet!r}; the workbook's sheets are {names} "
                        "(give a name or a 0-based index)")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types; name the file
        raise FileFormatError(f"{path}: the Parquet file cannot be read ({type(exc).__name__}: "
                              f"{exc})") from exc


# --------------------------------------------------------------------------------------------
# Step 2: records -> grid (header, data rows, physical lines)
# --------------------------------------------------------------------------------------------

def _is_blank(cell: object) -> bool:
    if not isinstance(cell, str):
        return cell is None
    if cell.isascii():  # fast path: ASCII is unchanged by NFKC
        return cell.strip() == ""
    return _normalise(cell) == ""


def _show(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _grid(records: list[tuple[int, list[object]]], label: str, header: int | None,
          skiprows: int | Sequence[int], *, excel: bool, wanted: list[str]) -> _Grid:
    """Find the header, skip title and blank lines, check names, keep each row's line."""
    filled = (r for r in records if not all(_is_blank(c) for c in r[1]))
    preview = [(line, tuple(map(_show, cells))) for line, cells in islice(filled, _PREVIEW_LINES)]
    skip = set(skiprows) if not isinstance(skiprows, int) else set(range(1, skiprows + 1))
    skipped, blank, body = [], [], []
    head: tuple[int, list[object]] | None = None
    titles = _title_lines(records, skip) if header is None and not skip else set()
    for line, cells in records:
        if line in skip or line in titles or (header is not None and head is None and line < header):
            skipped.append(line)
        elif all(_is_blank(c) for c in cells):
            blank.append(line)
        elif head is None:
            if header is not None and line != header:
                break
            head = (line, cells)
        else:
            body.append((line, cells))
    hint = _layout_hint(preview, wanted)
    if head is None:
        raise _no_header(label, header, records, hint)
    if not body:
        raise FileFormatError(f"{label}: has a header (line {head[0]}: "
                              f"{' | '.join(_show(c) for c in head[1])}) but no data rows; "
                              "expected at least one row of data below it")
    return _named_grid(head, body, label, excel, preview, blank, skipped, hint)


def _title_lines(records: list[tuple[int, list[object]]], skip: set[int]) -> set[int]:
    """Yearbook title lines above the header: leading lines with a single filled cell, when the
    first line after them has two or more (a one-column file is never affected)."""
    titles: set[int] = set()
    for line, cells in records:
        filled = sum(not _is_blank(c) for c in cells)
        if filled == 0:
            continue
        if filled >= 2:
            return titles
        titles.add(line)
    return set()  # every line has one cell: a one-column table, not titles


def _no_header(label: str, header: int | None, records: list, hint: str) -> FileFormatError:
    if header is None:
        return FileFormatError(f"{label}: has no header line (only blank or skipped lines); "
                               "check skiprows=")
    return FileFormatError(f"{label}: header={header}, but line {header} is blank, inside a "
                           "quoted cell or past the end of the file (the file has "
                           f"{records[-1][0] if records else 0} lines).\n" + hint)


def _named_grid(head: tuple[int, list[object]], body: list[tuple[int, list[object]]], label: str,
                excel: bool, preview: list, blank: list[int], skipped: list[int],
                hint: str) -> _Grid:
    header_line, raw_names = head
    names = [_header_name(c) for c in raw_names]
    width = max(len(names), max(len(cells) for _, cells in body))
    if not excel:
        _check_ragged(body, len(names), label, header_line, hint)
    names += [""] * (width - len(names))
    rows = [list(cells) + [None] * (width - len(cells)) for _, cells in body]
    _check_duplicates(names, label, header_line, excel)
    keep, dropped = _named_positions(names, rows, body, label, header_line, excel, hint)
    return _Grid(names=[names[j] for j in keep], rows=[[r[j] for j in keep] for r in rows], lines=[line for line, _ in body],
                 header_line=header_line, blank_lines=blank, skipped_lines=skipped,
                 dropped_columns=dropped, preview=preview)


def _header_name(cell: object) -> str:
    """A header cell as written, without surrounding (also full-width, zero-width) spaces; never
    otherwise changed (full-width brackets in 城市（全市） stay)."""
    return _show(cell).strip().strip(_ZERO_WIDTH).strip()


def _check_ragged(body: list[tuple[int, list[object]]], n_names: int, label: str,
                  header_line: int, hint: str) -> None:
    """CSV rows with more non-empty cells than the header has names are misaligned."""
    long = [(line, cells) for line, cells in body
            if len(cells) > n_names and not all(_is_blank(c) for c in cells[n_names:])]
    if not long:
        return
    shown = "\n".join(f"  line {line}: {len(cells)} cells: {' | '.join(map(_show, cells))}"
                      for line, cells in long[:10]) + ("\n  ..." if len(long) > 10 else "")
    raise FileFormatError(
        f"{label}: {len(long)} row(s) have more cells than the header (line {header_line}) has "
        f"names ({n_names}):\n{shown}\nExpected one cell per column. A number with a thousands "
        "separator must be quoted in a comma-separated file (\"1,234.5\"); otherwise check the "
        "separator (sep=) and where the header is.\n" + hint)


def _column_label(position: int, excel: bool) -> str:
    if excel:
        from openpyxl.utils import get_column_letter
        return f"{position} ({get_column_letter(position)})"
    return str(position)


def _check_duplicates(names: list[str], label: str, header_line: int, excel: bool) -> None:
    seen: dict[str, list[int]] = {}
    for j, name in enumerate(names, 1):
        if name:
            seen.setdefault(name, []).append(j)
    dups = {n: pos for n, pos in seen.items() if len(pos) > 1}
    if dups:
        where = "; ".join(f"{n!r} in columns {', '.join(_column_label(p, excel) for p in pos)}"
                          for n, pos in dups.items())
        raise DuplicateHeaderError(
            f"{label}: the header (line {header_line}) names several columns alike: {where}. "
            "Expected unique column names (they are never renamed silently); rename the "
            "columns in the file, e.g. gdp_2015 and gdp_2016", dups)


def _named_positions(names: list[str], rows: list[list[object]], body: list, label: str,
                     header_line: int, excel: bool, hint: str) -> tuple[list[int], list[int]]:
    """Column indices to keep; unnamed columns are dropped when empty, an error otherwise."""
    keep, dropped, bad = [], [], []
    for j, name in enumerate(names):
        if name:
            keep.append(j)
            continue
        filled = [(body[i][0], r[j]) for i, r in enumerate(rows) if not _is_blank(r[j])]
        if filled:
            bad.append((j + 1, filled[0]))
        else:
            dropped.append(j + 1)
    if bad:
        shown = "; ".join(f"column {_column_label(p, excel)} (e.g. line {line}: {_show(v)!r})"
                          for p, (line, v) in bad)
        raise FileFormatError(
            f"{label}: column(s) without a name in the header (line {header_line}) hold values: "
            f"{shown}. Expected a name for every column with data; name them in the file, or "
            "tell where the header is.\n" + hint)
    return keep, dropped


def _layout_hint(preview: Sequence[tuple[int, tuple[str, ...]]], wanted: Sequence[str]) -> str:
    """The first lines as read, and which ``header=`` would put ``wanted`` columns in the header."""
    shown = "\n".join(f"  line {line}: {' | '.join(cells)}" for line, cells in preview[:8])
    text = f"The first lines as read:\n{shown}\n" if shown else ""
    wanted = [w for w in wanted if w]
    for line, cells in preview:
        names = {_header_name(c) for c in cells}
        if wanted and all(w in names for w in wanted):
            return text + (f"Line {line} holds {', '.join(map(repr, wanted))}: pass "
                           f"header={line} (or skiprows={line - 1}).")
    return text + ("If the header is not on the first line (yearbook title rows), pass "
                   "header=<its line number as shown> or skiprows=<number of title lines>; "
                   "for tab or semicolon files pass sep=.")


# --------------------------------------------------------------------------------------------
# Step 3: cells -> numbers, placeholders or text
# --------------------------------------------------------------------------------------------

def _normalise(text: str) -> str:
    if text.isascii():  # fast path: ASCII is unchanged by NFKC
        return text.strip()
    return unicodedata.normalize("NFKC", text).translate(_EXTRA_CHARS).strip()


_DEFAULT_KEYS = _placeholder_keys(PLACEHOLDERS)


def _is_missing(cell: object) -> bool:
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return True
    return isinstance(cell, float | np.floating) and math.isnan(cell)


def _classify(cell: object, marks: frozenset[str], *,
              blank_is_placeholder: bool) -> tuple[str, int | float | None]:
    """("number", v) | ("percent", v) | ("placeholder", None) | ("missing", None) |
    ("text" | "date" | "bool", None)."""
    if type(cell) is str and _PLAIN_RE.fullmatch(cell):  # fast path: 12, -3.5, 1e6
        return _number(cell)
    if isinstance(cell, _Formula):
        return "formula", None
    if _is_missing(cell):
        return ("placeholder" if blank_is_placeholder else "missing"), None
    if isinstance(cell, bool | np.bool_):
        return "bool", None
    if isinstance(cell, int | float | np.integer | np.floating):
        return "number", cell.item() if isinstance(cell, np.generic) else cell
    if isinstance(cell, datetime | date | time | pd.Timestamp):
        return "date", None
    text = _normalise(str(cell))
    if text.casefold() in marks:
        return "placeholder", None
    if _NUMBER_RE.fullmatch(text):
        return _number(text)
    if text.endswith("%") and _NUMBER_RE.fullmatch(text[:-1].rstrip()):
        kind, value = _number(text[:-1].rstrip())
        return ("percent" if kind == "number" else kind), value
    if _STRAY_COMMA_RE.fullmatch(text):
        return "stray_comma", None
    return "text", None


def _number(text: str) -> tuple[str, int | float | None]:
    """("number", value) of a cell matching the number pattern; ("overflow", None) if a float
    would be infinite (1e999)."""
    plain = text.replace(",", "") if "," in text else text
    if "." in plain or "e" in plain or "E" in plain:
        value = float(plain)
        return ("number", value) if math.isfinite(value) else ("overflow", None)
    return "number", int(plain)


def _reason(kind: str) -> str:
    return {
        "percent": "a percent sign: the scale is not guessed; remove the % in the file, or pass "
                   "percent='points' (12.5% -> 12.5) or percent='fraction' (12.5% -> 0.125)",
        "date": "a date or time, not a number (an Excel cell formatted as a date?)",
        "bool": "a boolean, not a number",
        "overflow": "a number too large for a float (it would be infinite)",
        "formula": "a formula without a stored result (the workbook was written by a program); "
                   "open and save it in Excel or LibreOffice so that the values are stored",
        "mixed_percent": "a percent sign in a column whose other numbers have none: mixed scales",
        "stray_comma": "a comma not grouping three digits (a decimal comma?); the comma is read "
                       "only as a thousands separator (1,234.5); write decimals with a point",
    }.get(kind, "not a number or a placeholder for missing")


@dataclass
class _Column:
    """One column typed: its values, placeholder rows and bad cells (row index, reason kind)."""

    numeric: bool
    values: object
    placeholder_rows: list[int]
    bad: list[tuple[int, str]]


def _type_column(cells: list[object], force: str | None, percent: str, marks: frozenset[str],
                 from_file: bool) -> _Column:
    kinds = [_classify(c, marks, blank_is_placeholder=from_file) for c in cells]
    n_num = sum(k in ("number", "percent") for k, _ in kinds)
    n_other = sum(k in _NOT_NUMBERS for k, _ in kinds)
    numeric = force == "numeric" or (force is None and (n_other == 0 or n_num >= n_other))
    if not numeric:
        return _Column(False, _text_values(cells) if from_file else None, [], [])
    bad = [(i, k) for i, (k, _) in enumerate(kinds) if k in _NOT_NUMBERS]
    n_pct = sum(k == "percent" for k, _ in kinds)
    if n_pct and percent == "raise":
        bad += [(i, "percent") for i, (k, _) in enumerate(kinds) if k == "percent"]
    elif n_pct and n_pct < n_num:
        bad += [(i, "mixed_percent") for i, (k, _) in enumerate(kinds) if k == "percent"]
    scale = 0.01 if percent == "fraction" else 1.0
    values = [v * scale if k == "percent" else v for k, v in kinds]
    holes = [i for i, (k, _) in enumerate(kinds) if k == "placeholder"]
    return _Column(True, _numeric_values(values, n_pct > 0), holes, sorted(bad))


def _numeric_values(values: list[int | float | None], percent: bool) -> np.ndarray:
    ints = not percent and all(isinstance(v, int) and abs(v) <= _INT64_MAX for v in values)
    if ints:
        return np.array(values, dtype=np.int64)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _text_values(cells: list[object]) -> list[object]:
    """Text cells of a file as written; numbers (Excel) as their digits, blanks missing."""
    return [None if _is_blank(c) else _show(c) if isinstance(c, int | float) else c
            for c in cells]


def _type_grid(grid: _Grid, label: str, fmt: str, encoding: str | None, sep: str | None,
               sheet: str | None, numeric: tuple[str, ...], text: tuple[str, ...], percent: str,
               marks: frozenset[str], roles: Mapping[str, str]) -> YearbookTable:
    frame = pd.DataFrame({name: [r[j] for r in grid.rows] for j, name in enumerate(grid.names)},
                         dtype=object)
    table = _type_frame(frame, label, fmt, tuple(grid.lines), numeric, text, percent, marks,
                        roles, from_file=True, preview=grid.preview)
    report = replace(table.report, encoding=encoding, sep=sep, sheet=sheet,
                     header_line=grid.header_line, blank_lines=tuple(grid.blank_lines),
                     skipped_lines=tuple(grid.skipped_lines),
                     dropped_columns=tuple(grid.dropped_columns))
    return YearbookTable(table.data, report)


def _type_frame(frame: pd.DataFrame, label: str, fmt: str, lines: tuple[int, ...] | None,
                numeric: tuple[str, ...], text: tuple[str, ...], percent: str,
                marks: frozenset[str], roles: Mapping[str, str], *, from_file: bool = False,
                preview: list | None = None) -> YearbookTable:
    """Type every column by the policy; raise one NumericCellError naming all bad cells."""
    _check_frame_columns(frame, label, roles, preview or [])
    out, holes, bad, num_cols, text_cols = {}, [], [], [], []
    for col in frame.columns:
        series = frame[col]
        force = "numeric" if col in numeric else "text" if col in text else None
        parseable = from_file or pd.api.types.is_object_dtype(series) \
            or pd.api.types.is_string_dtype(series)
        if not parseable or (force == "text" and not from_file):
            out[col] = series
            (num_cols if pd.api.types.is_numeric_dtype(series) else text_cols).append(col)
            continue
        typed = _type_column(series.tolist(), force, percent, marks, from_file)
        if typed.numeric:
            out[col] = pd.Series(typed.values, index=frame.index, dtype=typed.values.dtype)
        else:  # a DataFrame's text column is kept as it is
            out[col] = pd.Series(typed.values, index=frame.index) if from_file else series
        (num_cols if typed.numeric else text_cols).append(col)
        holes += [(i, col, series.iloc[i]) for i in typed.placeholder_rows]
        bad += [(i, col, series.iloc[i], kind) for i, kind in typed.bad]
    if bad:
        raise _numeric_cell_error(label, lines, bad, frame)
    data = pd.DataFrame(out, index=frame.index).reset_index(drop=True)
    placeholders = _placeholder_frame([(label, _line(lines, i), i + 1, c, _show(v))
                                       for i, c, v in sorted(holes, key=lambda h: h[0])])
    report = ReadReport(source=label, format=fmt, placeholders=placeholders,
                        numeric_columns=tuple(num_cols), text_columns=tuple(text_cols),
                        lines=lines, preview=tuple(preview or ()))
    return YearbookTable(data, report)


def _check_frame_columns(frame: pd.DataFrame, label: str, roles: Mapping[str, str],
                         preview: list) -> None:
    cols = [str(c) for c in frame.columns]
    dup = pd.Index(cols)[pd.Index(cols).duplicated()].unique().tolist()
    if dup:
        pos = {d: [j + 1 for j, c in enumerate(cols) if c == d] for d in dup}
        raise DuplicateHeaderError(f"{label}: several columns share a name: "
                                   + "; ".join(f"{d!r} in columns {p}" for d, p in pos.items())
                                   + ". Expected unique column names; rename them", pos)
    absent = [c for c in roles if c not in frame.columns]
    if absent:
        what = "; ".join(f"no column {c!r} (the {roles[c]})" for c in absent)
        hint = "\n" + _layout_hint(preview, absent) if preview else ""
        raise ColumnNotFoundError(f"{label}: {what}; columns are {cols}{hint}")


def _line(lines: tuple[int, ...] | None, i: int) -> int | None:
    return None if lines is None else lines[i]


def _where(line: object, row: int) -> str:
    return f"row {row}" if line is None or pd.isna(line) else f"line {int(line)}"


def _placeholder_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["source", "line", "row", "column", "value"])
    frame["line"] = pd.array(frame["line"].tolist(), dtype="Int64")
    frame["row"] = frame["row"].astype("int64")
    return frame


def _numeric_cell_error(label: str, lines: tuple[int, ...] | None,
                        bad: list[tuple[int, str, object, str]],
                        frame: pd.DataFrame) -> NumericCellError:
    bad = sorted(bad, key=lambda b: (b[0], list(frame.columns).index(b[1])))
    cells = pd.DataFrame([(label, _line(lines, i), i + 1, c, _show(v), _reason(k))
                          for i, c, v, k in bad],
                         columns=["source", "line", "row", "column", "value", "reason"])
    cells["line"] = pd.array(cells["line"].tolist(), dtype="Int64")
    shown = [f"  {label}, {_where(r.line, r.row)}, column {r.column!r}: {r.value!r} ({r.reason})"
             for r in cells.head(_MESSAGE_LIMIT).itertuples()]
    if len(cells) > _MESSAGE_LIMIT:
        shown.append(f"  ... and {len(cells) - _MESSAGE_LIMIT} more (every one in error.cells)")
    columns = list(dict.fromkeys(cells["column"]))
    return NumericCellError(
        f"{label}: {len(cells)} cell(s) of numeric column(s) {columns} are neither numbers nor "
        "placeholders of missing values:\n" + "\n".join(shown) + "\n"
        "Expected numbers such as 1234.5, 1,234.5 or １２３４．５, or a placeholder for missing "
        "(—, …, NA, N/A, /, empty ...). Fix these cells in the file; or pass text="
        f"{columns!r} if a column holds text; or placeholders=PLACEHOLDERS | {{'<marker>'}} if "
        "a marker means missing.", cells)


# --------------------------------------------------------------------------------------------
# Years
# --------------------------------------------------------------------------------------------

def _year_in_range(year: int, cell: object) -> tuple[int | None, str]:
    lo, hi = YEAR_RANGE
    if lo <= year <= hi:
        return year, ""
    return None, f"{cell!r} is not a possible calendar year (expected {lo}-{hi})"
