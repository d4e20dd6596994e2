"""ESDA with weights that change by year (issue 21): a WeightsSequence gives each year's
statistic on that year's units with that year's W. Checked against the closed form of Moran's I
and against esda on the year's W directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spatialinno import esda as sesda
from spatialinno.errors import WeightsCodesError, WeightsError
from spatialinno.weights import Weights, WeightsSequence

#: Closed form vs esda: the same arithmetic in another order.
EXACT = 1e-12


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    codes = [f"{110100 + 100 * i}" for i in range(12)]
    rows = [(c, t, float(rng.normal() + 0.3 * i)) for t in (2018, 2019, 2020)
            for i, c in enumerate(codes)]
    df = pd.DataFrame(rows, columns=["adcode", "year", "x"])
    # 2019: one unit missing (e.g. merged away); 2020: another
    return df[~(((df["year"] == 2019) & (df["adcode"] == codes[3]))
                | ((df["year"] == 2020) & (df["adcode"] == codes[7])))].reset_index(drop=True)


@pytest.fixture(scope="module")
def seq():
    return WeightsSequence.economic(_panel(), "x", unit="adcode", time="year")


def _moran(x: np.ndarray, W: np.ndarray) -> float:
    z = x - x.mean()
    return len(x) / W.sum() * float(z @ W @ z) / float(z @ z)


def test_moran_by_year_uses_each_years_w(seq):
    df = _panel()
    res = sesda.moran_by_year(df, "x", seq, permutations=0)
    assert list(res.table["year"]) == [2018, 2019, 2020]
    assert list(res.table["n"]) == [12, 11, 11]
    for year, row in res.table.set_index("year").iterrows():
        g = df[df["year"] == year].sort_values("adcode")
        W = seq.for_period(year, list(g["adcode"])).sparse.toarray()
        assert row["I"] == pytest.approx(_moran(g["x"].to_numpy(), W), abs=EXACT)
        alone = sesda.moran_by_year(g, "x", seq[year], permutations=0)
        assert row["I"] == alone.table["I"].iloc[0]
        assert row["W"].startswith("economic(x)")


def test_seeded_permutations_equal_single_year_runs(seq):
    df = _panel()
    res = sesda.moran_by_year(df, "x", seq, permutations=99, seed=4)
    alone = sesda.moran_by_year(df[df["year"] == 2020], "x", seq[2020], permutations=99, seed=4)
    assert res.table.set_index("year").loc[2020, "p_sim"] == alone.table["p_sim"].iloc[0]


def test_lisa_and_geary_with_sequence(seq):
    df = _panel()
    lisa = sesda.lisa_by_year(df, "x", seq, permutations=99, seed=1)
    assert lisa.table.groupby("year").size().to_dict() == {2018: 12, 2019: 11, 2020: 11}
    assert np.isnan(lisa.s0)
    g = sesda.geary_by_year(df, "x", seq, permutations=0)
    assert list(g.table["n"]) == [12, 11, 11]


def test_sequence_year_mismatch_is_named(seq):
    df = _panel()
    full = Weights.from_sparse(np.ones((12, 12)) - np.eye(12),
                               sorted(df["adcode"].unique()), transform="row")
    bad = WeightsSequence({**dict(seq.items()), 2019: full})
    with pytest.raises(WeightsCodesError, match=r"period 2019.*not observed in 2019: 110400"):
        sesda.moran_by_year(df, "x", bad, permutations=0)
    short = WeightsSequence({t: w for t, w in seq.items() if t != 2020})
    with pytest.raises(WeightsError, match="no W for period 2020"):
        sesda.moran_by_year(df, "x", short, permutations=0)
