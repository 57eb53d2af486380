"""The made-up city of 滨江市 (Binjiang): districts, roads, residential communities."""

from dataclasses import dataclass

CITY_ZH = "滨江市"
CITY_EN = "Binjiang"
AREA_CODE = "0596"  # landlines: 0596 + 8 digits


@dataclass(frozen=True, slots=True)
class District:
    zh: str
    en: str
    postcode: str  # first five digits; the sixth varies by street


DISTRICTS = (
    District("东湖区", "Donghu District", "36100"),
    District("西城区", "Xicheng District", "36101"),
    District("南山区", "Nanshan District", "36102"),
    District("北河区", "Beihe District", "36103"),
    District("江北区", "Jiangbei District", "36104"),
    District("滨海新区", "Binhai New Area", "36105"),
    District("高新区", "Hi-Tech Zone", "36106"),
    District("青石县", "Qingshi County", "36110"),
)
# Residents are not spread evenly: the old town is dense, the county sparse.
DISTRICT_WEIGHTS = (22, 20, 15, 12, 11, 9, 7, 4)

ROADS = (
    ("人民路", "Renmin Road"),
    ("解放路", "Jiefang Road"),
    ("中山路", "Zhongshan Road"),
    ("建设路", "Jianshe Road"),
    ("文化路", "Wenhua Road"),
    ("和平路", "Heping Road"),
    ("新华路", "Xinhua Road"),
    ("长江路", "Changjiang Road"),
    ("滨江大道", "Binjiang Avenue"),
    ("光明街", "Guangming Street"),
    ("学府路", "Xuefu Road"),
    ("科技路", "Keji Road"),
    ("青年路", "Qingnian Road"),
    ("胜利路", "Shengli Road"),
    ("湖滨路", "Hubin Road"),
    ("望江路", "Wangjiang Road"),
)

COMMUNITIES = (
    ("阳光花园", "Sunshine Garden"),
    ("锦绣家园", "Jinxiu Homes"),
    ("翠湖小区", "Cuihu Estate"),
    ("金色港湾", "Golden Harbour"),
    ("幸福里", "Xingfu Lane"),
    ("碧水湾", "Bishui Bay"),
    ("银杏苑", "Ginkgo Court"),
    ("和谐新村", "Hexie New Village"),
    ("紫荆花园", "Bauhinia Garden"),
    ("江景华庭", "River View Court"),
    ("书香门第", "Shuxiang Residence"),
    ("绿城桂花园", "Osmanthus Garden"),
)
