"""Registry of the 19 national urban agglomerations.

Independent numbers: member counts printed in (or derived from the scope sentence of) each plan,
as quoted in the project's reference notes, part A: e.g. 《长江三角洲城市群发展规划》 (2016), 26
cities; 《中原城市群发展规划》 (2016), "5省30座地级市"; 《哈长城市群发展规划》 (2016), 11 units;
《粤港澳大湾区发展规划纲要》 (2019), 珠三角九市 + 香港 + 澳门.
"""

from __future__ import annotations

import pytest

from spatialinno import agglomerations as ag
from spatialinno import cities

PLAN_COUNTS = {  # scope: number of units the plan (or its derived scope) lists
    "yangtze_river_delta": 26, "pearl_river_delta": 11, "central_plains": 30, "harbin_changchun": 11,
    "central_shanxi": 5, "middle_yangtze": 31, "west_strait": 20, "guanzhong_plain": 11,
    "lanzhou_xining": 9, "hohhot_baotou_ordos_yulin": 4, "jingjinji": 13, "beibu_gulf": 15,
    "shandong_peninsula": 17, "chengdu_chongqing": 16, "central_yunnan": 5,
    "yangtze_river_delta_2019": 41, "yangtze_river_delta_2019_core": 27,
}


def test_nineteen_agglomerations_with_plans_and_tiers():
    table = ag.agglomerations()
    assert len(table) == 19 and table["agglomeration"].is_unique
    assert set(table["tier_14th_fyp"]) == {"优化提升", "发展壮大", "培育发展"}
    assert (table["tier_14th_fyp"] == "优化提升").sum() == 5
    assert (table["tier_14th_fyp"] == "培育发展").sum() == 9
    assert (table["source"].str.len() > 0).all()


def test_member_counts_match_the_plans():
    table = ag.agglomerations(alternatives=True).set_index("scope")
    for scope, n in PLAN_COUNTS.items():
        assert int(table.loc[scope, "n_listed"]) == n, scope
    # 山东半岛 listed 17 设区市 in 2016; 莱芜 has since merged into 济南
    assert int(table.loc["shandong_peninsula", "n_units"]) == 16


def test_every_member_is_a_registry_unit_and_names_its_source():
    units = set(cities.registry("all")["adcode"])
    allm = ag.members(ag.agglomerations()["scope"].tolist(),
                      statuses=("confirmed", "secondary", "derived", "unconfirmed"))
    assert set(allm["adcode"]) <= units
    assert allm["source"].str.contains("reference notes part A").all()


def test_unconfirmed_memberships_are_flagged_not_guessed():
    table = ag.agglomerations().set_index("agglomeration")
    for agg in ("central_south_liaoning", "central_guizhou", "tianshan_north"):
        assert table.loc[agg, "scope_status"] == "unconfirmed" and table.loc[agg, "n_units"] == "0"
    firm = ag.members()
    assert "ningxia_yellow_river" not in set(firm["scope"])  # only unconfirmed members
    cy = ag.members("chengdu_chongqing")
    assert set(cy["adcode"]) == {"500000", "510100", "510300", "510500", "510600", "510700"}
    assert len(ag.members("chengdu_chongqing", statuses=("confirmed", "unconfirmed"))) == 16


def test_partial_members_are_flagged():
    lx = ag.members("lanzhou_xining")
    assert set(lx.loc[lx["extent"] == "partial", "adcode"]) == {
        "620400", "621100", "622900", "632200", "632500", "632300"}
    assert len(ag.members("lanzhou_xining", partial=False)) == 3


def test_overlaps_need_an_explicit_policy():
    mem = ag.membership()
    assert mem["371500"] == {"shandong_peninsula", "central_plains"}  # 聊城
    with pytest.raises(ag.AgglomerationError, match=r"130400 in central_plains, jingjinji"):
        ag.groups()
    order = ag.agglomerations()["agglomeration"].tolist()  # plan order: 京津冀 first ...
    part = ag.groups(overlap=order)
    assert part["130400"] == "jingjinji" and part["371500"] == "shandong_peninsula"
    overlapping = [u for u, s in mem.items() if len(s) > 1]
    explicit = ag.groups(overlap={u: "central_plains" if "central_plains" in mem[u] else sorted(mem[u])[0]
                                  for u in overlapping})
    assert explicit["130400"] == "central_plains"
    with pytest.raises(ag.AgglomerationError, match="not assigned"):
        ag.groups(overlap={"130400": "jingjinji"})


def test_alternative_scopes():
    mem = ag.membership(replace={"yangtze_river_delta": "yangtze_river_delta_2019"})
    yrd = {u for u, s in mem.items() if "yangtze_river_delta_2019" in s}
    assert len(yrd) == 41 and "341200" in yrd  # 阜阳: in the 2019 outline, not in the 2016 plan
    assert "341200" not in {u for u, s in ag.membership().items() if "yangtze_river_delta" in s}
    with pytest.raises(ag.AgglomerationError, match="alternative scopes of the same"):
        ag.members(["yangtze_river_delta", "yangtze_river_delta_2019"])
    with pytest.raises(ag.AgglomerationError, match="unknown agglomeration scope"):
        ag.members("greater_atlantis")


def test_agglomeration_blocks_split_geographic_w_exactly():
    """Block weights from the shipped registry: within-agglomeration links only join units of the
    same agglomeration, and within + between reproduces the queen W bit for bit."""
    import warnings

    from spatialinno.errors import IslandWarning
    from spatialinno.weights import Weights

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IslandWarning)
        w = Weights.contiguity()
    part = ag.groups(overlap=ag.agglomerations()["agglomeration"].tolist())
    within, between = Weights.blocks(w, part, unassigned="between")
    assert (within.sparse + between.sparse != w.sparse).nnz == 0
    coo = within.sparse.tocoo()
    pairs = list(zip(coo.row, coo.col, strict=True))
    assert pairs and all(part.get(w.codes[i]) == part.get(w.codes[j]) is not None for i, j in pairs)
    # 北京-天津 (both 京津冀) is a within link; 北京-张家口 too; 上海-苏州 (both 长三角) too
    idx = {c: k for k, c in enumerate(w.codes)}
    assert within.sparse[idx["110000"], idx["120000"]] > 0
    assert within.sparse[idx["310000"], idx["320500"]] > 0
