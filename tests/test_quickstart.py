"""`spatialinno check` and `spatialinno init` -> `run` on a messy yearbook file, end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spatialinno.cli import main
from spatialinno.quickstart import check_file, detect_columns

CITIES = ["北京市", "天津市", "石家庄市", "唐山市", "保定市", "南京市", "无锡市", "苏州市", "杭州市",
          "宁波市", "合肥市", "济南市", "青岛市", "郑州市", "武汉市", "长沙市", "广州市", "深圳市"]


def messy_yearbook(folder) -> object:
    """A GBK CSV as yearbooks are exported: a title line, thousands separators in quotes, a
    placeholder, an old name (襄樊 before 2011), an abolished unit (巢湖 in 2010-2011) and a
    misspelt row."""
    rng = np.random.default_rng(7)
    lines = ["中国城市统计年鉴（摘录） 单位：亿元，万人", "城市,年份,地区生产总值,年末户籍人口,专利授权数"]
    for year in (2010, 2011, 2012):
        for city in CITIES + (["襄樊市"] if year == 2010 else ["襄阳市"]) + (
                ["巢湖市"] if year <= 2011 else []) + ["北平市"]:
            gdp = f'"{rng.uniform(1000, 20000):,.1f}"'
            pop = "—" if (city, year) == ("唐山市", 2011) else f"{rng.uniform(300, 2000):.0f}"
            lines.append(f"{city},{year},{gdp},{pop},{rng.integers(100, 9000)}")
    path = folder / "yearbook.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path


def test_detect_columns_on_a_yearbook(tmp_path):
    frame = pd.DataFrame({"城市": ["北京市", "天津市"], "年份": [2010, 2010], "gdp": [1.0, 2.0]})
    assert detect_columns(frame) == ("城市", "年份")


def test_check_reports_every_row(tmp_path):
    res = check_file(messy_yearbook(tmp_path))
    assert (res.unit, res.time) == ("城市", "年份") and not res.ok
    text = res.text
    assert "encoding gb18030" in text and "header on line 2" in text
    assert "'襄樊市' (2010) -> 420600 襄阳市" in text           # matched through history
    assert "巢湖市 (341400) was abolished" in text              # dropped, with the reason
    assert text.count("unmatched: no unit of the registry") == 3  # 北平市 in each year
    assert "column '年末户籍人口': '—'" in text                 # placeholder named
    rep = res.panel.report
    assert rep.n_input == len(rep.rows) == 3 * (len(CITIES) + 1) + 2 + 3


def test_check_cli_exit_codes(tmp_path, capsys):
    assert main(["check", str(messy_yearbook(tmp_path))]) == 1  # rows not joined: printed
    assert "not joined (5 rows)" in capsys.readouterr().out
    ok = tmp_path / "ok.csv"
    ok.write_text("city,year,gdp\n北京,2015,1.0\n天津,2015,2.0\n", encoding="utf-8")
    assert main(["check", str(ok)]) == 0
    assert "OK: every row joined" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "nope.csv")]) == 2


def test_init_then_run_then_verify(tmp_path, capsys):
    data = messy_yearbook(tmp_path)
    assert main(["init", str(data)]) == 0
    analysis = tmp_path / "yearbook.toml"
    text = analysis.read_text(encoding="utf-8")
    assert 'unit = "城市"' in text and "strict = false" in text and "[[models]]" in text
    assert main(["init", str(data)]) == 2  # never overwrites without --force
    out = tmp_path / "results"
    assert main(["run", str(analysis), "--out", str(out), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "tables/join_rejected.csv" in manifest["outputs"]
    assert "tables/descriptives.csv" in manifest["outputs"]
    assert any(k.startswith("tables/effects_sdm") for k in manifest["outputs"])
    rejected = pd.read_csv(out / "tables" / "join_rejected.csv", comment="#")
    assert len(rejected) == 5
    assert main(["verify", str(out)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("argv, message", [
    (["--unit", "省份"], "--unit '省份': no such column"),
    (["--time", "year"], "--time 'year': no such column"),
])
def test_given_columns_must_exist(tmp_path, capsys, argv, message):
    assert main(["check", str(messy_yearbook(tmp_path)), *argv]) == 2
    assert message in capsys.readouterr().err
