"""Spillovers within vs between agglomerations: decomposition of the effects matrix, the two-W
model, heterogeneity tables and the agglomeration map.

References are algebraic: the dense effects matrix S_k = (I - rho W)^-1 (b_k I + theta_k W)
built by brute force, and the eigenvalue formulas of spatialinno.models.effects on the very
same parameter draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from spatialinno import agglomerations as ag
from spatialinno.models import fit_array
from spatialinno.models.effects import _effects_matrix, source_effects

IDENTITY_TOL = 1e-10   # within + between + outside = indirect (pure summation rounding)
REFERENCE_TOL = 1e-10  # vs the eigenvalue formulas / brute-force dense S (n <= 80)
N_SMALL, T_SMALL = 60, 6


def _points(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 2))


def knn(n: int, k: int = 5, seed: int = 0) -> sp.csr_matrix:
    xy = _points(n, seed)
    _, nb = cKDTree(xy).query(xy, k + 1)
    return sp.csr_matrix((np.full(n * k, 1.0 / k), (np.repeat(np.arange(n), k),
                                                       nb[:, 1:].ravel())), shape=(n, n))


def sym_rowstd(n: int, k: int = 4, seed: int = 0) -> sp.csr_matrix:
    """Row-standardised symmetric kNN pattern (W = D^-1 C, C symmetric binary)."""
    xy = _points(n, seed)
    _, nb = cKDTree(xy).query(xy, k + 1)
    C = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nb[:, 1:].ravel())),
                      shape=(n, n))
    C = ((C + C.T) > 0).astype(float)
    return sp.csr_matrix(C.multiply(1.0 / C.sum(axis=1)))


def simulate(W: sp.csr_matrix, T: int, rho: float, beta=(1.0, -0.5), theta=(0.5, 0.3),
             seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = W.shape[0]
    X = rng.standard_normal((T, n, 2))
    A = np.eye(n) - rho * W.toarray()
    mu = rng.standard_normal(n)
    y = np.empty((T, n))
    for t in range(T):
        xb = X[t] @ np.asarray(beta) + (W @ X[t]) @ np.asarray(theta)
        y[t] = np.linalg.solve(A, xb + mu + 0.5 * rng.standard_normal(n))
    return y, X


def random_groups(n: int, G: int = 4, outside: int = 10, seed: int = 3) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, G, n)
    keep = rng.permutation(n)[outside:]
    return {str(i): f"g{lab[i]}" for i in sorted(keep)}


@pytest.fixture(scope="module")
def sdm_fit():
    W = sym_rowstd(N_SMALL)
    y, X = simulate(W, T_SMALL, 0.4)
    return fit_array(y, X, W, model="sdm", effects="unit", effects_draws=0)


def brute_parts(S: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    n = S.shape[0]
    out = {k: np.zeros(n) for k in ("direct", "within", "between", "outside", "received")}
    for j in range(n):
        out["direct"][j] = S[j, j]
        out["received"][j] = S[j].sum() - S[j, j]
        for i in range(n):
            if i == j:
                continue
            if labels[i] < 0:
                out["outside"][j] += S[i, j]
            elif labels[i] == labels[j]:
                out["within"][j] += S[i, j]
            else:
                out["between"][j] += S[i, j]
    return out


def dense_S(res, k: int) -> np.ndarray:
    W = res.W.toarray()
    n = W.shape[0]
    A = np.eye(n)
    for name, Wr in res.lags:
        A -= res.params[name] * Wr.toarray()
    b = res.params.iloc[k]
    th = res.params.iloc[len(res.exog_names) + k] if res.spec.wx else 0.0
    return np.linalg.solve(A, b * np.eye(n) + th * W)


# ------------------------------------------------------------------------------ decomposition
@pytest.mark.parametrize("model", ["sar", "sdm", "sac", "slx"])
@pytest.mark.parametrize("wkind", ["sym", "knn"])
def test_point_decomposition_matches_brute_force(model, wkind):
    W = sym_rowstd(N_SMALL) if wkind == "sym" else knn(N_SMALL)
    y, X = simulate(W, T_SMALL, 0.3 if model != "slx" else 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_array(y, X, W, model=model, effects="unit", effects_draws=0)
    groups = random_groups(N_SMALL)
    dec = ag.decompose_effects(res, groups, draws=0)
    labels = dec.labels
    for k in range(2):
        ref = brute_parts(dense_S(res, k), labels)
        for part, arr in ref.items():
            np.testing.assert_allclose(getattr(dec.sims, part)[0, k], arr, rtol=0,
                                       atol=REFERENCE_TOL)
        t = dec.table.set_index(["variable", "part"])["point"]
        var = res.exog_names[k]
        for part in ("within", "between", "outside"):
            assert t[(var, part)] == pytest.approx(ref[part].mean(), abs=REFERENCE_TOL)


def test_parts_sum_to_indirect_for_every_draw_and_match_effects_module(sdm_fit):
    res = sdm_fit
    dec = ag.decompose_effects(res, random_groups(N_SMALL), draws=400, seed=7)
    s = dec.sims
    indirect = s.emitted.mean(axis=2)  # (draws, k)
    parts = s.within.mean(axis=2) + s.between.mean(axis=2) + s.outside.mean(axis=2)
    assert np.max(np.abs(parts - indirect)) < IDENTITY_TOL
    assert dec.check["identity"] < IDENTITY_TOL
    # the same draws through the models' eigenvalue formulas
    from spatialinno.models.effects import draw_parameters
    names = list(res.params.index)
    draws = draw_parameters(res.params.to_numpy(), res.cov.to_numpy(), draws=400, seed=7,
                            rho_index=names.index("rho"), bounds=res._rho_bounds)
    ref = _effects_matrix(res.spec, res._mult, draws, 2, names.index("rho"))
    assert np.max(np.abs(ref[:, :, 1] - indirect)) < REFERENCE_TOL
    assert np.max(np.abs(ref[:, :, 0] - s.direct.mean(axis=2))) < REFERENCE_TOL
    assert dec.check["vs_effects"] < REFERENCE_TOL
    # and the summary equals the models' own effects table on the same seed
    eff = res.impacts("simulation", draws=400, seed=7).set_index(["variable", "effect"])
    tab = dec.table.set_index(["variable", "part"])
    for var in res.exog_names:
        for part in ("direct", "indirect", "total"):
            for col in ("estimate", "std_error", "ci_lower", "ci_upper"):
                assert tab.loc[(var, part), col] == pytest.approx(eff.loc[(var, part), col],
                                                                  abs=REFERENCE_TOL)


def test_eigen_and_dense_paths_agree(sdm_fit):
    res = sdm_fit
    labels = ag._group_labels(res.units, random_groups(N_SMALL))[0]
    th = np.vstack([res.params.to_numpy(), res.params.to_numpy() * 0.9])
    kw = {"kx": 2, "wx": True, "rho_indices": [list(res.params.index).index("rho")],
          "Ws": [res.W], "W": res.W, "labels": labels}
    a = source_effects(th, method="eigen", **kw)
    b = source_effects(th, method="dense", **kw)
    for part in ("direct", "within", "between", "outside", "received"):
        np.testing.assert_allclose(getattr(a, part), getattr(b, part), rtol=0,
                                   atol=REFERENCE_TOL)


def test_group_averages_weight_up_to_the_overall_average(sdm_fit):
    dec = ag.decompose_effects(sdm_fit, random_groups(N_SMALL), draws=50, seed=1)
    g = dec.by_agglomeration
    assert set(g["agglomeration"]) == {"g0", "g1", "g2", "g3", ag.OUTSIDE_LABEL}
    assert set(g["part"]) == set(ag.GROUP_PARTS)
    n = len(dec.units)
    tab = dec.table.set_index(["variable", "part"])
    for var in sdm_fit.exog_names:
        for part in ("direct", "within", "between", "outside", "indirect"):
            sub = g[(g["variable"] == var) & (g["part"] == part)]
            pooled = float((sub["point"] * sub["n_units"]).sum() / n)
            assert pooled == pytest.approx(tab.loc[(var, part), "point"], abs=1e-12)
    out = g[(g["agglomeration"] == ag.OUTSIDE_LABEL) & (g["part"] == "within")]
    assert np.all(out["point"] == 0.0)


def test_total_received_equals_total_emitted(sdm_fit):
    dec = ag.decompose_effects(sdm_fit, random_groups(N_SMALL), draws=20, seed=2)
    np.testing.assert_allclose(dec.sims.received.mean(axis=2), dec.sims.emitted.mean(axis=2),
                               atol=1e-12)


def test_exports_and_note(sdm_fit):
    dec = ag.decompose_effects(sdm_fit, random_groups(N_SMALL), draws=50, note="SYNTHETIC DATA")
    md = dec.to_markdown()
    assert "| variable | part |" in md and "SYNTHETIC DATA" in md
    assert "within" in dec.to_latex(by_agglomeration=True)
    assert "indirect = within + between + outside" in dec.summary()
    eb = ag.effects_by_agglomeration(sdm_fit, random_groups(N_SMALL), draws=50, note="SYN")
    assert set(eb.table["part"]) == {"direct", "indirect", "received"}
    assert "SYN" in eb.to_markdown()


def test_group_errors(sdm_fit):
    with pytest.raises(ag.AgglomerationError, match="none of the 60 units"):
        ag.decompose_effects(sdm_fit, {"999999": "x"}, draws=0)
    with pytest.raises(ag.AgglomerationError, match="mapping unit code"):
        ag.decompose_effects(sdm_fit, ["g0"], draws=0)


def test_registry_default_needs_an_overlap_policy():
    W = sym_rowstd(N_SMALL)
    y, X = simulate(W, T_SMALL, 0.3)
    res = fit_array(y, X, W, model="sar", effects="unit", effects_draws=0)
    with pytest.raises(ag.AgglomerationError, match="more than one agglomeration"):
        ag.decompose_effects(res, None, draws=0)


# ------------------------------------------------------------------------------ demo panel
@pytest.fixture(scope="module")
def demo():
    import spatialinno as si
    from spatialinno.weights import Weights
    panel = si.demo_panel()
    w = Weights.contiguity(islands="connect")
    partition = ag.groups(overlap=list(ag.agglomerations()["scope"]))
    return panel, w, partition


def test_moran_by_agglomeration_matches_direct_formula(demo):
    panel, w, partition = demo
    res = ag.moran_by_agglomeration(panel, "ln_gtfp", w, partition, permutations=0,
                                    note="SYNTHETIC DATA")
    t = res.table
    assert {"agglomeration", "name_en", "n_units", "year", "I", "p_norm"} <= set(t.columns)
    df = panel.data
    for g in ("yangtze_river_delta", "central_plains"):
        units = sorted(u for u, s in partition.items() if s == g and u in set(w.codes))
        Wg = w.subset(units, transform="row").sparse.toarray()
        for year in (2011, 2022):
            x = df[df["year"] == year].set_index("adcode").loc[units, "ln_gtfp"].to_numpy()
            z = x - x.mean()
            ref = len(z) / Wg.sum() * (z @ Wg @ z) / (z @ z)
            got = t[(t["agglomeration"] == g) & (t["year"] == year)]["I"].item()
            assert got == pytest.approx(ref, abs=1e-12)
    assert "SYNTHETIC DATA" in res.to_markdown()
    # agglomerations without shipped members are absent; tiny ones are listed as left out
    assert "liaoning" not in " ".join(t["agglomeration"].unique())


def test_moran_by_agglomeration_errors(demo):
    panel, w, partition = demo
    with pytest.raises(ag.AgglomerationError, match="spatialinno Weights"):
        ag.moran_by_agglomeration(panel, "ln_gtfp", (w.sparse, w.codes), partition)
    with pytest.raises(ag.AgglomerationError, match="no agglomeration has"):
        ag.moran_by_agglomeration(panel, "ln_gtfp", w, partition, min_units=1000)


def test_demo_decomposition_with_registry_groups(demo):
    import spatialinno as si
    panel, w, partition = demo
    res = si.fit("ln_gtfp ~ np.log(rd_expenditure) + digital_finance_index", panel.data, w,
                 model="sdm", effects="twoway", unit="adcode", time="year", effects_draws=200)
    dec = ag.decompose_effects(res, partition, draws=200, seed=0, note="SYNTHETIC DATA")
    assert dec.check["identity"] < IDENTITY_TOL and dec.check["vs_effects"] < REFERENCE_TOL
    eff = res.effects.set_index(["variable", "effect"])
    tab = dec.table.set_index(["variable", "part"])
    for var in res.exog_names:
        assert tab.loc[(var, "indirect"), "estimate"] == pytest.approx(
            eff.loc[(var, "indirect"), "estimate"], abs=REFERENCE_TOL)
    g = dec.by_agglomeration
    assert "Yangtze River Delta" in set(g["name_en"]) and ag.OUTSIDE_LABEL in set(g["agglomeration"])
    # 15 agglomerations with firm shipped members (3 ship none, Ningxia is unconfirmed) + none
    assert len(set(g["agglomeration"])) == 16


def test_agglomeration_map_is_deterministic(demo):
    from spatialinno import plots
    a = plots.figure_bytes(plots.agglomeration_map(note="SYNTHETIC DATA"))
    b = plots.figure_bytes(plots.agglomeration_map(note="SYNTHETIC DATA"))
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"
    fig = plots.agglomeration_map()
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 19 + 2  # 19 agglomerations, overlaps, none
    assert any(t.startswith("Beijing-Tianjin-Hebei (13)") for t in texts)
    assert any("no members shipped" in t for t in texts)
    assert any(t.startswith("in two agglomerations") for t in texts)
    # a partition has no overlaps
    _, _, partition = demo
    texts = [t.get_text() for t in plots.agglomeration_map(partition).legends[0].get_texts()]
    assert not any(t.startswith("in two agglomerations") for t in texts)


# ------------------------------------------------------------------------------ property


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 14), seed=st.integers(0, 10_000), rho=st.floats(-0.9, 0.9),
       b=st.floats(-2, 2), th=st.floats(-2, 2), G=st.integers(1, 4))
def test_parts_partition_every_column(n, seed, rho, b, th, G):
    """For any W (random, row-standardised, possibly non-symmetric), groups and parameters the
    parts reproduce brute force and sum to the column spillover."""
    rng = np.random.default_rng(seed)
    Wd = rng.random((n, n)) * (rng.random((n, n)) < 0.5)
    np.fill_diagonal(Wd, 0.0)
    Wd[Wd.sum(axis=1) == 0, (np.flatnonzero(Wd.sum(axis=1) == 0) + 1) % n] = 1.0
    W = sp.csr_matrix(Wd / Wd.sum(axis=1, keepdims=True))
    labels = rng.integers(-1, G, n)
    theta = np.array([b, th, rho])
    se = source_effects(theta[None, :], kx=1, wx=True, rho_indices=[2], Ws=[W], W=W,
                        labels=labels)
    S = np.linalg.solve(np.eye(n) - rho * W.toarray(), b * np.eye(n) + th * W.toarray())
    ref = brute_parts(S, labels)
    for part, arr in ref.items():
        np.testing.assert_allclose(getattr(se, part)[0, 0], arr, rtol=0, atol=1e-9)
    col = S.sum(axis=0) - np.diag(S)
    np.testing.assert_allclose(se.emitted[0, 0], col, rtol=0,
                               atol=IDENTITY_TOL * (1 + abs(col).max()))
