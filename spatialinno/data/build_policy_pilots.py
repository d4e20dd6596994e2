"""Build the shipped registry of city-level policy pilots used as quasi-natural experiments.

Run from the repository root (needs only the package itself)::

    python spatialinno/data/build_policy_pilots.py

Outputs (this folder):

* ``policy_programmes.csv``: one row per programme (national innovative-city pilot, Broadband
  China demonstration cities, low-carbon city pilots, national digital-economy innovation pilot
  zones) with the authority, the batches found and the batches still missing.
* ``policy_pilots.csv``: one row per (programme, batch, listed unit): the listed name as printed,
  the year of designation, the ``level`` of the listed unit (``prefecture``; ``district`` or
  ``new_area``: a part of a prefecture-level unit, e.g. 海淀区; ``county``: a county-level city
  such as 昆山; ``province``: a whole province), the unit code (``adcode``: the prefecture-level
  unit itself, the prefecture containing a district or county-level city, or the province code
  ``XX0000`` for province-level rows), the approving document as far as it was read, the
  ``status`` and the ``source``.

Statuses (as in the agglomeration registry): ``confirmed`` (named on an official government
page: www.gov.cn or the city government's own site), ``secondary`` (named on third-party pages
quoting the announcement; two agreeing pages where found), ``not confirmed`` (a membership that
a source suggests but no page names). No row is guessed: batches whose list was not found are
listed as missing in ``policy_programmes.csv`` and are absent from ``policy_pilots.csv``.

Sources (read with a search over stored public web pages in November 2025; dates are the
pages' own; the texts are summarised, never copied):

``gov2010``
    http://big5.www.gov.cn/gate/big5/www.gov.cn/jrzg/2010-01-11/content_1507320.htm
    (www.gov.cn, 2010-01-11, from 科技日报): at the national science and technology work
    conference of 2010-01-10 the Ministry of Science and Technology (科技部) gave plaques to the
    first 20 national innovative pilot cities (districts) of 2010 and names all 20 with their
    provinces (four of them districts: 北京市海淀区, 天津市滨海新区, 上海市杨浦区, 重庆市沙坪坝区).
``xian2010``
    http://markspestcontrol.com/fcjj/fangchan/zhoubianfangchan/2010-03-31/3939.html
    (2010-03-31, a reprint of a 西安 news item): the same 20 pilot cities (districts), 西安 among
    them.
``sz2009``
    https://www.sz.gov.cn/zfgb/2009/gb638/content/post_4998664.html (深圳市人民政府 gazette,
    2009-02-19, 深府〔2009〕9号): the implementation plan of Shenzhen's national innovative-city
    master plan, citing the 2008 master plan 深府〔2008〕201号.
``sz2008``
    http://lsbar.com/law/44883 (a reprint of 深府〔2008〕201号, 2008-09-21): Shenzhen's
    2008-2015 national innovative-city master plan, "the first national innovative-city plan",
    which rests on 国家发展改革委关于深圳市创建国家创新型城市的复函.
``js2022``
    http://m.njpanjin.com/cn/Instant/local/202202/t20220217_7148067.html (2022-02-17, from
    新华日报): in January 2022 the Ministry of Science and Technology published a new list of
    cities to build innovative cities; 淮安 and 宿迁 were approved (the other cities of that list
    are not named).
``bb2014``
    https://lemofix.com/2014-10/09/content_523070.htm (2014-10-09): the Ministry of Industry and
    Information Technology (工信部) named 39 cities (city clusters) as 2014 Broadband China
    demonstration cities and lists them: 4 municipalities and city clusters, 35 other cities and
    province-administered counties.
``bb2016a``
    http://m.ytjhdl.cn/hy/tx/351300.html (2016-07-26): 工信部 and 发改委 published the 39 Broadband
    China demonstration cities of 2016 (listed), and repeat the 2014 list as an annex; 117
    cities in 2014-2016, 39 per year.
``bb2016b``
    http://wuhan.baogaosu.com/xinwen/...48977486 (2016-07-27, 湖北省经信委 via a news site):
    the same 2016 list of 39 and the 2014 list.
``bb2015fj``
    http://m.ttkx8.com/contents/13/5421.html (2015-10, 人民邮电报): 工信部 and 发改委 announced 39
    cities (city clusters) for 2015 on 19 October; 莆田 is one of them (the others are not named).
``bb2015sd``
    http://www.yunhepan.com/news/327467.shtml (2015): the 2015 list has 39 cities; 东营, 济宁 and
    德州 of Shandong are among them.
``bb2015nm``
    http://huhehaote.baogaosu.com/xinwen/...48993115 (2016-07-27, 内蒙古晨报): 包头, 乌海, 通辽 in
    2016; 呼和浩特 and 鄂尔多斯 were named in 2015.
``lc2010a``
    http://nankezia.com/sj/2010-08/11/content_248109.htm (2010-08-11): the NDRC issued
    《国家发展改革委关于开展低碳省区和低碳城市试点工作的通知》 on 10 August 2010: five provinces
    (广东, 辽宁, 湖北, 陕西, 云南) and eight cities (天津, 重庆, 深圳, 厦门, 杭州, 南昌, 贵阳, 保定).
``lc2010b``
    http://010baizhang.com/economics/2010-08/19/content_20744760.htm (2010-08-19, 中广网): the
    same five provinces and eight cities started the pilot on 18 August 2010.
``lc2017cz``
    http://fgw.changzhou.gov.cn/html/fgw/2017/BBAOLMPL_0120/21935.html (常州市发展改革委,
    2017-01-20): 常州 is one of the 45 cities of the third batch of national low-carbon city
    pilots, 《国家发展改革委关于开展第三批国家低碳城市试点工作的通知》 (发改气候〔2017〕66号).
``de2019a``
    http://web.twsp.net/v/54726.html (科技日报, 2019-10-20): at the 6th World Internet Conference
    six provinces/municipalities were named national digital-economy innovation pilot zones:
    浙江省, 河北省 (雄安新区), 福建省, 广东省, 重庆市, 四川省.
``de2019b``
    http://chinahongdou.com/xwzx/PoliticsNews/201910/t20191021_12211317.htm (2019-10-21, the
    same 科技日报 report) and https://m.news.shi-fen.com/china/201910/50-502281.html (央视,
    2019-10): the same six, with the NDRC's and the Cyberspace Administration's implementation
    plan.

What is missing (no page naming the units was found): the innovative-city lists after 2010
other than 淮安 and 宿迁 (http://m.jizihe.com/page/2019/0228/18840457.shtml, 2019-02-28, says
78 cities had been approved as pilots; http://www.xilaier.cn/page20?article_id=572, undated, that
103 cities (districts) had been supported), 33 of the 39 Broadband China cities of
2015, the second low-carbon batch (2012) and 44 of the 45 cities of the third (2017).
"""

from __future__ import annotations

import argparse
from pathlib import Path

SOURCES = {
    "gov2010": "http://big5.www.gov.cn/gate/big5/www.gov.cn/jrzg/2010-01-11/content_1507320.htm "
               "(www.gov.cn, 2010-01-11: 科技部 named the first 20 pilot cities (districts))",
    "xian2010": "http://markspestcontrol.com/fcjj/fangchan/zhoubianfangchan/2010-03-31/3939.html "
                "(2010-03-31: the same 20)",
    "sz2009": "https://www.sz.gov.cn/zfgb/2009/gb638/content/post_4998664.html (深圳市人民政府, "
              "2009-02-19: implementation plan of the 2008 national innovative-city master plan)",
    "sz2008": "http://lsbar.com/law/44883 (深府〔2008〕201号, 2008-09-21: the master plan, citing "
              "the NDRC's reply on Shenzhen building a national innovative city)",
    "js2022": "http://m.njpanjin.com/cn/Instant/local/202202/t20220217_7148067.html (2022-02-17: "
              "淮安 and 宿迁 approved in January 2022)",
    "bb2014": "https://lemofix.com/2014-10/09/content_523070.htm (2014-10-09: the 39 of 2014)",
    "bb2016a": "http://m.ytjhdl.cn/hy/tx/351300.html (2016-07-26: the 39 of 2016; the 2014 list "
               "as annex)",
    "bb2016b": "http://wuhan.baogaosu.com/xinwen/%25E5%25B9%25B4%25E5%25BA%25A6%25E5%25AE%25BD"
               "%25E5%25B8%25A6%25E4%25B8%25AD%25E5%259B%25BD%25E7%25A4%25BA%25E8%258C%2583"
               "%25E5%259F%258E%25E5%25B8%2582%25E7%25A4%25BA%25E8%258C%2583%25E5%259F%258E"
               "%25E5%25B8%2582/48977486 (2016-07-27: the 39 of 2016 and the 2014 list)",
    "bb2015fj": "http://m.ttkx8.com/contents/13/5421.html (2015-10: 莆田 among the 39 of 2015)",
    "bb2015sd": "http://www.yunhepan.com/news/327467.shtml (2015: 东营, 济宁, 德州 among the 39 "
                "of 2015)",
    "bb2015nm": "http://huhehaote.baogaosu.com/xinwen/%E7%A4%BA%E8%8C%83%E5%9F%8E%E5%B8%82%E5%B8"
                "%82%E4%B8%8A%E6%A6%9C%E5%AE%BD%E5%B8%A6%E4%B8%AD%E5%9B%BD%E7%A4%BA%E8%8C%83"
                "%E5%9F%8E%E5%B8%82/48993115 (2016-07-27: 呼和浩特 and 鄂尔多斯 named in 2015)",
    "lc2010a": "http://nankezia.com/sj/2010-08/11/content_248109.htm (2010-08-11: five provinces "
               "and eight cities)",
    "lc2010b": "http://010baizhang.com/economics/2010-08/19/content_20744760.htm (2010-08-19: the "
               "same five provinces and eight cities)",
    "lc2017cz": "http://fgw.changzhou.gov.cn/html/fgw/2017/BBAOLMPL_0120/21935.html (常州市发展改革委, "
                "2017-01-20: 常州 in the third batch of 45, 发改气候〔2017〕66号)",
    "de2019a": "http://web.twsp.net/v/54726.html (科技日报, 2019-10-20: the six pilot zones)",
    "de2019b": "http://chinahongdou.com/xwzx/PoliticsNews/201910/t20191021_12211317.htm "
               "(2019-10-21) ; https://m.news.shi-fen.com/china/201910/50-502281.html (2019-10): "
               "the same six",
}

PROGRAMMES = [
    ("innovative_city", "国家创新型城市（试点）", "National innovative-city pilot",
     "国家发展改革委 (深圳 2008); 科技部 and 国家发展改革委 (from 2010)",
     "2008 (深圳); 2010 first batch (20); 2022 (淮安, 宿迁 only)",
     "every list after 2010 except 淮安 and 宿迁 (2022); secondary pages count 78 approved "
     "pilot cities by early 2019 and 103 cities (districts) later",
     "the 2010 batch has four district-level pilots (海淀区, 滨海新区, 杨浦区, 沙坪坝区), flagged "
     "level = district and left out of the treatment unless asked for"),
    ("broadband_china", "“宽带中国”示范城市（城市群）", "Broadband China demonstration cities",
     "工业和信息化部, 国家发展改革委", "2014 (39 listed); 2015 (6 of 39); 2016 (39 listed)",
     "33 of the 39 cities of 2015",
     "长株潭城市群 (2014) is entered as its three cities (长沙, 株洲, 湘潭); 昆山 and 阿拉尔 are "
     "county-level cities; 九龙坡区 and 北碚区 (2016) are districts of 重庆"),
    ("low_carbon_city", "低碳省区和低碳城市试点", "Low-carbon province and city pilots",
     "国家发展改革委", "2010 first batch (5 provinces, 8 cities); 2017 third batch (常州 only)",
     "2012 second batch; 44 of the 45 cities of 2017",
     "province-level pilots (广东, 辽宁, 湖北, 陕西, 云南) are rows of level province"),
    ("digital_economy_zone", "国家数字经济创新发展试验区", "National digital-economy innovation "
     "pilot zones", "国家发展改革委, 中央网信办", "2019 (6 zones)", "",
     "province-level zones; 河北 is represented by 雄安新区 (level new_area, in 保定)"),
]

_IC2010 = "科技部: first national innovative pilot cities (districts), plaques at the national " \
          "science and technology work conference, 2010-01-10 (approval document not read)"
_BB = "工业和信息化部, 国家发展改革委: {y}年度“宽带中国”示范城市（城市群）名单 ({d})"
_LC2010 = "国家发展改革委关于开展低碳省区和低碳城市试点工作的通知 (2010-08-10; number not read)"
_DE = "国家数字经济创新发展试验区实施方案, launched 2019-10-20 (国家发展改革委, 中央网信办)"

# (programme, batch, year, listed name, level, name of the unit the code is taken from, document,
#  status, note, source keys)
ROWS: list[tuple] = [
    ("innovative_city", "2008", 2008, "深圳市", "prefecture", "深圳市",
     "国家发展改革委关于深圳市创建国家创新型城市的复函 (2008; cited by 深府〔2008〕201号)",
     "confirmed", "the first national innovative-city pilot", ("sz2009", "sz2008")),
]
_IC_2010 = [("北京市海淀区", "district", "北京市"), ("天津市滨海新区", "district", "天津市"),
            ("唐山市", "prefecture", None), ("包头市", "prefecture", None),
            ("哈尔滨市", "prefecture", None), ("上海市杨浦区", "district", "上海市"),
            ("南京市", "prefecture", None), ("宁波市", "prefecture", None),
            ("嘉兴市", "prefecture", None), ("合肥市", "prefecture", None),
            ("厦门市", "prefecture", None), ("济南市", "prefecture", None),
            ("洛阳市", "prefecture", None), ("武汉市", "prefecture", None),
            ("长沙市", "prefecture", None), ("广州市", "prefecture", None),
            ("重庆市沙坪坝区", "district", "重庆市"), ("成都市", "prefecture", None),
            ("西安市", "prefecture", None), ("兰州市", "prefecture", None)]
ROWS += [("innovative_city", "2010 first batch", 2010, name, level, unit or name, _IC2010,
          "confirmed", "district-level pilot: the code is that of the city containing it"
          if level == "district" else "", ("gov2010", "xian2010")) for name, level, unit in _IC_2010]
ROWS += [("innovative_city", "2022", 2022, name, "prefecture", name,
          "科技部: new list of cities to build innovative cities, January 2022 (document not read)",
          "secondary", "the other cities of the 2022 list are not in the registry", ("js2022",))
         for name in ("淮安市", "宿迁市")]

_BB2014 = ["北京市", "天津市", "上海市", "石家庄市", "大连市", "本溪市", "延边朝鲜族自治州", "哈尔滨市",
           "大庆市", "南京市", "苏州市", "镇江市", "金华市", "芜湖市", "安庆市", "福州市", "厦门市",
           "泉州市", "南昌市", "上饶市", "青岛市", "淄博市", "威海市", "临沂市", "郑州市", "洛阳市",
           "武汉市", "广州市", "深圳市", "中山市", "成都市", "攀枝花市", "阿坝藏族羌族自治州", "贵阳市",
           "银川市", "吴忠市"]
ROWS += [("broadband_china", "2014", 2014, name, "prefecture", name, _BB.format(y=2014, d="2014-10"),
          "secondary", "listed as 福州市（含平潭）" if name == "福州市" else "",
          ("bb2014", "bb2016a", "bb2016b")) for name in _BB2014]
ROWS += [("broadband_china", "2014", 2014, "长株潭城市群", "prefecture", name,
          _BB.format(y=2014, d="2014-10"), "secondary",
          f"listed as the city cluster 长株潭城市群; entered as its member {name}",
          ("bb2014", "bb2016a", "bb2016b")) for name in ("长沙市", "株洲市", "湘潭市")]
ROWS += [("broadband_china", "2014", 2014, "昆山市", "county", "苏州市",
          _BB.format(y=2014, d="2014-10"), "secondary",
          "county-level city (province-administered county pilot) in 苏州", ("bb2014", "bb2016a")),
         ("broadband_china", "2014", 2014, "阿拉尔市", "county", "阿拉尔市",
          _BB.format(y=2014, d="2014-10"), "secondary",
          "county-level city administered by Xinjiang (opt-in unit group province_county)",
          ("bb2014",))]
_BB2015 = [("莆田市", "bb2015fj"), ("东营市", "bb2015sd"), ("济宁市", "bb2015sd"),
           ("德州市", "bb2015sd"), ("呼和浩特市", "bb2015nm"), ("鄂尔多斯市", "bb2015nm")]
ROWS += [("broadband_china", "2015", 2015, name, "prefecture", name,
          _BB.format(y=2015, d="2015-10-19"), "secondary",
          "one of 39; the full 2015 list was not found", (src,)) for name, src in _BB2015]
_BB2016 = ["阳泉市", "晋中市", "乌海市", "包头市", "通辽市", "沈阳市", "牡丹江市", "无锡市", "泰州市",
           "南通市", "杭州市", "宿州市", "黄山市", "马鞍山市", "吉安市", "烟台市", "枣庄市", "商丘市",
           "焦作市", "南阳市", "鄂州市", "衡阳市", "益阳市", "玉林市", "海口市", "雅安市", "泸州市",
           "南充市", "遵义市", "文山壮族苗族自治州", "拉萨市", "林芝市", "渭南市", "武威市", "酒泉市",
           "天水市", "西宁市"]
ROWS += [("broadband_china", "2016", 2016, name, "prefecture", name,
          _BB.format(y=2016, d="2016-07-25"), "secondary", "", ("bb2016a", "bb2016b"))
         for name in _BB2016]
ROWS += [("broadband_china", "2016", 2016, name, "district", "重庆市",
          _BB.format(y=2016, d="2016-07-25"), "secondary",
          "district of 重庆: the code is that of the municipality", ("bb2016a", "bb2016b"))
         for name in ("九龙坡区", "北碚区")]
ROWS += [("low_carbon_city", "2010 first batch", 2010, name, "province", name, _LC2010,
          "secondary", "province-level pilot", ("lc2010a", "lc2010b"))
         for name in ("广东省", "辽宁省", "湖北省", "陕西省", "云南省")]
ROWS += [("low_carbon_city", "2010 first batch", 2010, name, "prefecture", name, _LC2010,
          "secondary", "", ("lc2010a", "lc2010b"))
         for name in ("天津市", "重庆市", "深圳市", "厦门市", "杭州市", "南昌市", "贵阳市", "保定市")]
ROWS += [("low_carbon_city", "2017 third batch", 2017, "常州市", "prefecture", "常州市",
          "国家发展改革委关于开展第三批国家低碳城市试点工作的通知 (发改气候〔2017〕66号)",
          "confirmed", "one of 45; the other 44 are not in the registry", ("lc2017cz",))]
ROWS += [("digital_economy_zone", "2019", 2019, name, "province", name, _DE, "secondary",
          "province-level zone", ("de2019a", "de2019b"))
         for name in ("浙江省", "福建省", "广东省", "重庆市", "四川省")]
ROWS += [("digital_economy_zone", "2019", 2019, "河北省（雄安新区）", "new_area", "保定市", _DE,
          "not confirmed", "listed as 河北省 (雄安新区); 雄安新区 (雄县, 容城, 安新) lies in 保定: "
          "the code is 保定's; whether all of 河北 is covered is not stated", ("de2019a", "de2019b"))]

_PROVINCES = {"广东省": "440000", "辽宁省": "210000", "湖北省": "420000", "陕西省": "610000",
              "云南省": "530000", "浙江省": "330000", "福建省": "350000", "四川省": "510000",
              "重庆市": "500000"}


def _code(level: str, name: str, year: int) -> str:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from spatialinno.cities import lookup

    if level == "province":
        return _PROVINCES[name]
    return lookup(name, year)


def build(out: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from spatialinno.cities import registry
    from spatialinno.data.build_registry import write_csv

    names = registry("all").set_index("adcode")["name"]
    rows = []
    for prog, batch, year, listed, level, unit, doc, status, note, keys in ROWS:
        code = _code(level, unit, year)
        rows.append(dict(programme=prog, batch=batch, year=year, listed_name=listed, level=level,
                         adcode=code, unit_name=names.get(code, unit), document=doc,
                         status=status, note=note,
                         source=" ; ".join(SOURCES[k] for k in keys)))
    progs = [dict(programme=p, name_zh=zh, name_en=en, authority=auth, batches_found=found,
                  missing=missing, rows=sum(r["programme"] == p for r in rows), note=note)
             for p, zh, en, auth, found, missing, note in PROGRAMMES]
    write_csv(out / "policy_programmes.csv", progs)
    write_csv(out / "policy_pilots.csv", rows)
    print(f"{len(rows)} pilot rows in {len(progs)} programmes")


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=here)
    build(ap.parse_args().out)


if __name__ == "__main__":
    main()
