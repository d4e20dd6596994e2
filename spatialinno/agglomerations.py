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

Alternative scopes are selected by name, e.g. the Yangtze River Delta's 26-city 2016 plan
(``"yangtze_river_delta"``, the default) vs its 2019 outline (``"yangtze_river_delta_2019"``, 41
units, or ``"yangtze_river_delta_2019_core"``, 27).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources

import pandas as pd

from .errors import SpatialinnoError

__all__ = ["agglomerations", "members", "membership", "groups", "AgglomerationError",
           "FIRM_STATUSES"]

#: Member statuses used by default: everything but ``unconfirmed``.
FIRM_STATUSES = ("confirmed", "secondary", "derived")


class AgglomerationError(SpatialinnoError, ValueError):
    """Unknown scope, or overlapping memberships where a partition is needed."""


def _read(name: str) -> pd.DataFrame:
    with resources.files("spatialinno.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _scopes() -> pd.DataFrame:
    return _read("agglomerations.csv")


@lru_cache(maxsize=1)
def _members() -> pd.DataFrame:
    return _read("agglomeration_members.csv")


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
    scopes = [scopes] if isinstance(scopes, str) else list(scopes)
    unknown = [s for s in scopes if s not in set(table["scope"])]
    if unknown:
        raise AgglomerationError(f"unknown agglomeration scope(s) {unknown}; known: "
                                 f"{table['scope'].tolist()}")
    per_agg = table.set_index("scope").loc[scopes, "agglomeration"]
    twice = per_agg[per_agg.duplicated(keep=False)]
    if len(twice):
        raise AgglomerationError(f"scopes {twice.index.tolist()} are alternative scopes of the same "
                                 f"agglomeration {twice.iloc[0]!r}; choose one")
    return scopes


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
        unlisted = sorted({s for ss in multi.values() for s in ss} - set(order))
        if unlisted:
            raise AgglomerationError(f"overlap priority list lacks scope(s) {unlisted} that "
                                     "overlapping units belong to")
        out.update({u: min(s, key=order.index) for u, s in multi.items()})
    return dict(sorted(out.items()))
