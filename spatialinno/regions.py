"""Study regions: the units of one agglomeration, some provinces, a named region or a list.

A region study (one urban agglomeration, one province, the Yangtze River Economic Belt) keeps the
panel's rows of the region's units; the weights are then built on those units (see the runner's
``units = "panel"``). :func:`region_units` resolves a specification to unit codes and says, in one
line, what it took.

Accepted items (a string or a list of them, mixed freely):

* an agglomeration of :mod:`spatialinno.agglomerations`: scope (``yangtze_river_delta``), Chinese
  or English name (``长三角``, ``Yangtze River Delta``); its members with firm sources;
* a province: its code (``320000``), Chinese name (``江苏省``, ``江苏``) or English name
  (``Jiangsu``);
* a named region of :data:`NAMED_REGIONS` (``长江经济带`` / ``Yangtze River Economic Belt``);
* a unit: its 6-digit code or any name the registry resolves (``襄阳``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import OptionError

__all__ = ["NAMED_REGIONS", "NamedRegion", "region_units", "named_regions"]


@dataclass(frozen=True)
class NamedRegion:
    """A region defined by whole provinces, with the document that defines it."""

    key: str
    name_zh: str
    name_en: str
    provinces: tuple[str, ...]  # province codes
    source: str


NAMED_REGIONS: tuple[NamedRegion, ...] = (
    NamedRegion(
        key="yangtze_river_economic_belt", name_zh="长江经济带",
        name_en="Yangtze River Economic Belt",
        provinces=("310000", "320000", "330000", "340000", "360000", "420000", "430000",
                   "500000", "510000", "520000", "530000"),
        source="国务院关于依托黄金水道推动长江经济带发展的指导意见 (国发〔2014〕39号, 2014): 上海, "
               "江苏, 浙江, 安徽, 江西, 湖北, 湖南, 重庆, 四川, 云南, 贵州 (11 provinces)"),
)


def named_regions() -> list[NamedRegion]:
    """The shipped named regions (each with its defining document)."""
    return list(NAMED_REGIONS)


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


def _named(item: str) -> NamedRegion | None:
    key = _norm(item)
    for r in NAMED_REGIONS:
        if key in {_norm(r.key), _norm(r.name_zh), _norm(r.name_en)}:
            return r
    return None


def _agglomeration(item: str) -> str | None:
    from . import agglomerations as ag

    table = ag.agglomerations()
    key = _norm(item)
    for row in table.itertuples():
        names = {_norm(row.scope), _norm(row.name_en)}
        names |= {_norm(part) for part in str(row.name_zh).split("/")}
        if key in names:
            return str(row.scope)
    return None


def _province_codes(registry) -> dict[str, str]:
    """Chinese, short Chinese and English province names and codes -> province code."""
    out: dict[str, str] = {}
    for row in registry.itertuples():
        code = f"{row.adcode[:2]}0000"
        for name in (row.province, row.province_en, code):
            out[_norm(str(name))] = code
        short = str(row.province)
        for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市"):
            if short.endswith(suffix) and len(short) > len(suffix):
                out[_norm(short[: -len(suffix)])] = code
                break
    return out


def _resolve_one(item: str, registry, provinces: dict[str, str]) -> tuple[set[str], str]:
    from . import agglomerations as ag
    from . import cities

    named = _named(item)
    if named is not None:
        codes = {c for c in registry["adcode"] if f"{c[:2]}0000" in named.provinces}
        return codes, f"{named.name_zh} ({named.source})"
    scope = _agglomeration(item)
    if scope is not None:
        codes = set(ag.membership(scopes=[scope]))
        return codes, f"agglomeration {scope} ({len(codes)} member units with firm sources)"
    prov = provinces.get(_norm(item))
    if prov is not None and (item.strip().endswith("0000") or not item.strip().isdigit()):
        codes = {c for c in registry["adcode"] if c.startswith(prov[:2])}
        return codes, f"province {prov}"
    try:
        code = cities.lookup(item)
    except Exception as exc:  # the registry's own error names what it tried
        raise OptionError(
            f"region item {item!r} is not an agglomeration, a province, a named region "
            f"({', '.join(r.name_zh for r in NAMED_REGIONS)}) or a unit of the registry: {exc}") from exc
    return {code}, f"unit {code}"


def region_units(spec: str | Iterable[str], *, default_only: bool = True) -> tuple[list[str], str]:
    """Unit codes of a region specification and a one-line description of what it took.

    Parameters
    ----------
    spec
        One item or a list (see the module docstring); the union of the items is returned.
    default_only
        Keep only units of the default prefecture layer (337 units).
    """
    from . import cities

    items = [spec] if isinstance(spec, str) else list(spec)
    if not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise OptionError(f"region: expected a name, a code or a list of them; got {spec!r}")
    registry = cities.registry()
    if default_only and "in_default" in registry.columns:
        registry = registry[registry["in_default"].astype(str).str.lower().isin(["true", "1"])]
    provinces = _province_codes(registry)
    codes: set[str] = set()
    parts = []
    for item in items:
        got, what = _resolve_one(item, registry, provinces)
        codes |= got
        parts.append(what)
    allowed = set(registry["adcode"])
    codes &= allowed
    if not codes:
        raise OptionError(f"region {spec!r} has no unit of the default prefecture layer")
    return sorted(codes), "; ".join(parts)
