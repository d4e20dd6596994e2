"""Dynamic spatial panels (``spatialinno.models.dynamic``): SDPDmod on Cigar, a dense reference
implementation of the exact likelihood, closed-form effects, the named errors, results and
tables, and a small Monte Carlo (the full one: benchmarks/bench_dynamic_montecarlo.py).

Peer numbers:

* validation.md, "Dynamic (SDPDmod ...)": SDPDmod 0.0.6 ``SDPDm(dynamic=TRUE, tlaginfo =
  list(ind=NULL, tl=TRUE, stl=TRUE))``, unit FE, ``LYtrans`` FALSE/TRUE, its default
  log-determinant grid (step 0.001) -- the table ``DYNAMIC`` of test_r_peers.py.
* ``reference/r_dynamic.csv``, written by ``reference/r_dynamic.R`` (R 4.2.2, SDPDmod 0.0.6;
  the R call is in each row), e.g. ``SDPDm(formula = f, data = cigar, W = Wc, index =
  c("state", "year"), model = "sdm", effect = "twoways", LYtrans = TRUE, DIRtrans = FALSE,
  incr = 1e-04, dynamic = TRUE, tlaginfo = list(ind = NULL, tl = TRUE, stl = TRUE))``: the same
  models on a 10x finer grid, and two-way effects (the Lee-Yu transformation, the direct
  estimator), before the bias correction. SDPDmod's *bias-corrected* two-way dynamic estimates
  are not compared: with ``DIRtrans=TRUE`` its corrected rho is 3.31 (SAR) and 3.01 (SDM),
  outside the parameter space (a peer defect); with ``LYtrans=TRUE`` its corrected tau agrees
  with ours (2e-4) but its rho and W*logc(t-1) move by +-0.085 where ours move by < 0.005,
  although our correction equals the formula its code writes evaluated with explicit
  (n-1) x (n-1) matrices F'WF (``test_transform_correction_traces_in_f_space``; our information
  matrix equals its ``f_SIG`` in that space to 1e-11 relative). We could not trace the
  difference in its code; the two-way corrections are checked by the Monte Carlo instead
  (benchmarks/bench_dynamic_montecarlo.txt; see CONVENTIONS.md).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import optimize

from spatialinno.errors import (ModelOptionError, ModelSpecificationError, TooFewPeriodsError,
                                UnevenPeriodsError, UnstableDynamicError, UnstableDynamicWarning)
from spatialinno.models import (DynamicPanelResults, core, effects_table, etable, fit,
                                fit_dynamic, fit_dynamic_array)
from spatialinno.models.dynamic import simulate_dynamic, stability_modulus

from test_r_peers import DYN_SE_RTOL, DYNAMIC, GRID_TOL

HERE = Path(__file__).parent
CIGAR = "logc ~ logp + logy"
#: SDPDmod with incr = 1e-4: its grid lookup (the average of the indices below rho +- one step)
#: and R's optimize() tolerance (~1.2e-4) leave rho up to 1.6e-3 from exact ML on Cigar
#: (W*logc(t-1) 1.5e-3, everything else < 3e-4).
FINE_GRID_TOL = 3e-3
#: Dense reference vs the core: the same exact likelihood maximised by two optimisers
#: (bounded Brent to 1e-12 in rho here; the core polishes with Newton steps).
DENSE_TOL = 1e-6
#: Closed-form effects: the same matrices, eigenvalue vs dense-inverse arithmetic.
EFFECTS_TOL = 1e-9
#: Simulated effects: the mean of D draws is within Z_SIM Monte Carlo standard errors
#: (SD / sqrt(D)) of E f(theta), which differs from f(theta_hat) by a second-order term of the
#: parameter variance: below SIM_GAP standard deviations of the draws here (long-run effects,
#: 1/(1 - tau - rho - eta), are the most curved).
Z_SIM, SIM_GAP = 4.0, 0.05


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def cigar_dyn(cigar, usa46):
    """fit_dynamic on Cigar with usa46, cached; effects off unless asked."""
    cache: dict = {}

    def get(model="sar", effects="unit", **kw):
        key = (model, effects, tuple(sorted(kw.items())))
        if key not in cache:
            kw.setdefault("effects_draws", 0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnstableDynamicWarning)
                cache[key] = fit_dynamic(CIGAR, cigar, usa46, model=model, effects=effects,
                                         unit="state", time="year", **kw)
        return cache[key]
    return get


@pytest.fixture(scope="module")
def r_dynamic() -> pd.DataFrame:
    return pd.read_csv(HERE / "reference" / "r_dynamic.csv")


@pytest.fixture(scope="module")
def arrays(cigar, usa46):
    """y (T, n), X (T, n, 2) time-major in usa46 order, and dense W."""
    W, codes = usa46
    pos = {c: i for i, c in enumerate(codes)}
    df = cigar.assign(_u=cigar["state"].map(pos)).sort_values(["year", "_u"])
    return (df["logc"].to_numpy().reshape(30, 46), df[["logp", "logy"]].to_numpy()
            .reshape(30, 46, 2), W.toarray())


def _r(ref: pd.DataFrame, id_: str, quantity: str) -> dict[str, float]:
    r = ref[(ref["id"] == id_) & (ref["quantity"] == quantity)]
    assert len(r), (id_, quantity)
    return dict(zip(r["term"], r["value"], strict=True))


# ------------------------------------------------------------------------------ SDPDmod
@pytest.mark.parametrize("model,corrected", list(DYNAMIC))
def test_sdpdmod_unit_fe(cigar_dyn, model, corrected):
    """validation.md's dynamic table through the public API: estimates within GRID_TOL of
    SDPDmod's gridded ones, SEs (information matrix vs its sandwich) within DYN_SE_RTOL. The
    corrected SDM is explosive (tau + rho + eta = 1.018): reproduced with stability='warn'."""
    res = cigar_dyn(model, bias_correction="transform" if corrected else None,
                    stability="warn")
    assert isinstance(res, DynamicPanelResults) and res.nobs == 46 * 29
    for term, (est, se) in DYNAMIC[(model, corrected)].items():
        assert abs(res.params[term] - float(est)) <= GRID_TOL, (term, res.params[term], est)
        if se is not None:
            assert abs(res.std_errors[term] / float(se) - 1) <= DYN_SE_RTOL, term
    if corrected:  # the correction moves the estimates as SDPDmod's does
        plain = DYNAMIC[(model, False)]
        for term, (est, _) in DYNAMIC[(model, True)].items():
            ours = res.params[term] - res.uncorrected[term]
            theirs = float(est) - float(plain[term][0])
            assert abs(ours - theirs) <= GRID_TOL, (term, ours, theirs)


@pytest.mark.parametrize("model", ["sar", "sdm"])
def test_sdpdmod_fine_grid(cigar_dyn, r_dynamic, model):
    """SDPDmod with incr = 1e-4: unit FE (direct and corrected, estimates and corrected SEs),
    two-way FE by the Lee-Yu transformation (the estimate before the correction) and by the
    direct estimator in SDPDmod's demean-then-lag convention, all within FINE_GRID_TOL."""
    unit = cigar_dyn(model, stability="warn")
    pairs = [(unit.uncorrected, f"dyn_{model}_individual_LY_fine", "estimate"),
             (unit.params, f"dyn_{model}_individual_LY_fine", "estimate_corrected"),
             (cigar_dyn(model, "twoway").uncorrected, f"dyn_{model}_twoways_LY_fine", "estimate"),
             (cigar_dyn(model, "twoway", bias_correction=None, wy_demeaning="splm").params,
              f"dyn_{model}_twoways_none_fine", "estimate")]
    for ours, id_, q in pairs:
        ref = _r(r_dynamic, id_, q)
        for term in ours.index:
            assert abs(ours[term] - ref[term]) <= FINE_GRID_TOL, (id_, term, ours[term], ref[term])
    se = _r(r_dynamic, f"dyn_{model}_individual_LY_fine", "se_corrected")
    for term in unit.params.index:
        assert abs(unit.std_errors[term] / se[term] - 1) <= DYN_SE_RTOL, term


# ------------------------------------------------------------------------------ dense reference
def _dense_fit(y, X, Wd, *, sdm, time_effects, transform=False):
    """Exact ML of the dynamic SAR/SDM written out densely: unit (and time) dummies as columns,
    log|I - rho W| by slogdet; ``transform``: the data of each period premultiplied by the
    orthonormal F' (eigenvectors of J_n = I - 11'/n for eigenvalue 1), W by F'WF (n-1
    cross-sections), then unit dummies. Returns (beta, rho) at the maximum."""
    T, n = y.shape
    Wy = y @ Wd.T
    cols = [X[1:]] + ([np.einsum("ij,tjk->tik", Wd, X[1:])] if sdm else []) \
        + [y[:-1, :, None], Wy[:-1, :, None]]
    Z = np.concatenate(cols, axis=2)                      # (T-1, n, k)
    k = Z.shape[2]
    Wm = Wd
    yy, wy = y[1:], Wy[1:]
    if transform:
        vals, vecs = np.linalg.eigh(np.eye(n) - np.ones((n, n)) / n)
        F = vecs[:, vals > 0.5]                           # n x (n-1), F'F = I, FF' = J
        Z = np.einsum("ia,tik->tak", F, Z)
        yy, wy = yy @ F, wy @ F
        Wm = F.T @ Wd @ F
    m = yy.shape[1]
    D = [np.tile(np.eye(m), (T - 1, 1))]                  # unit dummies
    if time_effects and not transform:
        D.append(np.kron(np.eye(T - 1), np.ones((m, 1)))[:, 1:])
    R = np.hstack([Z.reshape(-1, k)] + D)
    yv, wyv = yy.reshape(-1), wy.reshape(-1)
    N = yv.size
    V = np.column_stack([yv, wyv])                        # residuals of [y, Wy] on R
    ey, ew = (V - R @ np.linalg.solve(R.T @ R, R.T @ V)).T

    def negll(rho):
        ssr = float(np.sum((ey - rho * ew) ** 2))
        return 0.5 * N * np.log(ssr / N) - (T - 1) * np.linalg.slogdet(np.eye(m) - rho * Wm)[1]

    rho = optimize.minimize_scalar(negll, bounds=(-0.99, 0.99), method="bounded",
                                   options={"xatol": 1e-12}).x
    b = np.linalg.solve(R.T @ R, R.T @ (yv - rho * wyv))
    return b[:k], rho


@pytest.mark.parametrize("model,effects,bc", [("sar", "unit", None), ("sdm", "unit", None),
                                             ("sdm", "twoway", None), ("sar", "twoway",
                                                                       "transform")])
def test_exact_loglik_matches_dense_reference(arrays, cigar_dyn, model, effects, bc):
    """Our exact-log-determinant estimates (before any correction) equal a dense
    implementation with explicit dummies and slogdet (two-way, direct: exact = lag, then
    demean; transform: explicit F_{n,n-1})."""
    y, X, Wd = arrays
    b, rho = _dense_fit(y, X, Wd, sdm=model == "sdm", time_effects=effects == "twoway",
                        transform=bc == "transform")
    res = cigar_dyn(model, effects, bias_correction=bc, stability="warn")
    ours = res.uncorrected.to_numpy()
    np.testing.assert_allclose(ours, np.r_[b, rho], atol=DENSE_TOL)


def test_transform_correction_traces_in_f_space(arrays, cigar_dyn):
    """The Lee-Yu/YdJL correction after F_{n,n-1} (core: traces tr(P) - 1'P1/n) equals the
    correction written with explicit (n-1) x (n-1) matrices F'WF as SDPDmod's code and the paper
    do: the information matrix of SDPDmod's ``f_SIG`` on the F-transformed data, and the bias
    vector with traces of F'WF."""
    y, X, Wd = arrays
    res = cigar_dyn("sar", "twoway")
    from spatialinno.models.dynamic import dynamic_design
    from spatialinno.models.spec import get_spec
    d = dynamic_design(get_spec("sar"), y, X, sp.csr_matrix(Wd), "twoway", "transform")
    f0 = core.estimate(d)
    info = core.information_matrix(d, f0)
    n = Wd.shape[0]
    vals, vecs = np.linalg.eigh(np.eye(n) - np.ones((n, n)) / n)
    F = vecs[:, vals > 0.5]
    Wf = F.T @ Wd @ F
    m, k, T = n - 1, d.k, d.T
    tau, eta, rho, s2 = f0.beta[-2], f0.beta[-1], f0.rho, f0.sigma2
    Si = np.linalg.inv(np.eye(m) - rho * Wf)
    G = Wf @ Si
    Zf = np.einsum("ia,tik->tak", F, d.XX[:, :k].reshape(T, n, k)).reshape(-1, k)
    GZb = ((Zf @ f0.beta).reshape(T, m) @ G.T).ravel()
    sig = np.zeros((k + 2, k + 2))                        # f_SIG of SDPDmod, written out
    sig[:k, :k] = Zf.T @ Zf / s2
    sig[:k, k] = sig[k, :k] = Zf.T @ GZb / s2
    sig[k, k] = GZb @ GZb / s2 + T * np.trace(G @ G + G @ G.T)
    sig[k, k + 1] = sig[k + 1, k] = T * np.trace(G) / s2
    sig[k + 1, k + 1] = m * T / (2 * s2**2)
    np.testing.assert_allclose(info, sig, rtol=1e-9, atol=1e-9)
    A = Si @ (tau * np.eye(m) + eta * Wf)
    Rm = np.linalg.inv(np.eye(m) - A) @ Si
    a = np.zeros(k + 2)
    a[k - 2], a[k - 1] = np.trace(Rm) / m, np.trace(Wf @ Rm) / m
    a[k] = (tau * np.trace(G @ Rm) + eta * np.trace(G @ Wf @ Rm) + np.trace(G)) / m
    a[k + 1] = 1 / (2 * s2)
    theta = np.r_[f0.beta, f0.rho, s2] + m * np.linalg.solve(sig, a)
    np.testing.assert_allclose(res.params.to_numpy(), theta[:-1], atol=1e-10)


# ------------------------------------------------------------------------------ effects
def test_effects_closed_form(cigar_dyn, arrays):
    """Point effects = the Debarsy-Ertur-LeSage matrices (dense inverses): short run
    (I - rho W)^-1 (b I + th W), long run ((1 - tau) I - (rho + eta) W)^-1 (b I + th W);
    simulated means within 4 simulation SEs of them."""
    _, _, Wd = arrays
    res = cigar_dyn("sdm", "twoway", effects_draws=2000)
    n = Wd.shape[0]
    p = res.params
    point = res.impacts("point")
    for k, x in enumerate(res.exog_names):
        C = p[x] * np.eye(n) + p[f"W*{x}"] * Wd
        for horizon, M in (("short run", np.eye(n) - p["rho"] * Wd),
                           ("long run", (1 - res.tau) * np.eye(n) - (p["rho"] + res.eta) * Wd)):
            S = np.linalg.solve(M, C)
            want = {"direct": np.trace(S) / n, "total": S.sum() / n}
            want["indirect"] = want["total"] - want["direct"]
            for kind, v in want.items():
                lab = f"{kind} ({horizon})"
                got = point[(point["variable"] == x) & (point["effect"] == lab)]
                assert abs(float(got["estimate"].iloc[0]) - v) <= EFFECTS_TOL, (x, lab)
                sim = res.effects[(res.effects["variable"] == x) & (res.effects["effect"] == lab)]
                se = float(sim["std_error"].iloc[0])
                assert abs(float(sim["estimate"].iloc[0]) - v) <= \
                    Z_SIM * se / np.sqrt(2000) + SIM_GAP * se, (x, lab)
    assert res.effects.attrs == {"method": "simulation", "draws": 2000}


def test_stability_reported(cigar_dyn, arrays):
    _, _, Wd = arrays
    res = cigar_dyn("sdm", "twoway")
    p = res.params
    ev = np.linalg.eigvals(np.linalg.solve(np.eye(46) - p["rho"] * Wd,
                                           res.tau * np.eye(46) + res.eta * Wd))
    assert abs(res.stability - np.abs(ev).max()) < 1e-10
    t = res.stability_test
    a = np.zeros(len(p))
    a[-3:] = 1
    assert abs(t["sum"] - (res.tau + res.eta + p["rho"])) < 1e-12
    assert abs(t["statistic"] - (t["sum"] - 1) ** 2 / (a @ res.cov.to_numpy() @ a)) < 1e-9
    assert "Stability" in res.summary() and "tau + rho + eta = 1" in res.summary()


# ------------------------------------------------------------------------------ errors
def test_explosive_estimate_is_a_named_error(cigar, usa46):
    """Cigar with unit effects only: the corrected SDM has tau + rho + eta = 1.018 (the trend
    left in by the missing time effects) -- an UnstableDynamicError naming the modulus."""
    with pytest.raises(UnstableDynamicError, match="stability condition") as exc:
        fit_dynamic(CIGAR, cigar, usa46, model="sdm", unit="state", time="year",
                    effects_draws=0)
    assert exc.value.modulus > 1.0
    with pytest.warns(UnstableDynamicWarning):
        res = fit_dynamic(CIGAR, cigar, usa46, model="sdm", unit="state", time="year",
                          effects_draws=50, stability="warn")
    assert set(res.effects["effect"]) == {"direct (short run)", "indirect (short run)",
                                          "total (short run)"}  # no long run when explosive
    W = sp.csr_matrix(usa46[0])
    with pytest.raises(UnstableDynamicError):
        simulate_dynamic(W, 5, tau=0.7, rho=0.3, eta=0.1, beta=[1.0])


def test_too_few_periods(cigar, usa46):
    two = cigar[cigar["year"].isin([70, 71])]
    with pytest.raises(TooFewPeriodsError, match="at least 3 periods"):
        fit_dynamic(CIGAR, two, usa46, unit="state", time="year")
    with pytest.raises(TooFewPeriodsError):
        fit(CIGAR, two, usa46, unit="state", time="year", dynamic=True)
    y = np.zeros((2, 46))
    with pytest.raises(TooFewPeriodsError):
        fit_dynamic_array(y, np.zeros((2, 46, 1)), usa46[0])


def test_gap_in_periods(cigar, usa46):
    with pytest.raises(UnevenPeriodsError, match="69 -> 71"):
        fit_dynamic(CIGAR, cigar[cigar["year"] != 70], usa46, unit="state", time="year")


def test_option_errors(cigar, usa46):
    kw = dict(unit="state", time="year")
    with pytest.raises(ModelOptionError, match="sdm"):
        fit_dynamic(CIGAR, cigar, usa46, model="sem", **kw)
    with pytest.raises(ModelOptionError, match="twoway"):
        fit_dynamic(CIGAR, cigar, usa46, effects="time", **kw)
    with pytest.raises(ModelSpecificationError, match="splm"):
        fit_dynamic(CIGAR, cigar, usa46, effects="twoway", wy_demeaning="splm", **kw)
    with pytest.raises(ModelSpecificationError, match="m="):
        fit(CIGAR, cigar, usa46, m=usa46, dynamic=True, **kw)
    W, codes = usa46
    binary = sp.csr_matrix((W > 0).astype(float))
    with pytest.raises(ModelSpecificationError, match="row-standardised"):
        fit_dynamic(CIGAR, cigar, (binary, codes), effects="twoway", **kw)


# ------------------------------------------------------------------------------ results, tables
def test_fit_dispatch_and_tables(cigar, usa46, cigar_dyn):
    dyn = fit(CIGAR, cigar, usa46, model="sdm", effects="twoway", unit="state", time="year",
              dynamic=True, effects_draws=200)
    ref = cigar_dyn("sdm", "twoway")
    pd.testing.assert_series_equal(dyn.params, ref.params)
    assert list(dyn.tidy()["term"]) == ["logp", "logy", "W*logp", "W*logy", "logc(t-1)",
                                        "W*logc(t-1)", "rho"]
    static = fit(CIGAR, cigar, usa46, model="sdm", effects="twoway", unit="state", time="year",
                 effects_draws=200)
    tab = etable([static, dyn], names=["static", "dynamic"])
    labels = list(tab.iloc[:, 0])
    assert "Direct (short run): logp" in labels and "Total (long run): logy" in labels
    assert "Direct: logp" in labels and "logc(t-1)" in labels
    row = tab[tab.iloc[:, 0] == "Bias correction"].iloc[0]
    assert row["dynamic"] == "Lee-Yu transformation + YdJL"
    obs = tab[tab.iloc[:, 0] == "Observations"].iloc[0]
    assert obs["dynamic"] == str(46 * 29) and obs["static"] == str(46 * 30)
    eff = effects_table([static, dyn], names=["static", "dynamic"])
    assert [k for c, k in eff.columns if c == "dynamic"] == [
        "Direct (short run)", "Indirect (short run)", "Total (short run)",
        "Direct (long run)", "Indirect (long run)", "Total (long run)"]
    assert [k for c, k in eff.columns if c == "static"] == ["Direct", "Indirect", "Total"]
    assert "long run" in etable([dyn], type="md")
    assert "Stability" in dyn.to_markdown()


# ------------------------------------------------------------------------------ Monte Carlo
def test_small_monte_carlo_bias_correction():
    """A small version of benchmarks/bench_dynamic_montecarlo.py (dynamic SAR, unit FE, n = 60,
    T = 8 + 1, 40 replications, kNN W): the corrected tau, eta and rho are unbiased within 3 MC
    SE, while the direct ML's tau carries the Nickell-type O(1/T) bias (beyond 3 MC SE)."""
    from scipy.spatial import cKDTree
    n, T, reps, k = 60, 9, 40, 5
    xy = np.random.default_rng(3).random((n, 2))
    nb = cKDTree(xy).query(xy, k + 1)[1][:, 1:]
    W = sp.csr_matrix((np.full(n * k, 1 / k), (np.repeat(np.arange(n), k), nb.ravel())),
                      shape=(n, n))
    ev = core._eigenvalues(W)
    truth = np.array([1.0, 0.4, 0.1, 0.3])        # beta, tau, eta, rho
    rng = np.random.default_rng(11)
    est, raw = [], []
    for _ in range(reps):
        y, X = simulate_dynamic(W, T, tau=0.4, rho=0.3, eta=0.1, beta=[1.0], seed=rng)
        res = fit_dynamic_array(y, X, W, "sar", "unit", eigenvalues=ev, effects_draws=0)
        est.append(res.params.to_numpy())
        raw.append(res.uncorrected.to_numpy())
    est, raw = np.array(est), np.array(raw)
    mcse = est.std(axis=0, ddof=1) / np.sqrt(reps)
    bias = est.mean(axis=0) - truth
    assert np.all(np.abs(bias[1:]) < 3 * mcse[1:]), (bias, mcse)
    raw_bias = raw.mean(axis=0) - truth
    assert raw_bias[1] < -3 * raw.std(axis=0, ddof=1)[1] / np.sqrt(reps), raw_bias


# ------------------------------------------------------------------------------ runner key
RUNNER_TOML = """
[analysis]
title = "dynamic"
seed = 1

[data]
panel = "demo"
unit = "city"
time = "year"
merged = "drop"

[weights.queen]
type = "knn"
k = 4

[[models]]
name = "dyn"
formula = "np.log(gdp) ~ np.log(population)"
model = "{model}"
effects = "twoway"
weights = "queen"
draws = 50
dynamic = true
"""


def test_runner_dynamic_key(tmp_path):
    """[[models]] dynamic = true fits fit(..., dynamic=True); a model without a dynamic form is
    an analysis-file error naming the key."""
    from spatialinno.errors import AnalysisFileError
    from spatialinno.runner import run
    path = tmp_path / "a.toml"
    path.write_text(RUNNER_TOML.format(model="sem"), encoding="utf-8")
    with pytest.raises(AnalysisFileError, match=r"models\[0\]\.dynamic: a dynamic model is a "
                                                r"'sar' or 'sdm'"):
        run(path, tmp_path / "out0", quiet=True)
    path.write_text(RUNNER_TOML.format(model="sar"), encoding="utf-8")
    run(path, tmp_path / "out", quiet=True)
    tables = sorted(p.name for p in (tmp_path / "out").rglob("*.csv"))
    assert any("model_dyn" in t for t in tables)
    eff = next((tmp_path / "out").rglob("effects_dyn.csv")).read_text(encoding="utf-8")
    assert "total (long run)" in eff
