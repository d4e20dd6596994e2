r"""Choosing the spatial panel model in one call: the Elhorst (2010, 2014) testing sequence.

:func:`choose_model` runs

1. LM-lag, LM-error and their robust versions on the non-spatial panel with pooled, unit,
   time and two-way fixed effects (:func:`.diagnostics.lm_tests`);
2. LR tests of the joint significance of the unit and of the time fixed effects (non-spatial);
3. the SDM with the chosen effects, and the LR and Wald tests of whether it reduces to the SAR
   (:math:`\theta = 0`) or the SEM (:math:`\theta = -\rho\beta`, the Wald one by the delta method);
4. the random-effects SDM (:mod:`.random_effects`) and the Hausman test of fixed vs random effects;
5. Pesaran's CD test on the non-spatial unit-FE residuals and (without time effects) on the SDM
   residuals, and Moran's I of the SDM residuals per year,

and returns a :class:`ModelChoiceResult`: one tidy table (test, null, statistic, df, p_value,
decision) and a short recommendation. Elhorst, J. P. (2014), *Spatial Econometrics: From
Cross-Sectional Data to Spatial Panels*, Springer, sec. 3.5-3.6,
https://doi.org/10.1007/978-3-642-40340-8.

All LR tests compare likelihoods of the same form: the models are fitted with the direct approach
(``lee_yu=False``, :math:`\sigma^2 = e'e/(nT)`) unless ``lee_yu`` says otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import ModelSpecificationError
from . import api, checks, core
from .diagnostics import (
    SpecificationTest,
    _CodedWeights,
    hausman,
    lm_tests,
    lr_test,
    pesaran_cd,
    results_table,
    wald_common_factor,
    wald_theta_zero,
)
from .random_effects import fit_re
from .spec import check_fe, check_option

__all__ = ["ModelChoiceResult", "choose_model", "choose_model_array"]

_FE_LABEL = {"none": "pooled", "unit": "unit FE", "time": "time FE", "twoway": "two-way FE"}
TABLE_COLUMNS = ["test", "null", "statistic", "df", "p_value", "decision"]


@dataclass(frozen=True, eq=False)
class ModelChoiceResult:
    """The table and recommendation of :func:`choose_model`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per test: test, null, statistic, df, p_value, decision (at ``level``).
    notes : pandas.DataFrame
        test, note: the conventions of each row (sigma^2, covariance, compared terms).
    recommendation : str
        Short text: the model the sequence points to and why.
    recommended : str
        ``"sdm"``, ``"sar"``, ``"sem"`` or ``"ols"``.
    effects, level, note
        Fixed effects of the spatial models, the test level, and the caller's label (e.g.
        ``"SYNTHETIC DATA"``) printed with every export.
    fits : dict
        The fitted models (``"sdm"``, ``"sar"``, ``"sem"``, ``"sdm_re"``, ...).
    residual_moran : GlobalResult or None
        Moran's I of the SDM residuals per year.
    """

    table: pd.DataFrame
    notes: pd.DataFrame
    recommendation: str
    recommended: str
    effects: str
    level: float
    note: str | None = None
    fits: dict = field(default_factory=dict, repr=False)
    residual_moran: object | None = field(default=None, repr=False)

    def _footer(self) -> str:
        parts = [f"Decisions at the {self.level:g} level"]
        if self.note:
            parts.insert(0, self.note.rstrip(". "))
        return ". ".join(parts) + "."

    def summary(self) -> str:
        """Plain text: table, recommendation, label."""
        lines = [self.table.to_string(index=False, float_format=lambda x: f"{x:.4f}"), "",
                 self.recommendation, self._footer()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """Jupyter display: the test table, the recommendation and the label."""
        from ..report.notebook import repr_html
        return repr_html(f"Model choice: {self.recommended.upper()} recommended "
                         f"({_FE_LABEL.get(self.effects, self.effects)})",
                         [(None, self.table)], note=self.recommendation + " " + self._footer())

    def to_markdown(self, digits: int = 4) -> str:
        """The test table as Markdown, with the recommendation and the label below it."""
        from ..report import to_markdown
        return to_markdown(self.table, digits=digits,
                           note=self.recommendation + "\n\n" + self._footer())

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The test table as LaTeX, with the recommendation and the label below it."""
        from ..report import to_latex
        return to_latex(self.table, digits=digits, caption=caption,
                        note=self.recommendation + " " + self._footer())

    def to_csv(self) -> str:
        """The test table as CSV text."""
        from ..report import to_csv
        return to_csv(self.table)


def choose_model(formula: str, data: pd.DataFrame, w: object, *, unit: str | None = None,
                 time: str | None = None, effects: str = "twoway", level: float = 0.05,
                 lee_yu: bool | str = False, hausman_test: bool = True,
                 moran_permutations: int = 0, lm_convention: str = "lee_yu",
                 note: str | None = None) -> ModelChoiceResult:
    """Run the Elhorst model-choice sequence and return one table plus a recommendation.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2"`` (formulaic); the intercept is handled by the fixed effects.
    data : pandas.DataFrame
        Long balanced panel with ``unit`` and ``time`` columns (as :func:`spatialinno.fit`).
    w : Weights, libpysal W or (sparse matrix, codes)
        Spatial weights keyed by unit code.
    effects : {"twoway", "unit", "time", "none"}
        Fixed effects of the spatial models (SDM/SAR/SEM) and of the Hausman test's FE side.
    level : float
        Test level for the ``decision`` column and the recommendation.
    lee_yu : bool or str
        Passed to :func:`spatialinno.models.fit` for the SDM, SAR and SEM (default ``False``:
        direct approach, so that the LR tests compare likelihoods of the same form).
    hausman_test : bool
        Fit the random-effects SDM and add the Hausman test (unit or two-way effects only).
    moran_permutations : int
        Permutations for the per-year residual Moran's I (0: analytical moments only).
    lm_convention : {"lee_yu", "elhorst", "splm", "spreg"}
        Variance convention of the LM tests (:func:`.diagnostics.lm_tests`); ``"elhorst"``
        reproduces Elhorst's routines, ``"lee_yu"`` (default) has the nominal size with FE.
    note : str, optional
        Label printed under every export, e.g. ``spatialinno.runner.SYNTHETIC_NOTE``.

    Examples
    --------
    >>> res = choose_model("logc ~ logp + logy", cigar, w, unit="state", time="year")  # doctest: +SKIP
    >>> print(res.to_markdown())  # doctest: +SKIP
    """
    effects = check_fe(effects)
    df, unit, time = api._panel_frame(data, unit, time)
    units = [str(u) for u in pd.unique(df[unit])]
    times = list(pd.unique(df[time]))
    T, n = len(times), len(units)
    y, X, yname, xnames, _ = api._model_matrices(formula, df, checks.Rows(n, T, units, times))
    W, wname, _ = api._resolve_weights(w, units, "w")
    ev = None
    if hasattr(w, "align") and n <= core._AUTO_EIGEN_MAX_N:
        try:  # cached on the Weights object; permutation-invariant (as in api.fit)
            ev = getattr(w, "eigenvalues", None)
        except Exception:  # noqa: BLE001 - computed below instead
            ev = None
    return choose_model_array(y.reshape(T, n), X.reshape(T, n, -1), W, effects=effects,
                              level=level, lee_yu=lee_yu, hausman_test=hausman_test,
                              exog_names=xnames, units=units, times=times,
                              moran_permutations=moran_permutations, note=note, w_name=wname,
                              lm_convention=lm_convention,
                              eigenvalues=None if ev is None else np.asarray(ev), y_name=yname)


def choose_model_array(y: np.ndarray, X: np.ndarray, W: sp.spmatrix, *, effects: str = "twoway",
                       level: float = 0.05, lee_yu: bool | str = False, hausman_test: bool = True,
                       exog_names: list[str] | None = None, units: list[str] | None = None,
                       times: list | None = None, moran_permutations: int = 0,
                       note: str | None = None, w_name: str = "W",
                       lm_convention: str = "lee_yu", eigenvalues: np.ndarray | None = None,
                       y_name: str = "y") -> ModelChoiceResult:
    """Array form of :func:`choose_model`: ``y`` (T, n), ``X`` (T, n, k), ``W`` aligned;
    ``eigenvalues`` of ``W`` may be passed to reuse them."""
    effects = check_fe(effects)
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ModelSpecificationError(f"level={level!r}: expected a number in (0, 1).")
    check_option(lm_convention, ("lee_yu", "elhorst", "spreg"), "lm_convention")
    y, X = api._panel_arrays(y, X)
    T, n = y.shape
    k = X.shape[2]
    W = checks.check_weights_matrix(W, [str(i) for i in range(n)], "W", finite_only=True)
    names = api._exog_names(exog_names, k)
    rows = checks.Rows(n, T, [str(u) for u in units], list(times)) if (
        units is not None and times is not None) else checks.Rows(n, T)
    units = [str(u) for u in units] if units is not None else [str(i) for i in range(n)]
    times = list(times) if times is not None else list(range(T))
    yv, Xv = y.reshape(-1), X.reshape(T * n, k)
    _validate(yv, Xv, W, names, n, T, effects, rows, y_name, hausman_test)
    ev = eigenvalues
    if ev is None:
        ev = core._eigenvalues(W) if n <= core._AUTO_EIGEN_MAX_N else None

    tests: list[SpecificationTest] = []
    # 1. LM tests on the non-spatial panel, all four effects
    for fe in ("none", "unit", "time", "twoway"):
        tests += lm_tests(yv, Xv, W, n, T, fe, convention=lm_convention)

    def fa(model: str, fe: str):
        return api.fit_array(y, X, W, model, fe, exog_names=names, eigenvalues=ev,
                             lee_yu=lee_yu, effects_draws=0)

    fits: dict = {}
    # 2. LR tests of the joint significance of the fixed effects (non-spatial, sigma^2 = e'e/nT)
    ols = {fe: fa("ols", fe) for fe in ("unit", "time", "twoway")}
    fits.update({f"ols_{fe}": r for fe, r in ols.items()})
    tests.append(lr_test(ols["time"], ols["twoway"], n - 1, "LR unit FE jointly zero",
                         "unit fixed effects jointly zero (given time FE)",
                         "non-spatial; log-likelihoods with sigma^2 = e'e/(nT)"))
    tests.append(lr_test(ols["unit"], ols["twoway"], T - 1, "LR time FE jointly zero",
                         "time fixed effects jointly zero (given unit FE)",
                         "non-spatial; log-likelihoods with sigma^2 = e'e/(nT)"))
    # 3. SDM and its restrictions
    sdm, sar, sem = fa("sdm", effects), fa("sar", effects), fa("sem", effects)
    fits.update(sdm=sdm, sar=sar, sem=sem)
    lab = f"{_FE_LABEL[effects]}; lee_yu={sdm.lee_yu}"
    wt = wald_theta_zero(sdm)
    lt = lr_test(sar, sdm, k, "LR SDM vs SAR", "theta = 0 (SDM reduces to SAR)", lab)
    wc = wald_common_factor(sdm)
    lc = lr_test(sem, sdm, k, "LR SDM vs SEM", "theta = -rho * beta (SDM reduces to SEM)", lab)
    tests += [wt, lt, wc, lc]
    # 4. Hausman
    haus = None
    if hausman_test and effects in ("unit", "twoway"):
        re = fit_re(yv, Xv, W, n, T, "sdm", time_effects=(effects == "twoway"),
                    exog_names=names, eigenvalues=ev)
        fits["sdm_re"] = re
        fe_direct = sdm if sdm.lee_yu == "none" else api.fit_array(
            y, X, W, "sdm", effects, exog_names=names, eigenvalues=ev, lee_yu=False,
            effects_draws=0)
        haus = hausman(fe_direct, re)
        tests.append(haus)
    # 5. residual cross-sectional dependence
    # Pesaran CD: on the non-spatial unit-FE residuals (cross-sectional dependence the spatial
    # model has to explain) and on the SDM residuals when no time effects were removed (with time
    # effects every period's residuals sum to zero and CD is biased towards -sqrt(T/2): Juodis &
    # Reese 2022, J. Bus. Econ. Stat. 40, 1191-1203; that row is then left out).
    try:
        tests.append(_renamed(pesaran_cd(ols["unit"].resid.to_numpy().reshape(T, n)),
                              "Pesaran CD (non-spatial unit-FE residuals)"))
        if effects in ("none", "unit"):
            tests.append(_renamed(pesaran_cd(sdm.resid.to_numpy().reshape(T, n)),
                                  f"Pesaran CD (SDM residuals, {_FE_LABEL[effects]})"))
    except ModelSpecificationError:
        pass
    moran = None
    try:
        moran = _residual_moran(sdm, W, units, times, w_name, moran_permutations, note)
    except (ImportError, ValueError, ArithmeticError) as exc:  # esda missing, degenerate data
        warnings.warn(f"Moran's I of the residuals per year was not computed: {exc}",
                      RuntimeWarning, stacklevel=2)
    table = results_table(tests, level)
    notes = table[["test", "note"]].copy()
    table = table[TABLE_COLUMNS]
    rec, text = _recommend(tests, effects, level, haus, moran)
    return ModelChoiceResult(table, notes, text, rec, effects, level, note, fits, moran)


def _validate(y, X, W, names, n, T, effects, rows, y_name, hausman_test) -> None:
    """Every design the sequence fits, checked before the first fit (see :mod:`.checks`): the
    LM tests and LR tests use pooled, unit, time and two-way effects whatever ``effects`` is."""
    checks.check_finite([(y_name, y)] + [(x, X[:, j]) for j, x in enumerate(names)], rows)
    checks.check_links(W, "W", "choose_model")
    steps = [("none", False, True, "the LM tests on the pooled model"),
             ("unit", False, False, "the LM and LR tests with unit effects"),
             ("time", False, False, "the LM and LR tests with time effects"),
             ("twoway", False, False, "the LM and LR tests with two-way effects"),
             (effects, True, False, f"the SDM with {_FE_LABEL[effects]}")]
    for fe, wx, intercept, step in steps:
        checks.check_design(y, X, names, n, T, fe, yname=y_name, W=W, wx=wx,
                            intercept=intercept,
                            context=f" (in {step}, which choose_model fits whatever effects= is)"
                            if fe != effects or not wx else f" (in {step})")


def _renamed(t: SpecificationTest, name: str) -> SpecificationTest:
    return SpecificationTest(name, t.null, t.statistic, t.df, t.p_value, t.note)


def _residual_moran(res, W, units, times, w_name, permutations, note):
    from ..esda import DEFAULT_SEED, residual_moran_by_year
    r = pd.Series(res.resid.to_numpy(), index=pd.MultiIndex.from_product(
        [list(times), list(units)], names=["time", "unit"]), name="residual")
    r = r.reorder_levels(["unit", "time"]).sort_index()
    return residual_moran_by_year(r, _CodedWeights(W, list(units), w_name), unit="unit", time="time",
                                  permutations=permutations, seed=DEFAULT_SEED, note=note)


def _find(tests: list[SpecificationTest], name: str) -> SpecificationTest | None:
    return next((t for t in tests if t.test == name), None)


def _recommend(tests, effects, level, haus, moran) -> tuple[str, str]:
    lab = _FE_LABEL[effects]
    rej = lambda t: t is not None and np.isfinite(t.p_value) and t.p_value < level
    lm = {key: _find(tests, f"{name} ({lab})") for key, name in
          (("lag", "LM lag"), ("err", "LM error"), ("rlag", "Robust LM lag"),
           ("rerr", "Robust LM error"))}
    out = []
    if lm["lag"] is not None:
        out.append(f"On the non-spatial {lab} panel, LM lag {'rejects' if rej(lm['lag']) else 'does not reject'}"
                   f" and LM error {'rejects' if rej(lm['err']) else 'does not reject'}; robust LM "
                   f"lag {'rejects' if rej(lm['rlag']) else 'does not reject'}, robust LM error "
                   f"{'rejects' if rej(lm['rerr']) else 'does not reject'} (level {level:g}).")
    sar_ok = not (rej(_find(tests, "Wald SDM vs SAR")) or rej(_find(tests, "LR SDM vs SAR")))
    sem_ok = not (rej(_find(tests, "Wald SDM vs SEM")) or rej(_find(tests, "LR SDM vs SEM")))
    lm_lag = rej(lm["rlag"])
    lm_err = rej(lm["rerr"])
    if not (sar_ok or sem_ok):
        rec = "sdm"
        out.append("Both the Wald and LR tests reject the SAR (theta = 0) and the SEM (common "
                   "factor) restrictions: the spatial Durbin model (SDM) best describes the data.")
    elif sar_ok and not sem_ok and (lm_lag or not lm_err):
        rec = "sar"
        out.append("The SDM reduces to the SAR (theta = 0 not rejected) and the robust LM tests do "
                   "not point to the error model: the spatial lag model (SAR).")
    elif sem_ok and not sar_ok and (lm_err or not lm_lag):
        rec = "sem"
        out.append("The SDM reduces to the SEM (common factor not rejected) and the robust LM "
                   "tests do not point to the lag model: the spatial error model (SEM).")
    elif sar_ok and sem_ok and not (lm_lag or lm_err or rej(lm["lag"]) or rej(lm["err"])):
        rec = "ols"
        out.append("No spatial test rejects: a non-spatial (or SLX) panel model may suffice.")
    else:
        rec = "sdm"
        out.append("The LR/Wald restrictions and the robust LM tests point in different "
                   "directions: keep the SDM, which nests the SAR and the SEM (Elhorst 2014, "
                   "sec. 3.5).")
    if haus is not None and np.isfinite(haus.p_value):
        out.append("Hausman: " + ("fixed effects (random effects rejected)." if rej(haus) else
                                  "random effects not rejected; a random-effects model is also "
                                  "consistent and more efficient."))
    if moran is not None and "p_rand" in moran.table:
        k = int((moran.table["p_rand"] < level).sum())
        out.append(f"Moran's I of the SDM residuals is significant in {k} of "
                   f"{len(moran.table)} years (randomisation p-values).")
    return rec, f"Recommended: {rec.upper()} with {lab}. " + " ".join(out)
