"""China's 19 national urban agglomerations (城市群) and their member units.

The registry ships with the package (``spatialinno/data/agglomerations.csv`` and
``agglomeration_members.csv``, built by ``spatialinno/data/build_agglomerations.py``). Each
agglomeration names its plan and year; each member row names its source and says how firm it is:

* ``status``: ``confirmed`` (in a plan's scope sentence, quoted on a secondary page, or derived
  from one), ``secondary`` (member list from secondary pages; the plan's scope was not read),
  ``derived`` (computed from a scope such as "all of 沪苏浙皖"), ``unconfirmed`` (no plan scope found).
* ``extent``: ``whole``, ``partial`` (the plan lists only some counties of the unit), ``unknown``.

辽中南, 黔中 and 天山北坡 ship with no members (no list could be confirmed) and 宁夏沿黄's four
cities are flagged unconfirmed: pass your own membership for them. Several units belong to two
agglomerations (邯郸, 邢台: 京津冀 and 中原; 聊城, 菏泽: 山东半岛 and 中原; 运城: 中原 and 关中平原;
上饶, 鹰潭, 抚州: 长江中游 and 海峡西岸): :func:`membership` keeps every membership,
:func:`groups` needs an explicit overlap policy to make a partition.

Spillovers (:func:`decompose_effects`, :func:`effects_by_agglomeration`) split the effects
matrix of a fitted SAR/SDM/SAC (or two-W) model by where a city's spillover lands: in its own
agglomeration, in another, or outside any. :func:`moran_by_agglomeration` gives Moran's I by
year inside each agglomeration; the two-W model with separate within- and between-agglomeration
lags is :func:`spatialinno.models.fit_two_w`; the map is
:func:`spatialinno.plots.agglomeration_map`.

Alternative scopes are selected by name, e.g. the Yangtze River Delta's 26-city 2016 plan
(``"yangtze_river_delta"``, the default) vs its 2019 outline (``"yangtze_river_delta_2019"``, 41
units, or ``"yangtze_river_delta_2019_core"``, 27).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .datasets import packaged_table
from .errors import AgglomerationError, UnknownAgglomerationError

__all__ = ["agglomerations", "members", "membership", "groups", "AgglomerationError",
           "UnknownAgglomerationError", "STATUSES",
           "FIRM_STATUSES", "decompose_effects", "effects_by_agglomeration",
           "moran_by_agglomeration", "SpilloverDecomposition", "AgglomerationTable", "PARTS",
           "GROUP_PARTS"]

#: Member statuses used by default: everything but ``unconfirmed``.
FIRM_STATUSES = ("confirmed", "secondary", "derived")
#: Every member status of the registry.
STATUSES = (*FIRM_STATUSES, "unconfirmed")


@lru_cache(maxsize=1)
def _scopes() -> pd.DataFrame:
    return packaged_table("agglomerations.csv")


@lru_cache(maxsize=1)
def _members() -> pd.DataFrame:
    return packaged_table("agglomeration_members.csv")


def agglomerations(*, alternatives: bool = False) -> pd.DataFrame:
    """One row per agglomeration (19), or per scope with ``alternatives=True``.

    Columns: scope, agglomeration, name_zh, name_en, tier_13th_fyp, tier_14th_fyp, plan,
    plan_year, scope_status, n_listed (units named in the source), n_units (current units),
    default_scope, note, source.
    """
    df = _scopes()
    if not alternatives:
        df = df[df["default_scope"] == "true"]
    return df.reset_index(drop=True).copy()


def _resolve_scopes(scopes: str | Iterable[str] | None) -> list[str]:
    table = _scopes()
    if scopes is None:
        return table.loc[table["default_scope"] == "true", "scope"].tolist()
    if not isinstance(scopes, (str, Iterable)) or isinstance(scopes, Mapping):
        raise AgglomerationError(f"scopes must be a scope name or a list of scope names (see "
                                 f"agglomerations(alternatives=True)); got {scopes!r}")
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    if not scopes:
        raise AgglomerationError("scopes is empty; pass None for the 19 default agglomerations")
    _check_known_scopes(scopes)
    twice = sorted({s for s in scopes if scopes.count(s) > 1})
    if twice:
        raise AgglomerationError(f"scope(s) {twice} listed more than once")
    per_agg = table.set_index("scope").loc[scopes, "agglomeration"]
    twice = per_agg[per_agg.duplicated(keep=False)]
    if len(twice):
        raise AgglomerationError(f"scopes {twice.index.tolist()} are alternative scopes of the same "
                                 f"agglomeration {twice.iloc[0]!r}; choose one")
    return scopes


def _check_known_scopes(names: Iterable[object], where: str = "") -> None:
    """Raise :class:`UnknownAgglomerationError` for names not in the registry, with suggestions."""
    known = _scopes()["scope"].tolist()
    unknown = [n for n in names if not isinstance(n, str) or n not in known]
    if unknown:
        hints = "; ".join(f"{n!r}: did you mean {_suggest(n)}?" for n in unknown if _suggest(n))
        raise UnknownAgglomerationError(
            f"unknown agglomeration scope(s) {unknown}{where}" + (f" ({hints})" if hints else "")
            + f"; known: {known} (see agglomerations(alternatives=True))")


def _name_key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _suggest(name: object) -> str:
    """Scopes whose id, Chinese or English name matches ``name`` (exactly or closely)."""
    if not isinstance(name, str):
        return ""
    t = _scopes()
    key = _name_key(name)
    exact = [row.scope for row in t.itertuples()
             if key in (_name_key(row.agglomeration), _name_key(row.name_en))
             or key in [_name_key(part) for part in row.name_zh.split("/")]]
    close = difflib.get_close_matches(name.strip().lower(), t["scope"].tolist(), n=3,
                                      cutoff=0.6)
    found = list(dict.fromkeys(exact + close))
    return " or ".join(repr(s) for s in found)


def _check_statuses(statuses: object) -> list[str]:
    if isinstance(statuses, str):
        statuses = [statuses]
    if not isinstance(statuses, Iterable):
        raise AgglomerationError(f"statuses must be a list of member statuses from {STATUSES}; "
                                 f"got {statuses!r}")
    statuses = list(statuses)
    unknown = [x for x in statuses if x not in STATUSES]
    if unknown or not statuses:
        raise AgglomerationError(f"unknown member status(es) {unknown}; use some of {STATUSES} "
                                 f"(default {FIRM_STATUSES})")
    return statuses


def members(scopes: str | Iterable[str] | None = None, *,
            statuses: Sequence[str] = FIRM_STATUSES, partial: bool = True) -> pd.DataFrame:
    """Member units of the chosen scopes (default: the 19 default scopes).

    Parameters
    ----------
    scopes
        Scope names (see :func:`agglomerations` with ``alternatives=True``); None = the 19
        defaults. To use the 2019 Yangtze River Delta, list every default scope but
        ``"yangtze_river_delta"`` and add ``"yangtze_river_delta_2019"``, or use
        :func:`membership` with ``replace=``.
    statuses
        Member statuses to keep; add ``"unconfirmed"`` to include 成渝's unconfirmed Sichuan
        cities and 宁夏沿黄.
    partial
        Keep units of which a plan lists only some counties (default True).
    """
    chosen = _resolve_scopes(scopes)
    statuses = _check_statuses(statuses)
    if not isinstance(partial, bool):
        raise AgglomerationError(f"partial must be True or False; got {partial!r}")
    df = _members()
    df = df[df["scope"].isin(chosen) & df["status"].isin(statuses)]
    if not partial:
        df = df[df["extent"] != "partial"]
    return df.reset_index(drop=True).copy()


def membership(scopes: str | Iterable[str] | None = None, *,
               replace: Mapping[str, str] | None = None,
               statuses: Sequence[str] = FIRM_STATUSES, partial: bool = True) -> dict[str, frozenset[str]]:
    """Unit code -> the set of agglomerations (scope names) it belongs to.

    ``replace={"yangtze_river_delta": "yangtze_river_delta_2019"}`` swaps a default scope for
    an alternative. Units in no agglomeration are absent from the mapping.
    """
    chosen = _resolve_scopes(scopes)
    if replace is not None and not isinstance(replace, Mapping):
        raise AgglomerationError(f"replace must be a mapping old scope -> new scope, e.g. "
                                 "{'yangtze_river_delta': 'yangtze_river_delta_2019'}; got "
                                 f"{type(replace).__name__}")
    _check_known_scopes((replace or {}).values(), " in replace")
    for old, new in (replace or {}).items():
        if old not in chosen:
            raise AgglomerationError(f"replace: {old!r} is not among the chosen scopes {chosen}")
        chosen[chosen.index(old)] = new
    df = members(chosen, statuses=statuses, partial=partial)
    out: dict[str, set[str]] = {}
    for code, scope in zip(df["adcode"], df["scope"], strict=True):
        out.setdefault(code, set()).add(scope)
    return {k: frozenset(v) for k, v in sorted(out.items())}


def groups(scopes: str | Iterable[str] | None = None, *,
           overlap: str | Sequence[str] | Mapping[str, str] = "raise",
           replace: Mapping[str, str] | None = None,
           statuses: Sequence[str] = FIRM_STATUSES, partial: bool = True) -> dict[str, str]:
    """A partition: unit code -> one agglomeration, for block weights and decompositions.

    Parameters
    ----------
    overlap
        What to do with units in two or more agglomerations: ``"raise"`` (default; the error
        lists them), a sequence of scope names in order of priority (the first that contains the
        unit wins; every overlapping scope must be listed), or a mapping unit -> scope deciding
        each overlapping unit explicitly.
    """
    mem = membership(scopes, replace=replace, statuses=statuses, partial=partial)
    multi = {u: sorted(s) for u, s in mem.items() if len(s) > 1}
    out = {u: next(iter(s)) for u, s in mem.items() if len(s) == 1}
    if not multi:
        return out
    if isinstance(overlap, str):
        if overlap != "raise":
            raise AgglomerationError(f"overlap={overlap!r}; expected 'raise', a priority list of "
                                     "scopes or a mapping unit -> scope")
        listing = "; ".join(f"{u} in {', '.join(s)}" for u, s in multi.items())
        raise AgglomerationError(
            f"{len(multi)} unit(s) belong to more than one agglomeration: {listing}. Pass "
            "overlap=[scopes in priority order] or overlap={unit: scope} to assign each to one")
    if isinstance(overlap, Mapping):
        missing = sorted(set(multi) - set(overlap))
        wrong = {u: s for u, s in overlap.items() if u in multi and s not in multi[u]}
        if missing or wrong:
            raise AgglomerationError(f"overlap mapping: units not assigned {missing}; assigned to an "
                                     f"agglomeration they are not in: {wrong}")
        out.update({u: overlap[u] for u in multi})
    else:
        order = list(overlap)
        _check_known_scopes(order, " in the overlap priority list")
        unlisted = sorted({s for ss in multi.values() for s in ss} - set(order))
        if unlisted:
            raise AgglomerationError(f"overlap priority list lacks scope(s) {unlisted} that "
                                     "overlapping units belong to")
        out.update({u: min(s, key=order.index) for u, s in multi.items()})
    return dict(sorted(out.items()))


# =============================================================================================
# Spillovers within vs between agglomerations
# =============================================================================================
#: Parts of the effects table of :func:`decompose_effects`.
PARTS = ("direct", "indirect", "within", "between", "outside", "total")
#: Parts of the per-agglomeration table.
GROUP_PARTS = ("direct", "indirect", "within", "between", "outside", "received")
OUTSIDE_LABEL = "(none)"


def _group_labels(units: Sequence[str], groups: Mapping[str, str] | None
                  ) -> tuple[np.ndarray, list[str]]:
    """``(labels, names)``: integer landing group per unit (-1 = outside any) and group names."""
    if groups is None:
        groups = globals()["groups"]()  # the registry partition (raises on overlaps)
    if not isinstance(groups, Mapping):
        raise AgglomerationError(f"groups must be a mapping unit code -> agglomeration (e.g. "
                                 f"agglomerations.groups(overlap=[...])); received "
                                 f"{type(groups).__name__}")
    g = {str(k): str(v) for k, v in groups.items()}
    present = [g[u] for u in units if u in g]
    if not present:
        raise AgglomerationError(f"none of the {len(units)} units of the fit is in groups "
                                 f"({len(g)} codes, e.g. {list(g)[:5]}); check the unit codes")
    names = sorted(set(present))
    pos = {s: i for i, s in enumerate(names)}
    return np.array([pos[g[u]] if u in g else -1 for u in units], dtype=int), names


def _display_names() -> dict[str, str]:
    t = _scopes()
    return dict(zip(t["scope"], t["name_en"], strict=True))


@dataclass(frozen=True)
class AgglomerationTable:
    """A table of per-agglomeration results with its title and note (``summary()`` is text)."""

    table: pd.DataFrame
    title: str
    note: str | None = None

    def summary(self) -> str:
        """Plain text: the title, the table and the note."""
        body = self.table.to_string(index=False, float_format=lambda x: f"{x:.6f}")
        return "\n".join([self.title, body] + ([self.note] if self.note else []))

    def __str__(self) -> str:
        return self.summary()

    def to_markdown(self, digits: int = 4) -> str:
        """The table as Markdown, with the note."""
        from .report import to_markdown
        return to_markdown(self.table, digits=digits, note=self.note)

    def to_latex(self, digits: int = 4, caption: str | None = None) -> str:
        """The table as LaTeX, captioned with the title unless ``caption`` is given."""
        from .report import to_latex
        return to_latex(self.table, digits=digits, caption=caption or self.title, note=self.note)


@dataclass(frozen=True)
class SpilloverDecomposition:
    r"""Indirect effects split by where the spillover lands (see :func:`decompose_effects`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (variable, part), ``part`` in :data:`PARTS`; columns ``variable, part,
        point, estimate, std_error, z, p_value, ci_lower, ci_upper``. ``point`` is evaluated at
        the estimates, the others summarise the simulation draws (``estimate`` = their mean, as
        in the models' effects tables).
    by_agglomeration : pandas.DataFrame
        Averages over the source units of each agglomeration (and of the units in none,
        ``agglomeration = "(none)"``): columns ``agglomeration, name_en, n_units, variable, part``
        (:data:`GROUP_PARTS`; ``indirect`` is emitted, ``received`` the row-wise spillover) and the
        inference columns.
    sims : SourceEffects
        Per-draw, per-source arrays ``(draws, k, n)``.
    units, labels, groups
        Unit order of the fit, their landing group index (-1 = none) and the group names.
    check : dict
        ``identity``: max over draws/variables of \|within + between + outside - indirect\|;
        ``vs_effects``: max \|indirect - models' effects indirect\| over the same draws (the
        eigenvalue / trace formulas of :mod:`spatialinno.models.effects`).
    """

    table: pd.DataFrame
    by_agglomeration: pd.DataFrame
    sims: Any = field(repr=False)
    units: tuple[str, ...] = field(repr=False)
    labels: np.ndarray = field(repr=False)
    groups: tuple[str, ...]
    draws: int
    seed: int | None
    check: dict
    note: str | None = None

    def summary(self) -> str:
        """Plain text: the split of each indirect effect (within, between, outside) and the averages
        by source agglomeration."""
        fmt = lambda x: f"{x:.6f}"  # noqa: E731
        lines = ["Spillover decomposition: indirect = within + between + outside "
                 f"({self.draws} draws, seed {self.seed})",
                 self.table.to_string(index=False, float_format=fmt), "",
                 "By source agglomeration (averages over its member cities)",
                 self.by_agglomeration.to_string(index=False, float_format=fmt)]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """Jupyter display: the split of the indirect effects and the averages by source
        agglomeration."""
        from .report.notebook import repr_html
        return repr_html(
            "Spillover decomposition: indirect = within + between + outside",
            [(None, self.table), ("By source agglomeration (averages over its member cities)",
                                  self.by_agglomeration)],
            facts=[("Draws", str(self.draws)), ("Seed", str(self.seed))], note=self.note)

    def to_markdown(self, digits: int = 4, *, by_agglomeration: bool = False) -> str:
        """``table`` (or ``by_agglomeration``) as Markdown, with the note."""
        from .report import to_markdown
        df = self.by_agglomeration if by_agglomeration else self.table
        return to_markdown(df, digits=digits, note=self.note)

    def to_latex(self, digits: int = 4, *, by_agglomeration: bool = False,
                 caption: str | None = None) -> str:
        """``table`` (or ``by_agglomeration``) as LaTeX, with the note."""
        from .report import to_latex
        df = self.by_agglomeration if by_agglomeration else self.table
        return to_latex(df, digits=digits, caption=caption, note=self.note)


def _draws_for(result: Any, draws: int, seed: int | None) -> tuple[np.ndarray, list[int], tuple]:
    from .models.effects import draw_parameters
    names = list(result.params.index)
    lag_names = [nm for nm, _ in result.lags]
    rho_idx = [names.index(nm) for nm in lag_names]
    theta = result.params.to_numpy()
    if not draws:
        return theta[None, :], rho_idx, ()
    # the same call as SpatialPanelResults.impacts -> identical draws for one-W models
    one = rho_idx[0] if len(rho_idx) == 1 else (rho_idx or None)
    sims = draw_parameters(theta, result.cov.to_numpy(), draws=draws, seed=seed, rho_index=one,
                           bounds=result._rho_bounds)
    return sims, rho_idx, one


def decompose_effects(result: Any, groups: Mapping[str, str] | None = None, *,
                      draws: int = 1000, seed: int | None = 0, level: float = 0.95,
                      note: str | None = None) -> SpilloverDecomposition:
    r"""Split each indirect effect into the parts landing within the source city's own
    agglomeration, in other agglomerations, and outside any agglomeration.

    Parameters
    ----------
    result : SpatialPanelResults
        A fit of :func:`spatialinno.models.fit` (SAR, SDM, SAC, SLX, SDEM; also the two-W models
        of :func:`spatialinno.models.fit_two_w`).
    groups : mapping unit code -> agglomeration, optional
        A *partition* (one group per unit), e.g. ``groups(overlap=[...])`` or a user mapping.
        Units of the fit absent from it are outside any agglomeration; codes not in the fit are
        ignored. Default: :func:`groups` with ``overlap="raise"`` (raises, listing the
        overlapping units, with the shipped registry).
    draws, seed
        Simulation draws of the parameters from :math:`N(\hat\theta, \hat V)`, exactly those of
        ``result.impacts("simulation", draws=draws, seed=seed)``; ``draws=0`` gives the point
        values only.
    level
        Level of the percentile intervals.
    note
        Printed under exported tables, e.g. ``"SYNTHETIC DATA"``.

    Notes
    -----
    For regressor :math:`k` the effects matrix is
    :math:`S_k = A^{-1}(\beta_k I + \theta_k W)` with :math:`A = I - \rho W` (SAR: :math:`\theta_k =
    0`; SAC: the same as SAR in :math:`\rho`; SLX/SDEM: :math:`A = I`; two-W models:
    :math:`A = I - \rho_w W_w - \rho_b W_b`). :math:`S_k[i, j] = \partial y_i / \partial x_{jk}`,
    so **column** :math:`j` holds the effects of a change in city :math:`j`'s :math:`x_k`
    (the source) on every city :math:`i`; the spillover *lands* on :math:`i`. With :math:`g(i)`
    the group of :math:`i` (:math:`\varnothing` for none; LeSage & Pace 2009, *Introduction to
    Spatial Econometrics*, ch. 2, partitioning the effects matrix),

    .. math::

        \text{within}_k &= \tfrac1n \sum_j \sum_{i \ne j} S_k[i,j]\,
            1[g(i) = g(j) \ne \varnothing] \\
        \text{between}_k &= \tfrac1n \sum_j \sum_{i} S_k[i,j]\,
            1[g(i) \ne \varnothing,\ g(i) \ne g(j)] \\
        \text{outside}_k &= \tfrac1n \sum_j \sum_{i \ne j} S_k[i,j]\, 1[g(i) = \varnothing]

    and :math:`\text{within} + \text{between} + \text{outside} = \tfrac1n\sum_j\sum_{i\ne j}
    S_k[i,j]` = the average indirect effect. A source outside every agglomeration has no
    "within" part: its spillovers landing on agglomeration members count as between, those
    landing on other non-members as outside. The per-agglomeration table averages the same
    per-source quantities over the source cities :math:`j` of each group; its ``received``
    row is the row-wise spillover :math:`\sum_{i \ne j} S_k[j, i]` (what city :math:`j`
    receives when every other city's :math:`x_k` changes).

    Computation: :math:`A^{-1}` is formed densely per draw (3 ms at n = 337; about 3-4 s for
    1000 draws of the 337-city panel), see :func:`spatialinno.models.effects.source_effects`.
    """
    from .models.effects import _effects_matrix, source_effects, summarise_draws
    exog = list(result.exog_names)
    if not exog:
        raise AgglomerationError("the fit has no regressors: there are no effects to decompose")
    if result.W is None or not result.units:
        raise AgglomerationError("this results object carries no weights matrix; refit with "
                                 "spatialinno.models.fit")
    units = tuple(result.units)
    labels, names = _group_labels(units, groups)
    kx = len(exog)
    sims_theta, rho_idx, _ = _draws_for(result, draws, seed)
    Ws = [w for _, w in result.lags]
    point_theta = result.params.to_numpy()[None, :]
    se_all = source_effects(np.vstack([point_theta, sims_theta]) if draws else point_theta,
                            kx=kx, wx=result.spec.wx, rho_indices=rho_idx, Ws=Ws, W=result.W,
                            labels=labels)
    cut = 1 if draws else 0
    sl = slice(cut, None) if draws else slice(0, 1)
    parts = {k: getattr(se_all, k) for k in ("direct", "within", "between", "outside",
                                              "received")}
    sim = type(se_all)(**{k: v[sl] for k, v in parts.items()})
    # averages over sources: (m, kx)
    mean = {k: v.mean(axis=2) for k, v in parts.items()}
    mean["indirect"] = (parts["within"] + parts["between"] + parts["outside"]).mean(axis=2)
    emitted_total = (parts["within"] + parts["between"] + parts["outside"]).sum(axis=2) / len(units)
    mean["total"] = mean["direct"] + mean["indirect"]
    identity = float(np.max(np.abs(mean["within"] + mean["between"] + mean["outside"]
                                   - emitted_total)))
    check = {"identity": identity}
    if result._mult is not None and result.spec.name in ("sar", "sdm", "sac", "slx", "sdem",
                                                          "sem"):
        names_p = list(result.params.index)
        ri = names_p.index("rho") if "rho" in names_p else None
        ref = _effects_matrix(result.spec, result._mult, np.vstack([point_theta, sims_theta])
                              if draws else point_theta, kx, ri)
        check["vs_effects"] = float(np.max(np.abs(ref[:, :, 1] - mean["indirect"])))
        check["vs_effects_direct"] = float(np.max(np.abs(ref[:, :, 0] - mean["direct"])))
        scale = 1.0 + float(np.max(np.abs(ref)))
        exact = result._mult.eigenvalues is not None or not result.spec.rho
        if exact and max(check["vs_effects"], check["vs_effects_direct"]) > 1e-8 * scale:
            raise RuntimeError(  # the two routes compute the same numbers: a bug if not
                f"internal check failed: the decomposition's direct/indirect effects differ from "
                f"the models' effects formulas by {check['vs_effects']:.3g} on the same draws")
    rows = []
    for v, var in enumerate(exog):
        for part in PARTS:
            x = mean[part][:, v]
            rows.append(_row(var, part, x, cut, level, summarise_draws))
    table = pd.DataFrame(rows)
    disp = _display_names()
    grows = []
    for gi, gname in list(enumerate(names)) + [(-1, OUTSIDE_LABEL)]:
        sel = labels == gi
        if not sel.any():
            continue
        gp = {k: v[:, :, sel].mean(axis=2) for k, v in parts.items()}
        gp["indirect"] = gp["within"] + gp["between"] + gp["outside"]
        for v, var in enumerate(exog):
            for part in GROUP_PARTS:
                r = _row(var, part, gp[part][:, v], cut, level, summarise_draws)
                grows.append({"agglomeration": gname, "name_en": disp.get(gname, gname),
                              "n_units": int(sel.sum()), **r})
    return SpilloverDecomposition(table, pd.DataFrame(grows), sim, units, labels, tuple(names),
                                  int(draws or 0), seed, check, note)


def _row(var: str, part: str, x: np.ndarray, cut: int, level: float, summarise) -> dict:
    point = float(x[0])
    if cut:
        s = summarise(x[cut:], level)
        stats_ = {k: float(s[k]) for k in ("estimate", "std_error", "z", "p_value", "ci_lower",
                                            "ci_upper")}
    else:
        stats_ = {"estimate": point, "std_error": np.nan, "z": np.nan, "p_value": np.nan,
                  "ci_lower": np.nan, "ci_upper": np.nan}
    return {"variable": var, "part": part, "point": point, **stats_}


def effects_by_agglomeration(result: Any, groups: Mapping[str, str] | None = None, *,
                             draws: int = 1000, seed: int | None = 0, level: float = 0.95,
                             note: str | None = None) -> AgglomerationTable:
    r"""Per-agglomeration effect estimates: averages over each agglomeration's member cities of
    the direct effect :math:`S_k[j,j]`, the emitted indirect effect :math:`\sum_{i\ne j}S_k[i,j]`
    and the received indirect effect :math:`\sum_{i\ne j}S_k[j,i]`, with simulation inference
    (the rows ``direct``, ``indirect``, ``received`` of
    :attr:`SpilloverDecomposition.by_agglomeration`; see :func:`decompose_effects`)."""
    dec = decompose_effects(result, groups, draws=draws, seed=seed, level=level, note=note)
    t = dec.by_agglomeration
    t = t[t["part"].isin(["direct", "indirect", "received"])].reset_index(drop=True)
    return AgglomerationTable(t, "Effects by agglomeration (averages over member cities)", note)


def moran_by_agglomeration(data: Any, variable: str, w: Any,
                           groups: Mapping[str, str] | None = None, *,
                           years: Sequence[int] | None = None, permutations: int = 99,
                           seed: int = 12345, unit: str = "adcode", time: str = "year",
                           min_units: int = 4, note: str | None = None) -> AgglomerationTable:
    r"""Global Moran's I of ``variable`` by year within each agglomeration.

    For agglomeration :math:`g` with members :math:`U_g` (those in both ``data`` and ``w``),
    :math:`W_g` is the sub-matrix of ``w``'s untransformed weights on :math:`U_g`,
    row-standardised within the agglomeration (:meth:`Weights.subset(U_g, transform="row")
    <spatialinno.weights.Weights.subset>`): links to non-members are dropped, so :math:`I_g`
    measures clustering *inside* :math:`g`. Each :math:`I_g` is
    :func:`spatialinno.esda.moran_by_year` on the members' cross-sections (same inference columns;
    each year's permutation seed derived from ``seed`` as there). Members left without a
    neighbour inside :math:`g` are islands (lag 0, counted in ``n_islands``).

    Agglomerations with fewer than ``min_units`` members, or without any internal link, are
    listed in the note and left out (:math:`I` is undefined or meaningless there).

    Returns
    -------
    AgglomerationTable
        Columns ``agglomeration, name_en, n_units, year, I, EI, z_norm, p_norm, p_rand, p_sim,
        n_islands``.
    """
    from .esda import moran_by_year
    from .weights import Weights
    if not isinstance(w, Weights):
        raise AgglomerationError(f"w must be a spatialinno Weights (it is subset per "
                                 f"agglomeration); received {type(w).__name__}")
    if (isinstance(min_units, bool) or not isinstance(min_units, (int, np.integer))
            or min_units < 4):
        raise AgglomerationError(f"min_units must be an integer >= 4 (Moran's randomisation "
                                 f"variance needs n >= 4); got {min_units!r}")
    if groups is None:
        groups = globals()["groups"]()
    if not isinstance(groups, Mapping):
        raise AgglomerationError(f"groups must be a mapping unit code -> agglomeration (e.g. "
                                 f"agglomerations.groups(overlap=[...])); received "
                                 f"{type(groups).__name__}")
    frame = getattr(data, "data", data)
    if not isinstance(frame, pd.DataFrame) or unit not in frame.columns:
        raise AgglomerationError(f"data must be a Panel or long DataFrame with a {unit!r} column")
    if not isinstance(variable, str) or variable not in frame.columns:
        raise AgglomerationError(f"variable {variable!r} is not a column of the data; available: "
                                 f"{list(frame.columns)}")
    have = set(frame[unit].astype(str)) & set(w.codes)
    by: dict[str, list[str]] = {}
    for code, g in sorted(groups.items()):
        if str(code) in have:
            by.setdefault(str(g), []).append(str(code))
    disp = _display_names()
    parts, skipped = [], []
    for g in sorted(by):
        units = by[g]
        if len(units) < min_units:
            skipped.append(f"{g} ({len(units)} unit(s))")
            continue
        wg = w.subset(units, transform="row")
        if wg.nnz == 0:
            skipped.append(f"{g} (no internal link)")
            continue
        sub = frame[frame[unit].astype(str).isin(units)]
        res = moran_by_year(sub, variable, wg, years=years, permutations=permutations, seed=seed,
                            unit=unit, time=time)
        t = res.table
        cols = ["year", "I", "EI", "z_norm", "p_norm", "p_rand"] + \
            (["p_sim"] if "p_sim" in t.columns else []) + ["n_islands"]
        t = t[cols].copy()
        t.insert(0, "n_units", len(units))
        t.insert(0, "name_en", disp.get(g, g))
        t.insert(0, "agglomeration", g)
        parts.append(t)
    if not parts:
        raise AgglomerationError(f"no agglomeration has {min_units}+ members with internal links "
                                 f"in both data and w; skipped: {skipped}")
    text = [note] if note else []
    text.append(f"W: {w.label}, restricted to each agglomeration and row-standardised within it")
    if skipped:
        text.append("left out: " + ", ".join(skipped))
    return AgglomerationTable(pd.concat(parts, ignore_index=True),
                              f"Moran's I of {variable} within each agglomeration, by year",
                              ". ".join(text) + ".")
